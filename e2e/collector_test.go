package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/driftlock/driftlock/internal/config"
)

// TestCollectorConfig checks deploy/collector-config/config.yaml: every
// signal's pipeline receives OTLP, batches, and exports to DriftLock ingest's
// OTLP port with retries and a sending queue.
func TestCollectorConfig(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "deploy", "collector-config", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Receivers  map[string]any `yaml:"receivers"`
		Processors map[string]any `yaml:"processors"`
		Exporters  map[string]struct {
			Endpoint       string         `yaml:"endpoint"`
			RetryOnFailure map[string]any `yaml:"retry_on_failure"`
			SendingQueue   map[string]any `yaml:"sending_queue"`
		} `yaml:"exporters"`
		Service struct {
			Pipelines map[string]struct {
				Receivers, Processors, Exporters []string
			} `yaml:"pipelines"`
		} `yaml:"service"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	grpcPort := port(config.Default().Ingest.GRPCEndpoint)
	httpPort := port(config.Default().Ingest.HTTPEndpoint)
	for name, e := range cfg.Exporters {
		endpoint := strings.TrimSuffix(e.Endpoint, "}")
		if !strings.HasSuffix(endpoint, ":"+grpcPort) && !strings.HasSuffix(endpoint, ":"+httpPort) {
			t.Errorf("exporter %s sends to %q, not DriftLock ingest's OTLP port", name, e.Endpoint)
		}
		if e.RetryOnFailure["enabled"] != true || e.SendingQueue["enabled"] != true {
			t.Errorf("exporter %s needs retry_on_failure and sending_queue enabled", name)
		}
	}
	for _, signal := range []string{"logs", "metrics", "traces"} {
		p, ok := cfg.Service.Pipelines[signal]
		if !ok {
			t.Errorf("no %s pipeline", signal)
			continue
		}
		if !slices.Equal(p.Receivers, []string{"otlp"}) || !slices.Contains(p.Processors, "batch") || len(p.Exporters) == 0 {
			t.Errorf("%s pipeline %+v: want otlp receiver, batch processor and an exporter", signal, p)
		}
		for _, list := range [][]string{p.Processors, p.Exporters} {
			for _, c := range list {
				_, isProc := cfg.Processors[c]
				_, isExp := cfg.Exporters[c]
				if !isProc && !isExp {
					t.Errorf("%s pipeline names undefined component %s", signal, c)
				}
			}
		}
	}
}

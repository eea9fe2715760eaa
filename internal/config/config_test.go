package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	if cfg.Kafka.Brokers[0] != "127.0.0.1:9092" || cfg.Detector.WindowSize != 1024 || cfg.Detector.HopSize != 256 ||
		cfg.Detector.Threshold != 0.9 || cfg.Detector.Seed != 42 || !cfg.Detector.Determinism ||
		cfg.Kafka.EventsTopic != "otlp-events" || cfg.Kafka.AnomaliesTopic != "anomaly-events" ||
		cfg.Console.HTTPEndpoint != want.Console.HTTPEndpoint || cfg.Ingest.GRPCEndpoint != "0.0.0.0:4317" {
		t.Fatalf("defaults not applied: %+v", cfg)
	}
}

func TestLoadFile(t *testing.T) {
	cfg, err := Load("testdata/config.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Kafka.Brokers; len(got) != 1 || got[0] != "broker-a:9092" {
		t.Errorf("brokers = %v", got)
	}
	if cfg.Kafka.SASL.Mechanism != "SCRAM-SHA-512" || cfg.Kafka.Compression != "zstd" {
		t.Errorf("kafka = %+v", cfg.Kafka)
	}
	if cfg.Detector.WindowSize != 2048 || cfg.Detector.HopSize != 512 || cfg.Detector.Seed != 7 {
		t.Errorf("detector = %+v", cfg.Detector)
	}
	if cfg.Detector.Threshold != 0.9 || cfg.Kafka.ClientID != "driftlock" {
		t.Errorf("unset keys lost their defaults: %+v", cfg)
	}
	if len(cfg.Console.WebhookURLs) != 1 {
		t.Errorf("webhooks = %v", cfg.Console.WebhookURLs)
	}
}

func TestLoadLegacyCollectorBlock(t *testing.T) {
	cfg, err := Load("testdata/legacy.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	d, k := cfg.Detector, cfg.Kafka
	if d.WindowSize != 512 || d.HopSize != 128 || d.Threshold != 0.95 || !d.Determinism {
		t.Errorf("detector = %+v", d)
	}
	if len(k.Brokers) != 2 || k.Brokers[1] != "k2:9092" || k.ClientID != "collector" || k.EventsTopic != "telemetry" ||
		k.BatchSize != 50 || k.BatchTimeoutMS != 20 || k.TLSEnabled {
		t.Errorf("kafka = %+v", k)
	}
}

func TestPrecedenceFileEnvFlag(t *testing.T) {
	t.Setenv("DRIFTLOCK_KAFKA_BROKERS", "e1:9092,e2:9092")
	t.Setenv("DRIFTLOCK_DETECTOR_WINDOW_SIZE", "4096")
	t.Setenv("DRIFTLOCK_DETECTOR_HOP_SIZE", "1024")
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	RegisterFlags(fs)
	if err := fs.Parse([]string{"--detector.hop_size=2048"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load("testdata/legacy.yaml", fs)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Kafka.Brokers; len(got) != 2 || got[0] != "e1:9092" || got[1] != "e2:9092" {
		t.Errorf("env brokers = %v", got)
	}
	if cfg.Detector.WindowSize != 4096 {
		t.Errorf("env must win over the file: window_size = %d", cfg.Detector.WindowSize)
	}
	if cfg.Detector.HopSize != 2048 {
		t.Errorf("flag must win over env: hop_size = %d", cfg.Detector.HopSize)
	}
	if cfg.Detector.Threshold != 0.95 {
		t.Errorf("file value lost: threshold = %v", cfg.Detector.Threshold)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"window type", "detector:\n  window_size: abc\n", `invalid value "abc" for detector.window_size: must be an integer`},
		{"threshold range", "detector:\n  threshold: 1.5\n", "invalid value 1.5 for detector.threshold: must be greater than 0 and less than 1"},
		{"hop above window", "detector:\n  window_size: 64\n  hop_size: 65\n", "invalid value 65 for detector.hop_size: must be between 1 and detector.window_size"},
		{"compression", "kafka:\n  compression: brotli\n", `invalid value "brotli" for kafka.compression: must be one of none, gzip, snappy, lz4, zstd`},
		{"sasl", "kafka:\n  sasl: {mechanism: GSSAPI}\n", `invalid value "GSSAPI" for kafka.sasl.mechanism: must be empty (no SASL) or one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`},
		{"broker form", "kafka:\n  brokers: [localhost]\n", `invalid value "localhost" for kafka.brokers: each broker must be host:port`},
		{"partitions", "kafka:\n  topic_partitions: 0\n", "invalid value 0 for kafka.topic_partitions: must be a positive integer"},
		{"compressor", "detector:\n  compressor: xz\n", `invalid value "xz" for detector.compressor: must be one of zstd, gzip, lz4`},
		{"checkpoint records", "detector:\n  checkpoint_records: -1\n", "invalid value -1 for detector.checkpoint_records: must be 0 (off) or a positive integer"},
		{"state topic", "detector:\n  state_topic: \"\"\n", `invalid value "" for detector.state_topic: must name a topic while detector.checkpoint_records is above 0`},
		{"bool", "kafka:\n  tls_enabled: maybe\n", `invalid value "maybe" for kafka.tls_enabled: must be true or false`},
		{"legacy enabled", "processors:\n  driftlock_cbad:\n    kafka:\n      enabled: sometimes\n", "invalid value sometimes for processors.driftlock_cbad.kafka.enabled: must be true or false"},
		{"auth token empty", "ingest:\n  auth:\n    tokens: [\"ci:\"]\n", `invalid value <entry 1> for ingest.auth.tokens: must be "name:token" or "token", the token not empty and without spaces`},
		{"auth token spaces", "ingest:\n  auth:\n    tokens: [good, \"a b\"]\n", `invalid value <entry 2> for ingest.auth.tokens: must be "name:token" or "token", the token not empty and without spaces`},
		{"auth name empty", "ingest:\n  auth:\n    tokens: [\":s3cret\"]\n", `invalid value <entry 1> for ingest.auth.tokens: must be "name:token" or "token", the name not empty and without spaces`},
		{"auth client header alone", "ingest:\n  auth:\n    client_header: true\n", "invalid value true for ingest.auth.client_header: needs tokens in ingest.auth.tokens or ingest.auth.tokens_file, or client certificates (ingest.tls.client_ca_file)"},
		{"auth client header type", "ingest:\n  auth:\n    client_header: yes please\n", `invalid value "yes please" for ingest.auth.client_header: must be true or false`},
		{"tls version", "ingest:\n  tls:\n    min_version: \"1.1\"\n", `invalid value "1.1" for ingest.tls.min_version: must be one of 1.2, 1.3`},
		{"tls cert alone", "ingest:\n  tls:\n    cert_file: /c.pem\n", `invalid value "/c.pem" for ingest.tls.cert_file: needs ingest.tls.key_file`},
		{"tls key alone", "ingest:\n  tls:\n    key_file: /k.pem\n", `invalid value "/k.pem" for ingest.tls.key_file: needs ingest.tls.cert_file`},
		{"tls client ca alone", "ingest:\n  tls:\n    client_ca_file: /ca.pem\n", `invalid value "/ca.pem" for ingest.tls.client_ca_file: needs ingest.tls.cert_file and ingest.tls.key_file`},
		{"tls admin alone", "ingest:\n  tls:\n    admin: true\n", "invalid value true for ingest.tls.admin: needs ingest.tls.cert_file and ingest.tls.key_file"},
		{"legacy threshold", "processors:\n  driftlock_cbad:\n    threshold: 2\n", "invalid value 2 for detector.threshold: must be greater than 0 and less than 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tt.yaml), nil)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant  %s", err, tt.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "none.yaml"), nil); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestKeysCoverEveryField(t *testing.T) {
	keys := Keys()
	for _, want := range []string{"kafka.brokers", "kafka.sasl.mechanism", "detector.window_size", "console.http_endpoint", "ingest.admin_endpoint", "ingest.auth.tokens", "ingest.auth.tokens_file", "ingest.auth.client_header", "ingest.tls.cert_file", "ingest.tls.min_version"} {
		found := false
		for _, k := range keys {
			found = found || k == want
		}
		if !found {
			t.Errorf("Keys() lacks %s", want)
		}
	}
}

func TestAuthDefaultsAndEnv(t *testing.T) {
	cfg, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := cfg.Ingest.Auth; a.Enabled() || a.ClientHeader || a.TokensFile != "" {
		t.Fatalf("auth must be off by default: %+v", a)
	}
	t.Setenv("DRIFTLOCK_INGEST_AUTH_TOKENS", "ci:abc123,def456")
	t.Setenv("DRIFTLOCK_INGEST_AUTH_CLIENT_HEADER", "true")
	if cfg, err = Load("", nil); err != nil {
		t.Fatal(err)
	}
	if a := cfg.Ingest.Auth; !a.Enabled() || !a.ClientHeader || len(a.Tokens) != 2 || a.Tokens[1] != "def456" {
		t.Fatalf("auth from the environment: %+v", a)
	}
}

func TestParseToken(t *testing.T) {
	for _, tt := range []struct{ entry, name, token string }{
		{"ci:abc", "ci", "abc"},
		{"  ci:abc  ", "ci", "abc"},
		{"ci:a:b", "ci", "a:b"},
		{"abc", "ba7816bf", "abc"}, // sha256("abc") starts ba7816bf
	} {
		name, token, err := ParseToken(tt.entry)
		if err != nil || name != tt.name || token != tt.token {
			t.Errorf("ParseToken(%q) = %q, %q, %v; want %q, %q", tt.entry, name, token, err, tt.name, tt.token)
		}
	}
}

func TestTLSMinVersionForms(t *testing.T) {
	for _, body := range []string{"ingest:\n  tls:\n    min_version: 1.3\n", "ingest:\n  tls:\n    min_version: \"1.3\"\n"} {
		cfg, err := Load(writeFile(t, body), nil)
		if err != nil || cfg.Ingest.TLS.MinVersion != "1.3" {
			t.Errorf("%q: %v, %q", body, err, cfg.Ingest.TLS.MinVersion)
		}
	}
	cfg, err := Load("", nil)
	if err != nil || cfg.Ingest.TLS.MinVersion != "1.2" || cfg.Ingest.TLS.Enabled() {
		t.Errorf("TLS defaults: %v, %+v", err, cfg.Ingest.TLS)
	}
}

// TestClientHeaderWithClientCertificates: the client header needs no token
// when client certificates name the clients.
func TestClientHeaderWithClientCertificates(t *testing.T) {
	cfg, err := Load(writeFile(t, "ingest:\n  auth:\n    client_header: true\n  tls:\n    cert_file: /c.pem\n    key_file: /k.pem\n    client_ca_file: /ca.pem\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Ingest.Auth.ClientHeader || cfg.Ingest.Auth.Enabled() {
		t.Errorf("auth %+v, want the client header on without tokens", cfg.Ingest.Auth)
	}
}

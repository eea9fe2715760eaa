package e2e

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/driftlock/driftlock/internal/config"
)

// TestConfigFileDocumentsDefaults checks that configs/driftlock.yaml lists
// every configuration key, nothing else, and loads to exactly the defaults.
func TestConfigFileDocumentsDefaults(t *testing.T) {
	path := filepath.Join("..", "configs", "driftlock.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var inFile []string
	flatten("", doc, &inFile)
	sort.Strings(inFile)
	want := config.Keys()
	for _, k := range want {
		if !slices.Contains(inFile, k) {
			t.Errorf("%s does not document key %s", path, k)
		}
	}
	for _, k := range inFile {
		if !slices.Contains(want, k) {
			t.Errorf("%s has key %s, which is not a configuration key", path, k)
		}
	}
	for _, kv := range os.Environ() { // the file alone must give the defaults
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, config.EnvPrefix+"_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	got, err := config.Load(path, nil)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	if len(got.Console.WebhookURLs) == 0 {
		got.Console.WebhookURLs = nil // "webhook_urls: []" documents the empty default
	}
	if len(got.Ingest.Auth.Tokens) == 0 {
		got.Ingest.Auth.Tokens = nil // so does "tokens: []"
	}
	if want := config.Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("%s loads to\n%+v\nwant the defaults\n%+v", path, got, want)
	}
}

// flatten lists the leaf keys of a YAML mapping as "a.b.c".
func flatten(prefix string, m map[string]any, out *[]string) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			flatten(prefix+k+".", sub, out)
			continue
		}
		*out = append(*out, prefix+k)
	}
}

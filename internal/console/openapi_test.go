package console

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestOpenAPIDocumentsEveryRoute checks api/openapi.yaml parses and has
// every API route with its method.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "api", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                               `yaml:"openapi"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	routes := (&Service{}).routes()
	paths := []string{"GET /healthz", "GET /readyz", "GET /metrics", "GET /login", "POST /login", "POST /logout"}
	for _, rt := range routes {
		paths = append(paths, rt.pattern)
	}
	for _, p := range paths {
		method, path, _ := strings.Cut(p, " ")
		op, ok := doc.Paths[path][strings.ToLower(method)]
		if !ok || op["responses"] == nil {
			t.Errorf("%s is not documented", p)
		}
	}
	if len(doc.Paths) != len(paths)-1 { // /login has two methods
		t.Errorf("openapi.yaml has %d paths, the console serves %d", len(doc.Paths), len(paths)-1)
	}
}

package otlpconv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// schemaPath is api/otlp-event.schema.json from the package directory.
const schemaPath = "../../api/otlp-event.schema.json"

// miniSchema checks a value against the subset of JSON Schema 2020-12 the
// otlp-events schema uses: $ref (local), type, enum, const, required,
// properties, additionalProperties, items, minItems, minimum, pattern,
// format date-time, allOf and if/then.
type miniSchema struct{ root map[string]any }

func (s miniSchema) check(sch map[string]any, v any, path string) error {
	if ref, ok := sch["$ref"].(string); ok {
		def, ok := s.root["$defs"].(map[string]any)[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		if !ok {
			return fmt.Errorf("%s: unresolved $ref %s", path, ref)
		}
		if err := s.check(def, v, path); err != nil {
			return err
		}
	}
	if err := checkScalar(sch, v, path); err != nil {
		return err
	}
	if obj, ok := v.(map[string]any); ok {
		if err := s.checkObject(sch, obj, path); err != nil {
			return err
		}
	}
	if arr, ok := v.([]any); ok {
		if n, ok := sch["minItems"].(float64); ok && len(arr) < int(n) {
			return fmt.Errorf("%s: %d items, want at least %v", path, len(arr), n)
		}
		if items, ok := sch["items"].(map[string]any); ok {
			for i, e := range arr {
				if err := s.check(items, e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
	}
	for _, sub := range asList(sch["allOf"]) {
		sub := sub.(map[string]any)
		if cond, ok := sub["if"].(map[string]any); ok && s.check(cond, v, path) == nil {
			if err := s.check(sub["then"].(map[string]any), v, path); err != nil {
				return err
			}
		}
	}
	return nil
}

func asList(v any) []any { l, _ := v.([]any); return l }

func (s miniSchema) checkObject(sch map[string]any, obj map[string]any, path string) error {
	for _, r := range asList(sch["required"]) {
		if _, ok := obj[r.(string)]; !ok {
			return fmt.Errorf("%s: missing required %q", path, r)
		}
	}
	props, _ := sch["properties"].(map[string]any)
	for k, e := range obj {
		if p, ok := props[k].(map[string]any); ok {
			if err := s.check(p, e, path+"."+k); err != nil {
				return err
			}
			continue
		}
		switch add := sch["additionalProperties"].(type) {
		case bool:
			if !add {
				return fmt.Errorf("%s: property %q not in the schema", path, k)
			}
		case map[string]any:
			if err := s.check(add, e, path+"."+k); err != nil {
				return err
			}
		}
	}
	return nil
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			return "number"
		}
		return "integer"
	case []any:
		return "array"
	}
	return "object"
}

func checkScalar(sch map[string]any, v any, path string) error {
	if t, ok := sch["type"]; ok {
		got, allowed := jsonType(v), append(asList(t), t)
		if !(containsStr(allowed, got) || got == "integer" && containsStr(allowed, "number")) {
			return fmt.Errorf("%s: %s, want type %v", path, got, t)
		}
	}
	if c, ok := sch["const"]; ok && !reflect.DeepEqual(normalize(v), c) {
		return fmt.Errorf("%s: %v, want %v", path, v, c)
	}
	if e, ok := sch["enum"]; ok && !containsStr(asList(e), v) {
		return fmt.Errorf("%s: %v not in %v", path, v, e)
	}
	if m, ok := sch["minimum"].(float64); ok {
		if f, err := v.(json.Number).Float64(); err != nil || f < m {
			return fmt.Errorf("%s: %v below minimum %v", path, v, m)
		}
	}
	if m, ok := sch["minLength"].(float64); ok && float64(utf8.RuneCountInString(v.(string))) < m {
		return fmt.Errorf("%s: %q shorter than %v characters", path, v, m)
	}
	if p, ok := sch["pattern"].(string); ok && !compiled(p).MatchString(v.(string)) {
		return fmt.Errorf("%s: %q does not match %s", path, v, p)
	}
	if sch["format"] == "date-time" {
		if _, err := time.Parse(time.RFC3339Nano, v.(string)); err != nil {
			return fmt.Errorf("%s: %q is not a date-time", path, v)
		}
	}
	return nil
}

var patterns sync.Map // pattern -> *regexp.Regexp

func compiled(p string) *regexp.Regexp {
	if re, ok := patterns.Load(p); ok {
		return re.(*regexp.Regexp)
	}
	re := regexp.MustCompile(p)
	patterns.Store(p, re)
	return re
}

func normalize(v any) any {
	if n, ok := v.(json.Number); ok {
		f, _ := n.Float64()
		return f
	}
	return v
}

func containsStr(list []any, v any) bool {
	for _, e := range list {
		if e == v {
			return true
		}
	}
	return false
}

// loadSchema reads the schema once.
var loadSchemaOnce = sync.OnceValues(func() (miniSchema, error) {
	b, err := os.ReadFile(schemaPath)
	if err != nil {
		return miniSchema{}, err
	}
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		return miniSchema{}, fmt.Errorf("schema is not JSON: %w", err)
	}
	if root["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		return miniSchema{}, fmt.Errorf("schema draft %v", root["$schema"])
	}
	return miniSchema{root}, nil
})

func loadSchema(t testing.TB) miniSchema {
	t.Helper()
	s, err := loadSchemaOnce()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkSchema checks one record value against the schema.
func checkSchema(t testing.TB, value []byte, path string) error {
	s := loadSchema(t)
	v, err := decodeAny(value)
	if err != nil {
		return err
	}
	return s.check(s.root, v, path)
}

func decodeAny(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	return v, dec.Decode(&v)
}

// TestGoldenMatchesSchema checks every golden record against the schema.
func TestGoldenMatchesSchema(t *testing.T) {
	for _, tc := range goldenCases {
		got, err := convertBody(New(testLimits), tc.signal, readTestdata(t, tc.name+".json"), true)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range got.recs {
			if err := checkSchema(t, r.Value, fmt.Sprintf("%s[%d]", tc.name, i)); err != nil {
				t.Error(err)
			}
		}
	}
}

// TestSchemaRejects checks that the checker and schema catch broken records.
func TestSchemaRejects(t *testing.T) {
	s := loadSchema(t)
	bad := []string{
		`{"type":"log","data":{},"timestamp":"1970-01-01T00:00:00.000Z","source":"x"}`,
		`{"type":"trace","data":{},"timestamp":"1970-01-01T00:00:00.000Z","source":"x"}`,
		`{"type":"metric","data":{"name":"m","description":"","unit":"","type":"gauge"},"timestamp":"1970-01-01T00:00:00.000Z","source":"x"}`,
		`{"type":"metric","data":{"name":"m","description":"","unit":"","type":"gauge","gauge":[{"timestamp":"1970-01-01T00:00:00Z","value":"1","attributes":{}}]},"timestamp":"1970-01-01T00:00:00.000Z","source":"x"}`,
		`{"type":"span","data":{"name":"s","kind":"server","trace_id":"AB","span_id":"","start_time":"1970-01-01T00:00:00Z","end_time":"1970-01-01T00:00:00Z","duration_ns":0,"status_code":"ok","attributes":{}},"timestamp":"1970-01-01T00:00:00.000Z","source":"x"}`,
		`{"type":"log","data":{"timestamp":"1970-01-01T00:00:00Z","severity":"","body":null,"severity_number":0,"flags":0,"attributes":{},"scope_name":""},"timestamp":"1970-01-01T00:00:00.000Z","source":"x"}`,
		`{"type":"span","data":{"name":"s","kind":"server","trace_id":"ab","span_id":"cd","start_time":"1970-01-01T00:00:00Z","end_time":"1970-01-01T00:00:00Z","duration_ns":0,"status_code":"ok","attributes":{},"scope_version":2},"timestamp":"1970-01-01T00:00:00.000Z","source":"x"}`,
		`{"type":"log","data":{"timestamp":"yesterday","severity":"","body":null,"severity_number":0,"flags":0,"attributes":{}},"timestamp":"1970-01-01T00:00:00.000Z","source":"x"}`,
	}
	for i, b := range bad {
		v, err := decodeAny([]byte(b))
		if err != nil {
			t.Fatal(err)
		}
		err = s.check(s.root, v, "bad")
		t.Logf("bad record %d: %v", i, err)
		if err == nil {
			t.Errorf("bad record %d passed the schema", i)
		}
	}
}

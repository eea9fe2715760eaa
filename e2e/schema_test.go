package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// schema is a JSON Schema (draft 2020-12) with the keywords the files in
// api/ use: type, enum, const, properties, required, additionalProperties,
// items, minItems, maxItems, minimum, maximum, exclusiveMinimum,
// exclusiveMaximum, minLength, pattern, format date-time, allOf,
// if/then/else, not and local $ref. Unknown keywords fail the validation,
// so the checker cannot pass silently over a schema it does not understand.
type schema struct {
	root map[string]any
}

var (
	schemasMu sync.Mutex
	schemas   = map[string]*schema{}
)

// loadSchema reads api/<name> once per run; it returns nil when the file is
// missing, and callers then fall back to the contract's required keys.
func loadSchema(t *testing.T, name string) *schema {
	t.Helper()
	schemasMu.Lock()
	defer schemasMu.Unlock()
	if s, ok := schemas[name]; ok {
		return s
	}
	b, err := os.ReadFile(filepath.Join(repoRoot, "api", name))
	if err != nil {
		t.Logf("api/%s not found (%v): checking the contract's required keys only", name, err)
		schemas[name] = nil
		return nil
	}
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatalf("api/%s: %v", name, err)
	}
	s := &schema{root: root}
	schemas[name] = s
	return s
}

// Validate checks one JSON document against the schema.
func (s *schema) Validate(doc []byte) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	return s.check(s.root, v, "$")
}

var ignoredKeywords = map[string]bool{"$schema": true, "$id": true, "$defs": true, "title": true, "description": true, "examples": true}

func (s *schema) check(sch map[string]any, v any, at string) error {
	for k, kv := range sch {
		if ignoredKeywords[k] || k == "then" || k == "else" {
			continue
		}
		if err := s.keyword(sch, k, kv, v, at); err != nil {
			return err
		}
	}
	return nil
}

func (s *schema) keyword(sch map[string]any, k string, kv, v any, at string) error {
	switch k {
	case "type":
		return checkType(kv, v, at)
	case "enum":
		for _, e := range kv.([]any) {
			if equalJSON(e, v) {
				return nil
			}
		}
		return fmt.Errorf("%s: %v is not one of %v", at, v, kv)
	case "const":
		if !equalJSON(kv, v) {
			return fmt.Errorf("%s: %v, want %v", at, v, kv)
		}
	case "$ref":
		ref, _ := kv.(string)
		defs, _ := s.root["$defs"].(map[string]any)
		sub, ok := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		if !ok {
			return fmt.Errorf("%s: unsupported $ref %q", at, ref)
		}
		return s.check(sub, v, at)
	case "allOf":
		for _, sub := range kv.([]any) {
			if err := s.check(sub.(map[string]any), v, at); err != nil {
				return err
			}
		}
	case "not":
		if s.check(kv.(map[string]any), v, at) == nil {
			return fmt.Errorf("%s: matches a schema it must not match", at)
		}
	case "if":
		branch := "else"
		if s.check(kv.(map[string]any), v, at) == nil {
			branch = "then"
		}
		if sub, ok := sch[branch].(map[string]any); ok {
			return s.check(sub, v, at)
		}
	default:
		return s.valueKeyword(sch, k, kv, v, at)
	}
	return nil
}

func (s *schema) valueKeyword(sch map[string]any, k string, kv, v any, at string) error {
	switch k {
	case "properties", "required", "additionalProperties":
		return s.object(sch, k, kv, v, at)
	case "items":
		arr, ok := v.([]any)
		for i := 0; ok && i < len(arr); i++ {
			if err := s.check(kv.(map[string]any), arr[i], fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case "minItems":
		if arr, ok := v.([]any); ok && float64(len(arr)) < num(kv) {
			return fmt.Errorf("%s: %d items, want at least %v", at, len(arr), kv)
		}
	case "maxItems":
		if arr, ok := v.([]any); ok && float64(len(arr)) > num(kv) {
			return fmt.Errorf("%s: %d items, want at most %v", at, len(arr), kv)
		}
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
		return checkBound(k, num(kv), v, at)
	case "minLength":
		if str, ok := v.(string); ok && float64(len([]rune(str))) < num(kv) {
			return fmt.Errorf("%s: %q shorter than %v", at, str, kv)
		}
	case "pattern":
		if str, ok := v.(string); ok && !regexp.MustCompile(kv.(string)).MatchString(str) {
			return fmt.Errorf("%s: %q does not match %s", at, str, kv)
		}
	case "format":
		if str, ok := v.(string); ok && kv == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				return fmt.Errorf("%s: %q is not a date-time", at, str)
			}
		}
	default:
		return fmt.Errorf("%s: schema keyword %q not supported by the checker", at, k)
	}
	return nil
}

func (s *schema) object(sch map[string]any, k string, kv, v any, at string) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	switch k {
	case "required":
		for _, r := range kv.([]any) {
			if _, ok := obj[r.(string)]; !ok {
				return fmt.Errorf("%s: required key %q missing", at, r)
			}
		}
	case "properties":
		for name, sub := range kv.(map[string]any) {
			if pv, ok := obj[name]; ok {
				if err := s.check(sub.(map[string]any), pv, at+"."+name); err != nil {
					return err
				}
			}
		}
	case "additionalProperties":
		return checkAdditional(s, sch, obj, at)
	}
	return nil
}

// checkAdditional checks the keys of obj that properties does not list.
func checkAdditional(s *schema, sch map[string]any, obj map[string]any, at string) error {
	props, _ := sch["properties"].(map[string]any)
	for name, pv := range obj {
		if _, ok := props[name]; ok {
			continue
		}
		switch ap := sch["additionalProperties"].(type) {
		case bool:
			if !ap {
				return fmt.Errorf("%s: unexpected key %q", at, name)
			}
		case map[string]any:
			if err := s.check(ap, pv, at+"."+name); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkType(kv, v any, at string) error {
	types := []string{}
	switch tv := kv.(type) {
	case string:
		types = append(types, tv)
	case []any:
		for _, x := range tv {
			types = append(types, x.(string))
		}
	}
	if slices.Contains(types, jsonType(v)) || (jsonType(v) == "integer" && slices.Contains(types, "number")) {
		return nil
	}
	return fmt.Errorf("%s: %s, want %v", at, jsonType(v), types)
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if _, err := x.Int64(); err == nil || !strings.ContainsAny(x.String(), ".eE") {
			return "integer"
		}
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	return 0
}

func checkBound(k string, bound float64, v any, at string) error {
	n, ok := v.(json.Number)
	if !ok {
		return nil
	}
	f, _ := n.Float64()
	bad := (k == "minimum" && f < bound) || (k == "maximum" && f > bound) ||
		(k == "exclusiveMinimum" && f <= bound) || (k == "exclusiveMaximum" && f >= bound)
	if bad {
		return fmt.Errorf("%s: %v breaks %s %v", at, f, k, bound)
	}
	return nil
}

func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// TestSchemaChecker checks the checker itself on small schemas.
func TestSchemaChecker(t *testing.T) {
	s := &schema{root: map[string]any{}}
	if err := json.Unmarshal([]byte(`{
	  "type": "object", "required": ["type", "n"], "additionalProperties": false,
	  "properties": {"type": {"enum": ["log", "span"]}, "n": {"type": "integer", "minimum": 0},
	                 "id": {"type": "string", "pattern": "^[0-9a-f]+$"}, "data": {"$ref": "#/$defs/d"}},
	  "allOf": [{"if": {"properties": {"type": {"const": "log"}}}, "then": {"required": ["data"]}}],
	  "$defs": {"d": {"type": "object", "required": ["body"]}}}`), &s.root); err != nil {
		t.Fatal(err)
	}
	for doc, ok := range map[string]bool{
		`{"type": "span", "n": 1}`:                       true,
		`{"type": "log", "n": 1, "data": {"body": "x"}}`: true,
		`{"type": "log", "n": 1}`:                        false, // if/then: data required
		`{"type": "log", "n": 1, "data": {}}`:            false, // $ref: body required
		`{"type": "metric", "n": 1}`:                     false, // enum
		`{"type": "span", "n": -1}`:                      false, // minimum
		`{"type": "span", "n": 1.5}`:                     false, // integer
		`{"type": "span", "n": 1, "id": "XYZ"}`:          false, // pattern
		`{"type": "span", "n": 1, "extra": true}`:        false, // additionalProperties
		`{"type": "span"}`:                               false, // required
	} {
		if err := s.Validate([]byte(doc)); (err == nil) != ok {
			t.Errorf("%s: error %v, want valid=%v", doc, err, ok)
		}
	}
}

// TestEventSchemaRejects checks that api/otlp-event.schema.json, read by the
// checker, refuses records that break the contract.
func TestEventSchemaRejects(t *testing.T) {
	s := loadSchema(t, "otlp-event.schema.json")
	if s == nil {
		t.Skip("api/otlp-event.schema.json not present")
	}
	for _, doc := range []string{
		`{"type": "log", "data": {}, "timestamp": "2026-01-01T00:00:00.000Z", "source": "otlp-http"}`,
		`{"type": "trace", "data": {}, "timestamp": "2026-01-01T00:00:00.000Z", "source": "otlp-http"}`,
		`{"type": "log", "data": {"body": "x"}, "source": "otlp-http"}`,
	} {
		if err := s.Validate([]byte(doc)); err == nil {
			t.Errorf("%s: accepted, want an error", doc)
		}
	}
}

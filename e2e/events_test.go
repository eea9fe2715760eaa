package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// eventSchemaPath is the JSON Schema of otlp-events records.
const eventSchemaPath = "api/otlp-event.schema.json"

// requiredData lists, per event type, the data keys CONTRACT.md promises.
var requiredData = map[string][]string{
	"log":    {"timestamp", "severity", "body", "severity_number", "flags", "attributes"},
	"metric": {"name", "description", "unit", "type"},
	"span":   {"name", "trace_id", "span_id", "attributes"},
}

// schemaRequired returns the top-level required keys of the event schema, or
// the contract's four when the schema is not there.
func schemaRequired() []string {
	keys := []string{"type", "data", "timestamp", "source"}
	b, err := os.ReadFile(filepath.Join(repoRoot, eventSchemaPath))
	if err != nil {
		return keys
	}
	var s struct {
		Required []string `json:"required"`
	}
	if json.Unmarshal(b, &s) == nil && len(s.Required) > 0 {
		return s.Required
	}
	return keys
}

// checkEvent checks one otlp-events record against the contract: valid
// against api/otlp-event.schema.json, the required keys, an RFC 3339 timestamp, the stream key as record key and
// the four headers. It returns the decoded event.
func checkEvent(t *testing.T, r record, service string) (map[string]any, error) {
	if s := loadSchema(t, "otlp-event.schema.json"); s != nil {
		if err := s.Validate([]byte(r.Value())); err != nil {
			return nil, fmt.Errorf("offset %d: not valid against api/otlp-event.schema.json: %v: %s", r.Offset, err, r.Value())
		}
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(r.Value()), &ev); err != nil {
		return nil, fmt.Errorf("offset %d: value is not JSON: %v", r.Offset, err)
	}
	for _, k := range schemaRequired() {
		if _, ok := ev[k]; !ok {
			return nil, fmt.Errorf("offset %d: required key %q missing in %s", r.Offset, k, r.Value())
		}
	}
	typ, _ := ev["type"].(string)
	data, ok := ev["data"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("offset %d: data is not an object", r.Offset)
	}
	for _, k := range requiredData[typ] {
		if _, ok := data[k]; !ok {
			return nil, fmt.Errorf("offset %d: %s data lacks %q: %s", r.Offset, typ, k, r.Value())
		}
	}
	ts, _ := ev["timestamp"].(string)
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || !strings.HasSuffix(ts, "Z") {
		return nil, fmt.Errorf("offset %d: timestamp %q is not RFC 3339 UTC", r.Offset, ts)
	}
	want := service + "|" + typ
	if typ == "metric" {
		want += "|" + fmt.Sprint(data["name"])
	}
	if r.KeyString() != want {
		return nil, fmt.Errorf("offset %d: key %q, want %q", r.Offset, r.KeyString(), want)
	}
	for h, v := range map[string]string{"driftlock-event-type": typ, "service.name": service, "content-type": "application/json"} {
		if got := r.Header(h); got != v {
			return nil, fmt.Errorf("offset %d: header %s = %q, want %q", r.Offset, h, got, v)
		}
	}
	if r.Header("driftlock-source") == "" || r.Header("driftlock-source") != fmt.Sprint(ev["source"]) {
		return nil, fmt.Errorf("offset %d: header driftlock-source %q does not match source %v", r.Offset, r.Header("driftlock-source"), ev["source"])
	}
	return ev, nil
}

// logBody returns data.body of a log event as text.
func logBody(ev map[string]any) string {
	data, _ := ev["data"].(map[string]any)
	if s, ok := data["body"].(string); ok {
		return s
	}
	return fmt.Sprint(data["body"])
}

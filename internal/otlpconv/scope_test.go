package otlpconv

import (
	"encoding/json"
	"fmt"
	"testing"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// scopedLogs is one resource with three scopes: named and versioned, only
// versioned (with characters JSON escapes), and none.
func scopedLogs() *collogspb.ExportLogsServiceRequest {
	return &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource: &resourcepb.Resource{Attributes: kvs("service.name", "checkout")},
		ScopeLogs: []*logspb.ScopeLogs{
			{Scope: &commonpb.InstrumentationScope{Name: "orders", Version: "2.0.1"}, LogRecords: []*logspb.LogRecord{{Body: str("a")}, {Body: str("b")}}},
			{Scope: &commonpb.InstrumentationScope{Version: "v\"1\u2028"}, LogRecords: []*logspb.LogRecord{{Body: str("c")}}},
			{LogRecords: []*logspb.LogRecord{{Body: str("d")}}},
		},
	}}}
}

// scopedMetrics is scopedLogs for metrics.
func scopedMetrics() *colmetricspb.ExportMetricsServiceRequest {
	return &colmetricspb.ExportMetricsServiceRequest{ResourceMetrics: []*metricspb.ResourceMetrics{{
		Resource: &resourcepb.Resource{Attributes: kvs("service.name", "checkout")},
		ScopeMetrics: []*metricspb.ScopeMetrics{
			{Scope: &commonpb.InstrumentationScope{Name: "orders", Version: "2.0.1"}, Metrics: []*metricspb.Metric{gauge("a", dpoint(1, 1)), gauge("b", dpoint(2, 2))}},
			{Scope: &commonpb.InstrumentationScope{Version: "v\"1\u2028"}, Metrics: []*metricspb.Metric{gauge("c", dpoint(3, 3))}},
			{Metrics: []*metricspb.Metric{gauge("d", dpoint(4, 4))}},
		},
	}}}
}

// wantScopes are the scopes of the four records of scopedLogs and
// scopedMetrics.
var wantScopes = [][2]string{{"orders", "2.0.1"}, {"orders", "2.0.1"}, {"", "v\"1\u2028"}, {"", ""}}

// recordScopes reads the scope name and version of each record; an empty
// one written as a key fails t.
func recordScopes(t *testing.T, recs []Record) [][2]string {
	t.Helper()
	var out [][2]string
	for _, r := range recs {
		var ev struct {
			Data map[string]json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(r.Value, &ev); err != nil {
			t.Fatal(err)
		}
		var s [2]string
		for i, k := range []string{"scope_name", "scope_version"} {
			if raw, ok := ev.Data[k]; ok {
				if err := json.Unmarshal(raw, &s[i]); err != nil || s[i] == "" {
					t.Fatalf("%s: %s is %s, want a non-empty string or no key", r.Value, k, raw)
				}
			}
		}
		out = append(out, s)
	}
	return out
}

func sameScopes(t *testing.T, path string, got [][2]string) {
	t.Helper()
	if len(got) != len(wantScopes) {
		t.Fatalf("%s: %d records, want %d", path, len(got), len(wantScopes))
	}
	for i := range got {
		if got[i] != wantScopes[i] {
			t.Errorf("%s: record %d has scope %q, want %q", path, i, got[i], wantScopes[i])
		}
	}
}

// TestScopeOnEveryPath checks that each record carries the name and version
// of its own scope on the protobuf-go path, the wire path (which must take
// these requests) and OTLP/JSON.
func TestScopeOnEveryPath(t *testing.T) {
	c := New(testLimits)
	for _, tc := range []struct {
		signal string
		req    proto.Message
		wire   func(c *Converter, body []byte, source string) ([]Record, []Rejection, error)
	}{
		{"logs", scopedLogs(), (*Converter).LogsProto},
		{"metrics", scopedMetrics(), (*Converter).MetricsProto},
	} {
		body := mustMarshal(t, tc.req)
		if !compareWire(t, tc.signal, testLimits, body) {
			t.Errorf("%s: the wire path left the request", tc.signal)
		}
		recs, _, err := tc.wire(c, body, testSource)
		if err != nil {
			t.Fatal(err)
		}
		sameScopes(t, tc.signal+" wire", recordScopes(t, recs))
		for _, isJSON := range []bool{false, true} {
			in := body
			if isJSON {
				if in, err = protojson.Marshal(tc.req); err != nil {
					t.Fatal(err)
				}
			}
			got, err := convertBody(c, tc.signal, in, isJSON)
			if err != nil {
				t.Fatal(err)
			}
			sameScopes(t, fmt.Sprintf("%s (JSON %v)", tc.signal, isJSON), recordScopes(t, got.recs))
		}
	}
}

// TestWireScopeAfterItems checks a ScopeLogs whose scope comes after its
// log records on the wire, which protobuf allows: the records still carry
// it, as protobuf-go decoding gives them.
func TestWireScopeAfterItems(t *testing.T) {
	rec := mustMarshal(t, &logspb.LogRecord{Body: str("late")})
	scope := mustMarshal(t, &commonpb.InstrumentationScope{Name: "late.logger", Version: "3"})
	scopeLogs := protowireAppend(protowireAppend(nil, protowire.Number(2), rec), 1, scope)
	resource := mustMarshal(t, &resourcepb.Resource{Attributes: kvs("service.name", "checkout")})
	body := protowireAppend(nil, 1, protowireAppend(protowireAppend(nil, 1, resource), 2, scopeLogs))
	if !compareWireLogs(t, testLimits, body) {
		t.Fatal("the wire path left the request")
	}
	got, err := convertBody(New(testLimits), "logs", body, false)
	if err != nil {
		t.Fatal(err)
	}
	if s := recordScopes(t, got.recs); len(s) != 1 || s[0] != [2]string{"late.logger", "3"} {
		t.Errorf("scopes %q, want late.logger 3", s)
	}
}

// TestWireScopeTwice checks that a ScopeLogs with two scopes, which
// protobuf-go merges, is left to protobuf-go: the wire path reads one.
func TestWireScopeTwice(t *testing.T) {
	rec := mustMarshal(t, &logspb.LogRecord{Body: str("twice")})
	first := mustMarshal(t, &commonpb.InstrumentationScope{Name: "first"})
	second := mustMarshal(t, &commonpb.InstrumentationScope{Version: "2"})
	scopeLogs := protowireAppend(protowireAppend(protowireAppend(nil, 1, first), 2, rec), 1, second)
	body := protowireAppend(nil, 1, protowireAppend(nil, 2, scopeLogs))
	if _, ok := checkWire(body, logsRequestRules); ok {
		t.Fatal("the wire path took a ScopeLogs with two scopes")
	}
	compareWireLogs(t, testLimits, body)
	got, err := convertBody(New(testLimits), "logs", body, false)
	if err != nil {
		t.Fatal(err)
	}
	if s := recordScopes(t, got.recs); len(s) != 1 || s[0] != [2]string{"first", "2"} {
		t.Errorf("scopes %q, want the merged first 2", s)
	}
}

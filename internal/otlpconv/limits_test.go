package otlpconv

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

func str(s string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
}

func dbl(f float64) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: f}}
}

func arr(vs ...*commonpb.AnyValue) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vs}}}
}

func kvs(pairs ...any) []*commonpb.KeyValue {
	var out []*commonpb.KeyValue
	for i := 0; i < len(pairs); i += 2 {
		v, ok := pairs[i+1].(*commonpb.AnyValue)
		if !ok {
			v = str(pairs[i+1].(string))
		}
		out = append(out, &commonpb.KeyValue{Key: pairs[i].(string), Value: v})
	}
	return out
}

func logsReq(res []*commonpb.KeyValue, recs ...*logspb.LogRecord) *collogspb.ExportLogsServiceRequest {
	return &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource:  &resourcepb.Resource{Attributes: res},
		ScopeLogs: []*logspb.ScopeLogs{{LogRecords: recs}},
	}}}
}

func metricsReq(res []*commonpb.KeyValue, ms ...*metricspb.Metric) *colmetricspb.ExportMetricsServiceRequest {
	return &colmetricspb.ExportMetricsServiceRequest{ResourceMetrics: []*metricspb.ResourceMetrics{{
		Resource:     &resourcepb.Resource{Attributes: res},
		ScopeMetrics: []*metricspb.ScopeMetrics{{Metrics: ms}},
	}}}
}

func gauge(name string, pts ...*metricspb.NumberDataPoint) *metricspb.Metric {
	return &metricspb.Metric{Name: name, Data: &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{DataPoints: pts}}}
}

func dpoint(ts uint64, v float64) *metricspb.NumberDataPoint {
	return &metricspb.NumberDataPoint{TimeUnixNano: ts, Value: &metricspb.NumberDataPoint_AsDouble{AsDouble: v}}
}

func wantRejections(t *testing.T, got []Rejection, want ...Rejection) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("rejections %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("rejection %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// checkAll runs checkRecord on every record and checks each value is capped.
func checkAll(t *testing.T, recs []Record) {
	t.Helper()
	for i, r := range recs {
		if err := checkRecord(r); err != nil {
			t.Errorf("record %d: %v", i, err)
		}
		if cap(r.Value) != len(r.Value) {
			t.Errorf("record %d: value capacity %d beyond its length %d", i, cap(r.Value), len(r.Value))
		}
	}
}

func TestTooLarge(t *testing.T) {
	c := New(Limits{MaxRecordBytes: 300})
	req := logsReq(kvs("service.name", "checkout"),
		&logspb.LogRecord{Body: str("small")},
		&logspb.LogRecord{Body: str(strings.Repeat("x", 400))},
		&logspb.LogRecord{Body: str("after")},
	)
	recs, rejs := c.Logs(req, testSource)
	wantRejections(t, rejs, Rejection{Reason: "too_large", Items: 1,
		Message: `log record 1 (service "checkout"): encoded size 613 bytes exceeds the limit of 300 bytes`})
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	checkAll(t, recs)
	if !strings.Contains(string(recs[1].Value), `"body":"after"`) {
		t.Errorf("second record is %s", recs[1].Value)
	}
}

func TestTooLargeMetricNamesMetric(t *testing.T) {
	c := New(Limits{MaxRecordBytes: 300})
	req := metricsReq(nil, gauge("ok", dpoint(1, 1)), gauge("big", dpoint(1, 1), dpoint(2, 2), dpoint(3, 3)))
	recs, rejs := c.Metrics(req, testSource)
	wantRejections(t, rejs, Rejection{Reason: "too_large", Items: 3,
		Message: `metric 1 (service "unknown_service", metric "big"): encoded size 370 bytes exceeds the limit of 300 bytes`})
	if len(recs) != 1 || recs[0].Key != "unknown_service|metric|ok" {
		t.Fatalf("records %+v", recs)
	}
	checkAll(t, recs)
}

func TestTooManyAttributes(t *testing.T) {
	c := New(Limits{MaxAttributes: 3})
	res := kvs("service.name", "checkout", "host.name", "a")
	req := logsReq(res,
		&logspb.LogRecord{Attributes: kvs("host.name", "b", "k", "v")}, // 3 after merge
		&logspb.LogRecord{Attributes: kvs("k1", "v", "k2", "v")},       // 4
	)
	recs, rejs := c.Logs(req, testSource)
	wantRejections(t, rejs, Rejection{Reason: "too_many_attributes", Items: 1,
		Message: `log record 1 (service "checkout"): 4 attributes exceed the limit of 3`})
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	checkAll(t, recs)
}

func TestTooManySpanEventAttributes(t *testing.T) {
	c := New(Limits{MaxAttributes: 1})
	req := &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{{
			Name:   "s",
			Events: []*tracepb.Span_Event{{Name: "e", Attributes: kvs("a", "1", "b", "2")}},
		}}}},
	}}}
	recs, rejs := c.Traces(req, testSource)
	wantRejections(t, rejs, Rejection{Reason: "too_many_attributes", Items: 1,
		Message: `span 0 (service "unknown_service"): 2 event attributes exceed the limit of 1`})
	if len(recs) != 0 {
		t.Fatalf("%d records, want 0", len(recs))
	}
}

func TestTooDeep(t *testing.T) {
	c := New(Limits{MaxAttributeDepth: 2})
	req := logsReq(nil,
		&logspb.LogRecord{Attributes: kvs("ok", arr(arr(str("x"))))},
		&logspb.LogRecord{Attributes: kvs("deep", arr(arr(arr(str("x")))))},
		&logspb.LogRecord{Body: arr(arr(arr()))},
	)
	recs, rejs := c.Logs(req, testSource)
	msg := `(service "unknown_service"): a value nests arrays or lists deeper than the limit of 2 levels`
	wantRejections(t, rejs,
		Rejection{Reason: "too_deep", Items: 1, Message: "log record 1 " + msg},
		Rejection{Reason: "too_deep", Items: 1, Message: "log record 2 " + msg})
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	checkAll(t, recs)
}

// TestCyclicValue checks that a value that contains itself, which only code
// can build, ends at the hard depth limit.
func TestCyclicValue(t *testing.T) {
	a := &commonpb.ArrayValue{}
	v := &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: a}}
	a.Values = []*commonpb.AnyValue{v}
	_, rejs := New(Limits{}).Logs(logsReq(nil, &logspb.LogRecord{Body: v}), testSource)
	if len(rejs) != 1 || rejs[0].Reason != "too_deep" {
		t.Fatalf("rejections %+v", rejs)
	}
}

func TestNonFiniteNumbers(t *testing.T) {
	stale := dpoint(5, math.NaN())
	stale.Flags = noRecordedValue
	req := metricsReq(kvs("service.name", "svc"),
		gauge("temp", dpoint(1, 20.5), dpoint(2, math.NaN()), dpoint(3, math.Inf(-1)), stale, &metricspb.NumberDataPoint{TimeUnixNano: 9}),
		gauge("gone", dpoint(1, math.Inf(1))),
		&metricspb.Metric{Name: "empty"},
		gauge("", dpoint(1, 1), dpoint(2, 2)),
	)
	recs, rejs := New(testLimits).Metrics(req, testSource)
	prefix := `metric 0 (service "svc", metric "temp"): point `
	wantRejections(t, rejs,
		Rejection{Reason: "invalid", Items: 1, Message: prefix + "1 has value NaN, which JSON cannot carry; point dropped"},
		Rejection{Reason: "invalid", Items: 1, Message: prefix + "2 has value -Infinity, which JSON cannot carry; point dropped"},
		Rejection{Reason: "invalid", Items: 1, Message: prefix + "4 has no value, which JSON cannot carry; point dropped"},
		Rejection{Reason: "invalid", Items: 1, Message: `metric 1 (service "svc", metric "gone"): point 0 has value Infinity, which JSON cannot carry; point dropped`},
		Rejection{Reason: "invalid", Items: 0, Message: `metric 2 (service "svc", metric "empty"): metric has no data`},
		Rejection{Reason: "invalid", Items: 2, Message: `metric 3 (service "svc", metric ""): metric has no name`},
	)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	checkAll(t, recs)
	want := `"gauge":[{"timestamp":"1970-01-01T00:00:00.000000001Z","value":20.5,"attributes":{"service.name":"svc"}}]}`
	if !strings.Contains(string(recs[0].Value), want) {
		t.Errorf("value %s\nlacks %s", recs[0].Value, want)
	}
}

func TestNonFiniteAttributesAreStrings(t *testing.T) {
	req := logsReq(nil, &logspb.LogRecord{Body: arr(dbl(math.NaN()), dbl(math.Inf(1)), dbl(math.Inf(-1)), dbl(math.Copysign(0, -1)))})
	recs, rejs := New(testLimits).Logs(req, testSource)
	if len(rejs) != 0 || len(recs) != 1 {
		t.Fatalf("records %d, rejections %+v", len(recs), rejs)
	}
	if want := `"body":["NaN","Infinity","-Infinity",-0]`; !strings.Contains(string(recs[0].Value), want) {
		t.Errorf("value %s\nlacks %s", recs[0].Value, want)
	}
}

func TestInvalidUTF8IsReplaced(t *testing.T) {
	req := logsReq(kvs("service.name", "a\xffb"), &logspb.LogRecord{
		Body: str("bad \xc3\x28 byte \u2028 sep"), Attributes: kvs("k\xfe", "\x80"),
	})
	c := converted{}
	c.recs, c.rejects = New(testLimits).Logs(req, testSource)
	c.refs = refLogs(req, testSource)
	if err := compareReference(c); err != nil {
		t.Fatal(err)
	}
	checkAll(t, c.recs)
	if want := `"body":"bad \ufffd( byte \u2028 sep"`; !strings.Contains(string(c.recs[0].Value), want) {
		t.Errorf("value %s\nlacks %s", c.recs[0].Value, want)
	}
}

func TestStreamKeys(t *testing.T) {
	cases := []struct {
		name          string
		res           []*commonpb.KeyValue
		want, service string
	}{
		{"named", kvs("service.name", "checkout"), "checkout|log", "checkout"},
		{"missing", kvs("host.name", "h"), "unknown_service|log", "unknown_service"},
		{"empty", kvs("service.name", ""), "unknown_service|log", "unknown_service"},
		{"not a string", []*commonpb.KeyValue{{Key: "service.name", Value: dbl(1)}}, "unknown_service|log", "unknown_service"},
		{"duplicate, last wins", kvs("service.name", "a", "service.name", "b"), "b|log", "b"},
		{"bar in name", kvs("service.name", "a|b"), "a_b|log", "a|b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			recs, _ := New(testLimits).Logs(logsReq(tc.res, &logspb.LogRecord{}), testSource)
			if len(recs) != 1 || recs[0].Key != tc.want {
				t.Fatalf("records %+v, want key %q", recs, tc.want)
			}
			if recs[0].Service != tc.service {
				t.Errorf("service %q, want %q", recs[0].Service, tc.service)
			}
		})
	}
	recs, _ := New(testLimits).Metrics(metricsReq(kvs("service.name", "checkout"), gauge("http.server.duration", dpoint(1, 1))), "otlp-grpc")
	if len(recs) != 1 || recs[0].Key != "checkout|metric|http.server.duration" || recs[0].Source != "otlp-grpc" {
		t.Fatalf("metric records %+v", recs)
	}
}

// TestIndexSpansResources checks that item indexes in messages count over
// the whole request.
func TestIndexSpansResources(t *testing.T) {
	req := logsReq(nil, &logspb.LogRecord{})
	req.ResourceLogs = append(req.ResourceLogs, logsReq(kvs("service.name", "b"), &logspb.LogRecord{Attributes: kvs("x", "1", "y", "2")}).ResourceLogs...)
	_, rejs := New(Limits{MaxAttributes: 2}).Logs(req, testSource)
	wantRejections(t, rejs, Rejection{Reason: "too_many_attributes", Items: 1,
		Message: `log record 1 (service "b"): 3 attributes exceed the limit of 2`})
}

func TestNilEntriesAndEmptyRequests(t *testing.T) {
	c := New(testLimits)
	if recs, rejs := c.Logs(&collogspb.ExportLogsServiceRequest{}, testSource); len(recs)+len(rejs) != 0 {
		t.Fatal("empty request gave output")
	}
	req := logsReq([]*commonpb.KeyValue{nil, {Key: "k"}}, &logspb.LogRecord{Attributes: []*commonpb.KeyValue{nil}})
	recs, rejs := c.Logs(req, testSource)
	if len(rejs) != 0 || len(recs) != 1 {
		t.Fatalf("records %d, rejections %+v", len(recs), rejs)
	}
	checkAll(t, recs)
	if want := `"attributes":{"k":null}`; !strings.Contains(string(recs[0].Value), want) {
		t.Errorf("value %s\nlacks %s", recs[0].Value, want)
	}
}

// TestConcurrentUse converts from several goroutines at once; under -race
// this checks the pooled state, and every result must equal the first.
func TestConcurrentUse(t *testing.T) {
	c := New(testLimits)
	req := benchLogs()
	want, _ := c.Logs(req, testSource)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			for range 20 {
				got, _ := c.Logs(req, testSource)
				for i := range got {
					if string(got[i].Value) != string(want[i].Value) || got[i].Key != want[i].Key {
						errs <- fmt.Sprintf("record %d differs: %s", i, got[i].Value)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

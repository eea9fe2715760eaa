package otlpconv

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"
)

// sameOutput says where two conversions differ: records (key, value,
// type, service, source) or rejections.
func sameOutput(recs []Record, rejs []Rejection, wrecs []Record, wrejs []Rejection) error {
	if len(recs) != len(wrecs) {
		return fmt.Errorf("%d records, want %d", len(recs), len(wrecs))
	}
	for i, r := range recs {
		w := wrecs[i]
		if r.Key != w.Key || r.Type != w.Type || r.Service != w.Service || r.Source != w.Source || string(r.Value) != string(w.Value) {
			return fmt.Errorf("record %d:\n got %q %s %q %q %s\nwant %q %s %q %q %s",
				i, r.Key, r.Type, r.Service, r.Source, r.Value, w.Key, w.Type, w.Service, w.Source, w.Value)
		}
	}
	if !slices.Equal(rejs, wrejs) {
		return fmt.Errorf("rejections %+v\nwant %+v", rejs, wrejs)
	}
	return nil
}

// compareWireLogs checks LogsProto against protobuf-go decoding and the
// converter on body, under limits l: the same records, rejections and
// error. The wire path must take body exactly when the fast decoder does;
// compareWireLogs reports whether it did. The body is overwritten after
// the conversion: no record may point into it.
func compareWireLogs(t *testing.T, l Limits, body []byte) bool {
	t.Helper()
	n, took := checkWire(body, logsRequestRules)
	if _, ferr := fastDecodeLogs(body); took != (ferr == nil) {
		t.Fatalf("wire path takes the body: %v; fast decoder error: %v", took, ferr)
	}
	c := New(l)
	recs, rejs, err := c.LogsProto(slices.Clone(body), testSource)
	ref := &collogspb.ExportLogsServiceRequest{}
	if rerr := proto.Unmarshal(body, ref); rerr != nil {
		_, derr := DecodeLogs(body, false)
		if took || err == nil || err.Error() != derr.Error() {
			t.Fatalf("protobuf-go: %v; LogsProto (took %v): %v, want %v", rerr, took, err, derr)
		}
		return false
	}
	if err != nil {
		t.Fatalf("LogsProto: %v; protobuf-go accepts the body", err)
	}
	if took && n != countLogs(ref) {
		t.Fatalf("counted %d log records, want %d", n, countLogs(ref))
	}
	wrecs, wrejs := c.Logs(ref, testSource)
	if err := sameOutput(recs, rejs, wrecs, wrejs); err != nil {
		t.Fatal(err)
	}
	return took
}

// wireLogsRequests are requests the wire path must take: every field it
// reads, and every limit it enforces.
func wireLogsRequests() []*collogspb.ExportLogsServiceRequest {
	deep := arr(arr(arr(str("x"))))
	kvl := &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{
		Values: []*commonpb.KeyValue{{Key: "z", Value: deep}, {Key: "a", Value: str("1")}, {Key: "a", Value: str("2")}}}}}
	big := &logspb.LogRecord{Body: str(strings.Repeat("x", 5000))}
	many := &logspb.LogRecord{Attributes: kvs("a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6", "g", "7",
		"h", "8", "i", "9", "j", "10", "k", "11", "l", "12", "m", "13", "n", "14", "o", "15", "p", "16", "q", "17")}
	return append(fastLogsRequests(),
		logsReq(kvs("service.name", "a|b", "host.name", "h", "deep", deep), big, many,
			&logspb.LogRecord{Body: deep, SeverityNumber: 17},
			&logspb.LogRecord{Body: kvl, Attributes: kvs("host.name", "own", "service.name", "x", "nan", dbl(math.NaN())), TimeUnixNano: math.MaxUint64},
			&logspb.LogRecord{ObservedTimeUnixNano: 5, SeverityText: "\u2028\"", Attributes: kvs("b", "1", "a", "2", "b", "3")}),
		logsReq([]*commonpb.KeyValue{{Key: "service.name", Value: dbl(1)}, {Key: "k"}}, &logspb.LogRecord{}),
		logsReq(kvs("service.name", "a", "service.name", "b"), &logspb.LogRecord{TraceId: make([]byte, 16)}),
	)
}

func TestWireLogsMatchesConverter(t *testing.T) {
	var bodies [][]byte
	for _, req := range wireLogsRequests() {
		body, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, body)
	}
	bench, err := proto.Marshal(benchLogs())
	if err != nil {
		t.Fatal(err)
	}
	bodies = append(bodies, bench, protoBody(t, "logs", readTestdata(t, "logs.json")))
	for i, body := range bodies {
		for _, l := range []Limits{testLimits, fuzzLimits, {MaxAttributeDepth: 2, MaxAttributes: 3}} {
			if !compareWireLogs(t, l, body) {
				t.Errorf("request %d: the wire path left an ordinary request", i)
			}
		}
	}
}

func TestWireLogsLeavesOddInputs(t *testing.T) {
	withUnknown := protowireAppend(nil, 1, protowireAppend(nil, 99, []byte("x")))
	twiceResource := protowireAppend(nil, 1, append(protowireAppend(nil, 1, nil), protowireAppend(nil, 1, nil)...))
	badUTF8 := protowireAppend(nil, 1, protowireAppend(nil, 3, []byte{0xff}))
	for name, body := range map[string][]byte{
		"unknown field": withUnknown, "resource twice": twiceResource, "invalid utf-8": badUTF8,
		"truncated": {0x0a, 0x05, 0x01},
	} {
		if _, ok := checkWire(body, logsRequestRules); ok {
			t.Errorf("%s: the wire path took it", name)
		}
		compareWireLogs(t, testLimits, body)
	}
}

func FuzzWireLogs(f *testing.F) {
	addSeeds(f, "logs", false)
	for _, req := range wireLogsRequests() {
		body, err := proto.Marshal(req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		compareWireLogs(t, fuzzLimits, body)
		compareWireLogs(t, testLimits, body)
	})
}

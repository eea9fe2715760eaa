package otlpconv

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// compareFastLogs checks the fast logs decoder against protobuf-go on body:
// when the fast decoder accepts it, protobuf-go must accept it too and
// decode the same message, and both must convert to the same records,
// byte for byte. It reports whether the fast decoder accepted body.
func compareFastLogs(t *testing.T, body []byte) bool {
	t.Helper()
	fast, ferr := fastDecodeLogs(body)
	ref := &collogspb.ExportLogsServiceRequest{}
	rerr := proto.Unmarshal(body, ref)
	if ferr != nil {
		return false
	}
	if rerr != nil {
		t.Fatalf("fast decoder accepted a body protobuf-go rejects (%v)", rerr)
	}
	if !proto.Equal(fast, ref) {
		t.Fatalf("fast decoder differs from protobuf-go:\nfast %v\nref  %v", fast, ref)
	}
	c := New(fuzzLimits)
	frecs, frejs := c.Logs(fast, testSource)
	rrecs, rrejs := c.Logs(ref, testSource)
	if got, want := fmt.Sprint(frecs, frejs), fmt.Sprint(rrecs, rrejs); got != want {
		t.Fatalf("records differ:\nfast %s\nref  %s", got, want)
	}
	return true
}

// fastLogsRequests are requests the fast decoder must take, covering every
// field it reads.
func fastLogsRequests() []*collogspb.ExportLogsServiceRequest {
	kvl := &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{
		Values: []*commonpb.KeyValue{{Key: "k", Value: str("v")}, {Key: "empty"}}}}}
	full := &logspb.LogRecord{
		TimeUnixNano: 1, ObservedTimeUnixNano: 2, SeverityNumber: logspb.SeverityNumber_SEVERITY_NUMBER_WARN,
		SeverityText: "WARN", Body: arr(str("é"), dbl(math.Inf(-1)), kvl, &commonpb.AnyValue{}),
		Attributes: []*commonpb.KeyValue{
			{Key: "b", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: true}}},
			{Key: "i", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: -5}}},
			{Key: "y", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte{}}}},
			{Key: "z", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte{0, 1}}}},
			{Key: "s", Value: str("")},
		},
		DroppedAttributesCount: 3, Flags: 1, TraceId: bytes.Repeat([]byte{1}, 16), SpanId: bytes.Repeat([]byte{2}, 8),
		EventName: "ev",
	}
	return []*collogspb.ExportLogsServiceRequest{
		{},
		logsReq(kvs("service.name", "s"), full, &logspb.LogRecord{}),
		{ResourceLogs: []*logspb.ResourceLogs{{
			Resource:  &resourcepb.Resource{Attributes: kvs("service.name", "a"), DroppedAttributesCount: 1},
			SchemaUrl: "https://x",
			ScopeLogs: []*logspb.ScopeLogs{
				{Scope: &commonpb.InstrumentationScope{Name: "n", Version: "v", Attributes: kvs("a", "b"), DroppedAttributesCount: 2},
					SchemaUrl: "u", LogRecords: []*logspb.LogRecord{full}},
				{},
			},
		}, {}}},
	}
}

func TestFastLogsMatchesProtobuf(t *testing.T) {
	for i, req := range fastLogsRequests() {
		body, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		if !compareFastLogs(t, body) {
			t.Errorf("request %d: the fast decoder gave up on an ordinary request", i)
		}
	}
	for _, tc := range goldenCases {
		if tc.signal == "logs" {
			compareFastLogs(t, protoBody(t, "logs", readTestdata(t, tc.name+".json")))
		}
	}
}

func TestFastLogsLeavesOddInputs(t *testing.T) {
	withUnknown := protowireAppend(nil, 1, protowireAppend(nil, 99, []byte("x")))
	twiceResource := protowireAppend(nil, 1, append(protowireAppend(nil, 1, nil), protowireAppend(nil, 1, nil)...))
	badUTF8 := protowireAppend(nil, 1, protowireAppend(nil, 3, []byte{0xff}))
	deep := &commonpb.AnyValue{}
	for range fastMaxDepth + 2 {
		deep = arr(deep)
	}
	deepBody, err := proto.Marshal(logsReq(nil, &logspb.LogRecord{Body: deep}))
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{
		"unknown field": withUnknown, "resource twice": twiceResource, "invalid utf-8": badUTF8,
		"too deep": deepBody, "truncated": {0x0a, 0x05, 0x01},
	} {
		if _, err := fastDecodeLogs(body); err == nil {
			t.Errorf("%s: the fast decoder took it", name)
		}
		// DecodeLogs still answers as protobuf-go does.
		_, got := DecodeLogs(body, false)
		rerr := proto.Unmarshal(body, &collogspb.ExportLogsServiceRequest{})
		if (got == nil) != (rerr == nil) || (got != nil && !strings.Contains(got.Error(), rerr.Error())) {
			t.Errorf("%s: DecodeLogs error %v, protobuf-go %v", name, got, rerr)
		}
	}
}

// protowireAppend appends field num as a length-delimited field holding v.
func protowireAppend(b []byte, num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
}

func FuzzFastLogs(f *testing.F) {
	addSeeds(f, "logs", false)
	for _, req := range fastLogsRequests() {
		body, err := proto.Marshal(req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) { compareFastLogs(t, body) })
}

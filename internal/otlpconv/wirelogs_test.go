package otlpconv

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/encoding/protowire"
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

// wireSignals says, per signal, how the wire path is called and what it is
// compared with.
var wireSignals = map[string]struct {
	rules   []rule
	wire    func(c *Converter, body []byte) ([]Record, []Rejection, error)
	decode  func(body []byte) (proto.Message, error)
	count   func(req proto.Message) int
	convert func(c *Converter, req proto.Message) ([]Record, []Rejection)
}{
	"logs": {
		rules: logsRequestRules,
		wire: func(c *Converter, body []byte) ([]Record, []Rejection, error) {
			return c.LogsProto(body, testSource)
		},
		decode: func(body []byte) (proto.Message, error) { return DecodeLogs(body, false) },
		count:  func(req proto.Message) int { return countLogs(req.(*collogspb.ExportLogsServiceRequest)) },
		convert: func(c *Converter, req proto.Message) ([]Record, []Rejection) {
			return c.Logs(req.(*collogspb.ExportLogsServiceRequest), testSource)
		},
	},
	"metrics": {
		rules: metricsRequestRules,
		wire: func(c *Converter, body []byte) ([]Record, []Rejection, error) {
			return c.MetricsProto(body, testSource)
		},
		decode: func(body []byte) (proto.Message, error) { return DecodeMetrics(body, false) },
		count:  func(req proto.Message) int { return countMetrics(req.(*colmetricspb.ExportMetricsServiceRequest)) },
		convert: func(c *Converter, req proto.Message) ([]Record, []Rejection) {
			return c.Metrics(req.(*colmetricspb.ExportMetricsServiceRequest), testSource)
		},
	},
}

// compareWire checks the wire path of signal against protobuf-go decoding
// and the converter on body, under limits l: the same records, rejections
// and error; compareWire reports whether the wire path took body. The wire path converts a copy
// of body that is overwritten afterwards: no record may point into it.
func compareWire(t *testing.T, signal string, l Limits, body []byte) bool {
	t.Helper()
	sig := wireSignals[signal]
	compareReadField(t, body)
	n, took := checkWire(body, sig.rules)
	c := New(l)
	scratch := slices.Clone(body)
	recs, rejs, err := sig.wire(c, scratch)
	clear(scratch)
	ref, derr := sig.decode(body)
	if derr != nil {
		if took || err == nil || err.Error() != derr.Error() {
			t.Fatalf("wire path (took %v): %v, want %v", took, err, derr)
		}
		return false
	}
	if err != nil {
		t.Fatalf("wire path: %v; the decoder accepts the body", err)
	}
	if took && n != sig.count(ref) {
		t.Fatalf("counted %d items, want %d", n, sig.count(ref))
	}
	wrecs, wrejs := sig.convert(c, ref)
	if err := sameOutput(recs, rejs, wrecs, wrejs); err != nil {
		t.Fatal(err)
	}
	return took
}

func compareWireLogs(t *testing.T, l Limits, body []byte) bool {
	t.Helper()
	return compareWire(t, "logs", l, body)
}

// compareReadField checks readField against protowire on the first field
// of body.
func compareReadField(t *testing.T, body []byte) {
	t.Helper()
	wantNum, wantTyp, size := protowire.ConsumeField(body)
	num, typ, u, next := readField(body, 0)
	group := wantTyp == protowire.StartGroupType || wantTyp == protowire.EndGroupType
	if (size >= 0 && !group) != (next >= 0) {
		t.Fatalf("protowire field size %d (type %d), readField next %d", size, wantTyp, next)
	}
	if next < 0 {
		return
	}
	if num != wantNum || typ != wantTyp || next != size {
		t.Fatalf("readField %d %d ends at %d, protowire %d %d ends at %d", num, typ, next, wantNum, wantTyp, size)
	}
	_, _, tag := protowire.ConsumeTag(body)
	var want uint64
	switch typ {
	case protowire.VarintType:
		want, _ = protowire.ConsumeVarint(body[tag:])
	case protowire.Fixed64Type:
		want, _ = protowire.ConsumeFixed64(body[tag:])
	case protowire.Fixed32Type:
		v, _ := protowire.ConsumeFixed32(body[tag:])
		want = uint64(v)
	case protowire.BytesType:
		v, _ := protowire.ConsumeBytes(body[tag:])
		want = uint64(len(v))
	}
	if u != want {
		t.Fatalf("readField value %d, protowire %d", u, want)
	}
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
	return append(sampleLogsRequests(),
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
		bodies = append(bodies, mustMarshal(t, req))
	}
	bodies = append(bodies, mustMarshal(t, benchLogs()), protoBody(t, "logs", readTestdata(t, "logs.json")))
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

// fuzzWire fuzzes the wire path of signal with mutated protobuf bodies,
// starting from the golden requests and reqs.
func fuzzWire[M proto.Message](f *testing.F, signal string, reqs []M) {
	addSeeds(f, signal, false)
	for _, req := range reqs {
		f.Add(mustMarshal(f, req))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		compareWire(t, signal, fuzzLimits, body)
		compareWire(t, signal, testLimits, body)
	})
}

// fuzzWireBuilt fuzzes the wire path of signal with requests that build
// makes from the fuzz input; it must take them all.
func fuzzWireBuilt[M proto.Message](f *testing.F, signal string, seed []byte, build func(*fuzzBuilder) M) {
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		body := mustMarshal(t, build(&fuzzBuilder{data: data}))
		if !compareWire(t, signal, fuzzLimits, body) {
			t.Fatal("the wire path left a request built in code")
		}
		compareWire(t, signal, Limits{MaxAttributes: 3, MaxAttributeDepth: 2, MaxRecordBytes: 300}, body)
	})
}

func FuzzWireLogs(f *testing.F) { fuzzWire(f, "logs", wireLogsRequests()) }

// fuzzBuilder builds valid requests from fuzz input, so that the fuzzer
// reaches the wire path's attribute merging, sorting and limits, which
// mutated protobuf rarely does.
type fuzzBuilder struct{ data []byte }

func (g *fuzzBuilder) byte() byte {
	if len(g.data) == 0 {
		return 0
	}
	c := g.data[0]
	g.data = g.data[1:]
	return c
}

var fuzzKeys = []string{"service.name", "a", "b", "host.name", "", "ü", "a|b", "\u2028"}

// scope is no scope, or one whose name and version may each be empty.
func (g *fuzzBuilder) scope() *commonpb.InstrumentationScope {
	c := g.byte()
	if c%3 == 0 {
		return nil
	}
	return &commonpb.InstrumentationScope{Name: fuzzKeys[c/3%8], Version: fuzzKeys[c/24%8]}
}

func (g *fuzzBuilder) attrs(depth int) []*commonpb.KeyValue {
	var out []*commonpb.KeyValue
	for n := g.byte() % 6; n > 0; n-- {
		out = append(out, &commonpb.KeyValue{Key: fuzzKeys[g.byte()%8], Value: g.value(depth)})
	}
	return out
}

func (g *fuzzBuilder) value(depth int) *commonpb.AnyValue {
	c := g.byte()
	switch c % 9 {
	case 0:
		return nil
	case 1:
		return str(fuzzKeys[c/9%8])
	case 2:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: int64(c) - 200}}
	case 3:
		return dbl([]float64{math.NaN(), math.Inf(1), 1e-7, 0.5, -1e21}[c/9%5])
	case 4:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: c&16 != 0}}
	case 5:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte{c}[:c%2]}}
	case 6:
		if depth < 6 {
			return arr(g.elem(depth+1), g.elem(depth+1))
		}
	case 7:
		if depth < 6 {
			return &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: g.attrs(depth + 1)}}}
		}
	}
	return &commonpb.AnyValue{}
}

// elem is a value that is never nil, for arrays.
func (g *fuzzBuilder) elem(depth int) *commonpb.AnyValue {
	if v := g.value(depth); v != nil {
		return v
	}
	return &commonpb.AnyValue{}
}

func (g *fuzzBuilder) logs() *collogspb.ExportLogsServiceRequest {
	req := &collogspb.ExportLogsServiceRequest{}
	for n := g.byte() % 3; n > 0; n-- {
		var recs []*logspb.LogRecord
		for m := g.byte() % 4; m > 0; m-- {
			c := g.byte()
			recs = append(recs, &logspb.LogRecord{
				TimeUnixNano: uint64(c&1) * 1e18, ObservedTimeUnixNano: uint64(c&2) * 7, SeverityNumber: logspb.SeverityNumber(c % 26),
				SeverityText: fuzzKeys[c/32], Body: g.value(0), Attributes: g.attrs(0), Flags: uint32(c),
				TraceId: []byte{c & 4, 1}[:c%3], SpanId: []byte{c & 8}[:c%2],
			})
		}
		rl := logsReq(g.attrs(0), recs...).ResourceLogs
		rl[0].ScopeLogs[0].Scope = g.scope()
		req.ResourceLogs = append(req.ResourceLogs, rl...)
	}
	return req
}

func FuzzWireLogsBuilt(f *testing.F) {
	fuzzWireBuilt(f, "logs", []byte{2, 3, 4, 0, 1, 9, 2, 1, 8, 3, 6, 7, 2, 1, 5, 0, 2, 9, 7}, (*fuzzBuilder).logs)
}

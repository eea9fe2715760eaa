package otlpconv

import (
	"math"
	"testing"

	"google.golang.org/protobuf/proto"

	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
)

// fuzzLimits are tight enough that the fuzzer reaches every rejection.
var fuzzLimits = Limits{MaxRecordBytes: 4096, MaxAttributes: 16, MaxAttributeDepth: 4}

// addSeeds adds the golden requests of signal, as JSON or protobuf, and a
// few requests built in code.
func addSeeds(f *testing.F, signal string, isJSON bool) {
	for _, tc := range goldenCases {
		if tc.signal != signal {
			continue
		}
		body := readTestdata(f, tc.name+".json")
		if !isJSON {
			body = protoBody(f, signal, body)
		}
		f.Add(body)
	}
	if isJSON {
		f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102","spanId":"zz"}]}]}]}`))
		return
	}
	var extra proto.Message
	switch signal {
	case "logs":
		extra = logsReq(kvs("service.name", "s"), &logspb.LogRecord{Body: arr(arr(arr(arr(arr(dbl(math.NaN()))))))})
	case "metrics":
		extra = metricsReq(nil, gauge("g", dpoint(1, math.NaN()), dpoint(2, 1)), &metricspb.Metric{Name: "none"})
	default:
		return
	}
	f.Add(mustMarshal(f, extra))
}

// fuzzConvert decodes and converts body; every record must be a valid
// event that encoding/json would have written the same way.
func fuzzConvert(t *testing.T, signal string, body []byte, isJSON bool) {
	got, err := convertBody(New(fuzzLimits), signal, body, isJSON)
	if err != nil {
		return
	}
	for i, r := range got.recs {
		if err := checkRecord(r); err != nil {
			t.Fatalf("record %d: %v\n%s", i, err, r.Value)
		}
		if err := checkSchema(t, r.Value, "record"); err != nil {
			t.Fatalf("record %d: %v\n%s", i, err, r.Value)
		}
		if len(r.Value) > fuzzLimits.MaxRecordBytes {
			t.Fatalf("record %d has %d bytes, over the limit", i, len(r.Value))
		}
	}
	for _, rj := range got.rejects {
		if rj.Reason == "" || rj.Message == "" || rj.Items < 0 {
			t.Fatalf("rejection %+v", rj)
		}
	}
	if err := compareReference(got); err != nil {
		t.Fatal(err)
	}
}

func FuzzDecodeLogsProto(f *testing.F) {
	addSeeds(f, "logs", false)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzConvert(t, "logs", body, false) })
}

func FuzzDecodeLogsJSON(f *testing.F) {
	addSeeds(f, "logs", true)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzConvert(t, "logs", body, true) })
}

func FuzzDecodeMetricsProto(f *testing.F) {
	addSeeds(f, "metrics", false)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzConvert(t, "metrics", body, false) })
}

func FuzzDecodeMetricsJSON(f *testing.F) {
	addSeeds(f, "metrics", true)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzConvert(t, "metrics", body, true) })
}

func FuzzDecodeTracesProto(f *testing.F) {
	addSeeds(f, "traces", false)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzConvert(t, "traces", body, false) })
}

func FuzzDecodeTracesJSON(f *testing.F) {
	addSeeds(f, "traces", true)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzConvert(t, "traces", body, true) })
}

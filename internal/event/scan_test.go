package event_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/eval/loghub"
	"github.com/driftlock/driftlock/internal/eval/nab"
	"github.com/driftlock/driftlock/internal/event"
)

// reference decodes a record with encoding/json alone, as the detector did
// before the scanner: event.Decode, then the data into its struct.
func reference(value []byte) (event.Decoded, error) {
	ev, err := event.Decode(value)
	if err != nil {
		return event.Decoded{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, ev.Timestamp)
	if err != nil {
		return event.Decoded{}, fmt.Errorf("%w: timestamp %q is not RFC 3339", event.ErrInvalid, ev.Timestamp)
	}
	d := event.Decoded{Type: ev.Type, Time: t}
	var target any
	switch ev.Type {
	case event.TypeLog:
		d.Log = &event.LogData{}
		target = d.Log
	case event.TypeMetric:
		d.Metric = &event.MetricData{}
		target = d.Metric
	case event.TypeSpan:
		d.Span = &event.SpanData{}
		target = d.Span
	}
	if err := json.Unmarshal(ev.Data, target); err != nil {
		return event.Decoded{}, fmt.Errorf("%w: decode %s data: %v", event.ErrInvalid, ev.Type, err)
	}
	return d, nil
}

// checkSame fails unless DecodeRecord and the reference agree on value:
// both reject it with the same error, or both give the same event; and
// DecodeRecordNoCopy gives what DecodeRecord gives.
func checkSame(t *testing.T, value []byte) {
	t.Helper()
	got, gotErr := event.DecodeRecord(value)
	want, wantErr := reference(value)
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("%s\nDecodeRecord error %v, encoding/json error %v", value, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s\nDecodeRecord %s\nencoding/json %s", value, dump(got), dump(want))
	}
	shared := slices.Clone(value)
	if d, err := event.DecodeRecordNoCopy(shared); !reflect.DeepEqual(d, got) || !reflect.DeepEqual(err, gotErr) {
		t.Fatalf("%s\nDecodeRecordNoCopy %s, %v\nDecodeRecord %s, %v", value, dump(d), err, dump(got), gotErr)
	}
	if gotErr == nil {
		ev, err := event.Decode(value)
		if err != nil {
			t.Fatal(err)
		}
		if d, err := event.DecodeData(ev); err != nil || !reflect.DeepEqual(d, want) {
			t.Fatalf("%s\nDecodeData %s, %v\nencoding/json %s", value, dump(d), err, dump(want))
		}
	}
}

func dump(d event.Decoded) string {
	return fmt.Sprintf("%s %s log=%#v metric=%#v span=%#v", d.Type, d.Time, d.Log, d.Metric, d.Span)
}

// seeds are real records: the converter's golden records of every signal
// and the evaluation's log and NAB records, plus hand-made edge cases.
func seeds(t testing.TB) [][]byte {
	var out [][]byte
	golden := event.GoldenRecords(t)
	files := slices.Sorted(maps.Keys(golden))
	for _, f := range files {
		for _, v := range golden[f] {
			out = append(out, v)
		}
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	logEv, err := loghub.LogEvent("hdfs", at, "WARN", "Receiving block blk_-1608999687919862906 src: /10.250.19.102:54106", map[string]any{"component": "dfs.DataNode$DataXceiver", "pid": 143})
	if err != nil {
		t.Fatal(err)
	}
	metricEv, err := nab.MetricEvent("ec2_cpu_utilization_5f5533", at, "0.134")
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []event.Event{logEv, metricEv} {
		v, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	for _, s := range []string{
		`{"type":"log","timestamp":"2026-03-01T12:00:00.000Z","data":{"body":"a\u00e9\ud83d\ude00\ud800x\\\"","attributes":{"k":[1,{"x":null}],"k":true}},"source":""}`,
		`{"data":{"name":"m","type":"sum","is_monotonic":false,"sum":[{"value":"12"},null]},"type":"metric","timestamp":"2026-03-01T12:00:00Z"}`,
		`{"type":"span","data":{"name":"GET","duration_ns":-5,"events":[{"name":"e","attributes":null}],"Kind":"x"},"timestamp":"2026-03-01T12:00:00Z"}`,
		`{"type":"log","data":{"severity_number":1e2},"timestamp":"2026-03-01T12:00:00Z"}`,
		`{"type":"log","data":{"flags":-1},"timestamp":"2026-03-01T12:00:00Z"}`,
		`{"type":"log","data":{"body":1e999},"timestamp":"2026-03-01T12:00:00Z"}`,
		`{"type":"metric","data":{"gauge":[]},"timestamp":"2026-03-01T12:00:00Z"} `,
		`{"type":"log","data":null,"timestamp":"2026-03-01T12:00:00Z"}`,
		`{"type":"trace","data":{},"timestamp":"2026-03-01T12:00:00Z"}`,
		`{"type":"log","data":{},"timestamp":"yesterday"}`,
		"{\"type\":\"log\",\"data\":{\"body\":\"\xff\"},\"timestamp\":\"2026-03-01T12:00:00Z\"}",
		`[1]`,
	} {
		out = append(out, []byte(s))
	}
	return out
}

func TestDecodeRecordMatchesEncodingJSON(t *testing.T) {
	for _, v := range seeds(t) {
		checkSame(t, v)
	}
}

// FuzzDecodeRecord checks DecodeRecord against encoding/json on any input:
// both reject it with the same error, or both decode the same values.
//
//	go test -run XXX -fuzz FuzzDecodeRecord -fuzztime 60s ./internal/event/
func FuzzDecodeRecord(f *testing.F) {
	for _, v := range seeds(f) {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, value []byte) { checkSame(t, value) })
}

// BenchmarkDecodeRecord decodes the converter's golden log, gauge, sum and
// span records and the evaluation's records, with DecodeRecord and with
// encoding/json (the reference).
func BenchmarkDecodeRecord(b *testing.B) {
	var values [][]byte
	for _, v := range seeds(b) {
		if _, err := event.DecodeRecord(v); err == nil && !strings.Contains(string(v), "histogram") && !strings.Contains(string(v), "summary") {
			values = append(values, v)
		}
	}
	for _, bm := range []struct {
		name   string
		decode func([]byte) (event.Decoded, error)
	}{{"scanner", event.DecodeRecord}, {"scanner-nocopy", event.DecodeRecordNoCopy}, {"encoding-json", reference}} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := range b.N {
				if _, err := bm.decode(values[i%len(values)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

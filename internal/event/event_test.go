package event

import (
	"errors"
	"testing"
	"time"
)

func TestStreamKey(t *testing.T) {
	tests := []struct {
		service string
		typ     Type
		metric  string
		want    string
	}{
		{"checkout", TypeLog, "", "checkout|log"},
		{"checkout", TypeSpan, "", "checkout|span"},
		{"checkout", TypeMetric, "http.server.duration", "checkout|metric|http.server.duration"},
		{"", TypeLog, "", "unknown_service|log"},
	}
	for _, tt := range tests {
		got := StreamKey(tt.service, tt.typ, tt.metric)
		if got != tt.want {
			t.Errorf("StreamKey(%q, %q, %q) = %q, want %q", tt.service, tt.typ, tt.metric, got, tt.want)
		}
		svc, sig, metric, err := ParseStreamKey(got)
		wantSvc := tt.service
		if wantSvc == "" {
			wantSvc = UnknownService
		}
		if err != nil || svc != wantSvc || sig != tt.typ || metric != tt.metric {
			t.Errorf("ParseStreamKey(%q) = %q, %q, %q, %v", got, svc, sig, metric, err)
		}
	}
}

func TestParseStreamKeyErrors(t *testing.T) {
	tests := map[string]string{
		"checkout":         `invalid stream key "checkout": want service|signal[|metric]`,
		"|log":             `invalid stream key "|log": want service|signal[|metric]`,
		"checkout|log|x":   `invalid stream key "checkout|log|x": only metric keys have a third part`,
		"checkout|metric":  `invalid stream key "checkout|metric": metric keys need a metric name`,
		"checkout|metric|": `invalid stream key "checkout|metric|": metric keys need a metric name`,
		"checkout|profile": `invalid stream key "checkout|profile": unknown signal "profile"`,
	}
	for key, want := range tests {
		if _, _, _, err := ParseStreamKey(key); err == nil || err.Error() != want {
			t.Errorf("ParseStreamKey(%q) error = %v, want %s", key, err, want)
		}
	}
}

func TestDecode(t *testing.T) {
	good := `{"type":"log","data":{"body":"x"},"timestamp":"2026-01-01T00:00:00.000Z","source":"otlp-http"}`
	ev, err := Decode([]byte(good))
	if err != nil || ev.Type != TypeLog || ev.Source != "otlp-http" || string(ev.Data) != `{"body":"x"}` {
		t.Fatalf("Decode = %+v, %v", ev, err)
	}
	bad := map[string]string{
		"not json":     `{"type":`,
		"unknown type": `{"type":"profile","data":{},"timestamp":"2026-01-01T00:00:00Z"}`,
		"data array":   `{"type":"log","data":[],"timestamp":"2026-01-01T00:00:00Z"}`,
		"no data":      `{"type":"log","timestamp":"2026-01-01T00:00:00Z"}`,
		"bad time":     `{"type":"log","data":{},"timestamp":"yesterday"}`,
	}
	for name, value := range bad {
		if _, err := Decode([]byte(value)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestDecodeData(t *testing.T) {
	ev, err := Decode([]byte(`{"type":"log","data":{"body":"x","severity":"ERROR","severity_number":17},"timestamp":"2026-01-01T00:00:00.000Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	d, err := DecodeData(ev)
	if err != nil || d.Log == nil || d.Log.Body != "x" || d.Log.SeverityNumber != 17 || !d.Time.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("DecodeData = %+v, %v", d, err)
	}
	ev.Data = []byte(`{"name": 3}`)
	ev.Type = TypeMetric
	if _, err := DecodeData(ev); err == nil || !errors.Is(err, ErrInvalid) ||
		err.Error() != "invalid event: decode metric data: json: cannot unmarshal number into Go struct field MetricData.name of type string" {
		t.Fatalf("error %v", err)
	}
}

// FuzzDecode checks Decode and DecodeData of any record value: an error
// wraps ErrInvalid, an accepted event has a known type and its data struct.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"type":"metric","data":{"name":"m"},"timestamp":"2026-01-01T00:00:00.000Z","source":"s"}`))
	f.Add([]byte(`{"type":"log","data":{},"timestamp":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, value []byte) {
		ev, err := Decode(value)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if ev.Type != TypeLog && ev.Type != TypeMetric && ev.Type != TypeSpan {
			t.Fatalf("accepted type %q", ev.Type)
		}
		d, err := DecodeData(ev)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("data error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if d.Type != ev.Type || (d.Log == nil) == (ev.Type == TypeLog) || (d.Metric == nil) == (ev.Type == TypeMetric) || (d.Span == nil) == (ev.Type == TypeSpan) {
			t.Fatalf("decoded %+v from a %s event", d, ev.Type)
		}
	})
}

func FuzzParseStreamKey(f *testing.F) {
	f.Add("checkout|metric|http.server.duration")
	f.Add("a|log")
	f.Fuzz(func(t *testing.T, key string) {
		svc, sig, metric, err := ParseStreamKey(key)
		if err != nil {
			return
		}
		if got := StreamKey(svc, sig, metric); got != key {
			t.Fatalf("ParseStreamKey(%q) does not round-trip: %q", key, got)
		}
	})
}

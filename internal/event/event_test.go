package event

import (
	"errors"
	"testing"
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

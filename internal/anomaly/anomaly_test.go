package anomaly

import (
	"encoding/json"
	"testing"
)

func TestDecodeRoundTrip(t *testing.T) {
	a := Anomaly{
		ID:       "3d166319d6bac807f9dac9140d4002e4",
		Kind:     KindEvent,
		Incident: "0f9f3c2a6b1e4d5c8a7b6c5d4e3f2a1b",
		Series:   []Point{{Offset: 999, Timestamp: "2026-01-01T00:00:58.000Z", Value: 12}, {Offset: 1000, Timestamp: "2026-01-01T00:00:59.000Z", Value: 950, Anomalous: true}},
		Stream:   Stream{Key: "checkout|metric|latency", Service: "checkout", Signal: "metric", Metric: "latency"},
		Window:   Window{Start: "2026-01-01T00:00:00.000Z", End: "2026-01-01T00:01:00.000Z", Events: 1024, Partition: 2, FirstOffset: 10, LastOffset: 1033},
		Scores:   Scores{NCD: 0.3, PValue: 0.005, Confidence: 0.995},
		Evidence: []Evidence{{Offset: 1000, Timestamp: "2026-01-01T00:00:59.000Z", Summary: "latency 950", Score: 0.8}},
		Detector: Detector{Version: "dev", ConfigHash: "abc", Seed: 42},
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(got)
	if string(again) != string(b) {
		t.Fatalf("round trip changed the record:\n%s\n%s", b, again)
	}
}

// TestDecodeLegacy: records written before kinds and incidents existed
// read as window records, each its own incident.
func TestDecodeLegacy(t *testing.T) {
	a, err := Decode([]byte(`{"id":"a1","stream":{"key":"c|log"},"scores":{"ncd":0.4,"confidence":0.95}}`))
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != KindWindow || a.Incident != "a1" {
		t.Fatalf("kind %q incident %q, want window and the record's id", a.Kind, a.Incident)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := map[string]string{
		`{`:                          "decode anomaly: unexpected end of JSON input",
		`{"id":"x"}`:                 "decode anomaly: id and stream.key are required",
		`{"stream":{"key":"a|log"}}`: "decode anomaly: id and stream.key are required",
		`{"id":"x","stream":{"key":"a|log"},"kind":"spike"}`: `decode anomaly: unknown kind "spike"`,
		`{"id":"x","stream":{"key":1}}`:                      "decode anomaly: json: cannot unmarshal number into Go struct field Stream.stream.key of type string",
	}
	for in, want := range tests {
		if _, err := Decode([]byte(in)); err == nil || err.Error() != want {
			t.Errorf("Decode(%s) = %v, want %s", in, err, want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"id":"x","stream":{"key":"a|log"},"evidence":[{"offset":1}]}`))
	f.Fuzz(func(t *testing.T, value []byte) {
		a, err := Decode(value)
		if err == nil && (a.ID == "" || a.Stream.Key == "") {
			t.Fatalf("accepted a record without id or stream key: %s", value)
		}
	})
}

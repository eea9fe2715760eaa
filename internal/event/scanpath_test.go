package event

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScannerReadsIngestRecords checks that the records ingest writes take
// the scanner's path (not encoding/json's), all but histograms and
// summaries, which it leaves to encoding/json.
func TestScannerReadsIngestRecords(t *testing.T) {
	for f, values := range GoldenRecords(t) {
		slow := strings.Contains(f, "histogram") || strings.Contains(f, "summary")
		for _, v := range values {
			if _, ok := scanRecord(string(v)); ok == slow {
				t.Errorf("%s: scanner took %s: %v, want %v", f, v, ok, !slow)
			}
		}
	}
}

// GoldenRecords returns the record values of the converter's golden files
// (internal/otlpconv/testdata), by file.
func GoldenRecords(t testing.TB) map[string][]json.RawMessage {
	files, err := filepath.Glob("../otlpconv/testdata/*.golden.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("golden records: %v (%d files)", err, len(files))
	}
	out := make(map[string][]json.RawMessage, len(files))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var g struct {
			Records []struct {
				Value json.RawMessage `json:"value"`
			} `json:"records"`
		}
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, r := range g.Records {
			out[f] = append(out[f], r.Value)
		}
	}
	return out
}

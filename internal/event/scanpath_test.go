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
	files, _ := filepath.Glob("../otlpconv/testdata/*.golden.json")
	if len(files) == 0 {
		t.Fatal("no golden records")
	}
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
			t.Fatal(err)
		}
		slow := strings.Contains(f, "histogram") || strings.Contains(f, "summary")
		for _, r := range g.Records {
			if _, ok := scanRecord(r.Value); ok == slow {
				t.Errorf("%s: scanner took %s: %v, want %v", f, r.Value, ok, !slow)
			}
		}
	}
}

package nab

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/driftlock/driftlock/internal/eval/evaltest"
)

// TestPublishedNumenta scores Numenta HTM's published per-row output at its
// published thresholds and checks NAB's published figures: the normalised
// scores of the README and every file's score and row counts.
func TestPublishedNumenta(t *testing.T) {
	root := filepath.Join(evaltest.Datasets(t), "nab")
	c, detector := loadPublished(t, root, "numenta")
	profiles, err := LoadProfiles(filepath.Join(root, "config/profiles.json"))
	if err != nil {
		t.Fatal(err)
	}
	ths, err := LoadThresholds(filepath.Join(root, "config/thresholds.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{Standard: 72.3, LowFPRate: 65.5, LowFNRate: 76.3}
	for _, r := range c.Score(profiles, ths[detector]) {
		if math.Abs(r.Normalized-want[r.Profile.Name]) > 0.05 {
			t.Errorf("%s: normalised %.3f, want %.1f", r.Profile.Name, r.Normalized, want[r.Profile.Name])
		}
		checkFiles(t, filepath.Join(root, "published", "numenta_"+r.Profile.Name+"_scores.csv"), r)
	}
}

func loadPublished(t *testing.T, root, detector string) (*Corpus, string) {
	t.Helper()
	labels, err := LoadWindows(filepath.Join(root, "labels/combined_windows.json"))
	if err != nil {
		t.Fatal(err)
	}
	name, series, err := LoadResults(filepath.Join(root, "published", detector))
	if err != nil {
		t.Fatal(err)
	}
	if name != detector || len(series) != 45 {
		t.Fatalf("results folder: detector %q with %d files, want %q with 45", name, len(series), detector)
	}
	c, err := NewCorpus(series, labels)
	if err != nil {
		t.Fatal(err)
	}
	if c.Windows() != 83 {
		t.Fatalf("corpus has %d windows, want 83", c.Windows())
	}
	return c, name
}

func checkFiles(t *testing.T, path string, r Result) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]FileResult{}
	for _, fr := range r.Files {
		got[fr.Path] = fr
	}
	checked := 0
	for _, row := range rows[1:] {
		fr, ok := got[row[2]]
		if !ok {
			continue
		}
		score, _ := strconv.ParseFloat(row[4], 64)
		counts := [4]int{atoi(row[5]), atoi(row[6]), atoi(row[7]), atoi(row[8])}
		if math.Abs(score-fr.Score) > 1e-6 || counts != [4]int{fr.TP, fr.TN, fr.FP, fr.FN} {
			t.Errorf("%s %s: score %.6f TP/TN/FP/FN %d/%d/%d/%d, published %.6f %v",
				r.Profile.Name, fr.Path, fr.Score, fr.TP, fr.TN, fr.FP, fr.FN, score, counts)
		}
		checked++
	}
	if checked != len(r.Files) {
		t.Errorf("%s: %d of %d files found in %s", r.Profile.Name, checked, len(r.Files), path)
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

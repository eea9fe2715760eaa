package eval

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/driftlock/driftlock/internal/eval/loghub"
	"github.com/driftlock/driftlock/internal/eval/nab"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// writeNAB writes a small NAB-shaped corpus: two files of a daily sine with
// a level shift, and windows files with and without labels.
func writeNAB(t *testing.T) (data, labelled, empty string) {
	dir := t.TempDir()
	data = filepath.Join(dir, "data")
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var wins []string
	for f, shiftAt := range []int{560, 640} {
		var b strings.Builder
		b.WriteString("timestamp,value\n")
		for i := range 800 {
			v := 50 + 10*math.Sin(float64(i)*2*math.Pi/288)
			if i >= shiftAt {
				v += 80
			}
			fmt.Fprintf(&b, "%s,%.3f\n", t0.Add(time.Duration(i)*5*time.Minute).Format("2006-01-02 15:04:05"), v)
		}
		path := filepath.Join(data, "synthetic", fmt.Sprintf("f%d.csv", f))
		must(t, os.MkdirAll(filepath.Dir(path), 0o755))
		must(t, os.WriteFile(path, []byte(b.String()), 0o644))
		l, r := t0.Add(time.Duration(shiftAt-20)*5*time.Minute), t0.Add(time.Duration(shiftAt+20)*5*time.Minute)
		wins = append(wins, fmt.Sprintf(`"synthetic/f%d.csv": [["%s.000000", "%s.000000"]]`, f, l.Format("2006-01-02 15:04:05"), r.Format("2006-01-02 15:04:05")))
	}
	labelled, empty = filepath.Join(dir, "windows.json"), filepath.Join(dir, "empty.json")
	must(t, os.WriteFile(labelled, []byte("{"+strings.Join(wins, ",")+"}"), 0o644))
	must(t, os.WriteFile(empty, []byte(`{"synthetic/f0.csv": [], "synthetic/f1.csv": []}`), 0o644))
	return data, labelled, empty
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestNABLabelsOnlyScore runs the core over the same data with and without
// labelled windows: the per-row scores must be identical (labels are read
// only by the scorer), and the labelled run must find the level shifts.
func TestNABLabelsOnlyScore(t *testing.T) {
	data, labelled, empty := writeNAB(t)
	setup := DefaultSetup()
	setup.Detector.Permutations = 19 // keeps the test fast under -race
	run := func(windows string, workers int) NABReport {
		rep, err := EvalNAB(context.Background(), NABOptions{Data: data, Windows: windows, Setup: setup, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	with, without := run(labelled, 2), run(empty, 1)
	if !reflect.DeepEqual(with.Series, without.Series) {
		t.Fatal("per-row scores differ between runs with and without labels or workers")
	}
	if with.Windows != 2 || without.Windows != 0 || len(with.Results) != 6 {
		t.Fatalf("windows %d and %d, results %d", with.Windows, without.Windows, len(with.Results))
	}
	out := t.TempDir()
	must(t, nab.WriteResults(out, "driftlock", with.Series))
	name, back, err := nab.LoadResults(filepath.Join(out, "driftlock"))
	if err != nil || name != "driftlock" || !reflect.DeepEqual(back, with.Series) {
		t.Fatalf("results folder does not read back the same scores (%v)", err)
	}
	std := with.Results[0]
	if std.Profile.Name != "standard" || std.Files[0].WindowsHit+std.Files[1].WindowsHit == 0 {
		t.Fatalf("no level shift detected: %+v", std.Files)
	}
}

func logLine(label, level, content string, i int) string {
	ts := time.Date(2005, 6, 3, 15, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	return fmt.Sprintf("%s %d %s R02-M1-N0 %s R02-M1-N0 RAS KERNEL %s %s\n",
		label, ts.Unix(), ts.Format("2006.01.02"), ts.Format("2006-01-02-15.04.05.000000"), level, content)
}

// TestEvalLog streams a BGL-format log in which a new FATAL message appears
// after a long regular stretch: its run must be found, and few other lines flagged.
func TestEvalLog(t *testing.T) {
	var b strings.Builder
	for i := range 1200 {
		switch {
		case i >= 1000 && i < 1005:
			b.WriteString(logLine("KERNDTLB", "FATAL", "data TLB error interrupt", i))
		case i%3 == 0:
			b.WriteString(logLine("-", "INFO", fmt.Sprintf("generating core.%d", i), i))
		default:
			b.WriteString(logLine("-", "INFO", fmt.Sprintf("instruction cache parity error corrected on %d", i%7), i))
		}
	}
	path := filepath.Join(t.TempDir(), "BGL_test.log")
	must(t, os.WriteFile(path, []byte(b.String()), 0o644))
	rep, err := EvalLog(context.Background(), path, 1, DefaultSetup(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Service != "bgl" || rep.Lines != 1200 || rep.Anomalous != 5 || rep.Run.Runs != 1 {
		t.Fatalf("report %+v", rep.Run)
	}
	if rep.Run.Detected != 1 || rep.Line.FP > 60 {
		t.Fatalf("runs detected %d, false alarms %d", rep.Run.Detected, rep.Line.FP)
	}
}

// TestEvalHDFS: sessions of a regular shape build the stream's history;
// test sessions with a new template are labelled and counted, the ceiling
// is computed, and regular sessions are not flagged. (At the default
// configuration a new message shape in a stream younger than
// detector memory scores below event_threshold, so the novel sessions of
// this small set are not flagged either: see docs/EVALUATION.md.)
func TestEvalHDFS(t *testing.T) {
	normal := []string{"BLOCK* NameSystem.allocateBlock:<*>", "Receiving block <*> src: /<*> dest: /<*>",
		"Received block <*> of size <*> from /<*>", "PacketResponder <*> for block <*> terminating"}
	session := func(id int, extra string) loghub.Session {
		s := loghub.Session{BlockID: fmt.Sprintf("blk_%d", id), Templates: append([]string(nil), normal...)}
		if extra != "" {
			s.Label, s.Templates = 1, append(s.Templates, extra)
		}
		return s
	}
	var train, test []loghub.Session
	for i := range 400 {
		train = append(train, session(i, ""))
	}
	for i := range 60 {
		extra := ""
		if i%15 == 7 {
			extra = "writeBlock <*> received exception <*>"
		}
		test = append(test, session(1000+i, extra))
	}
	rep, err := EvalHDFS(context.Background(), train, test, DefaultSetup(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.TestAnomalous != 4 || rep.Metrics.FP != 0 || rep.Ceiling.TP != 4 {
		t.Fatalf("metrics %+v", rep.Metrics)
	}
}

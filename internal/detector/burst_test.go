package detector

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/anomaly"
	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/eval/evaltest"
	"github.com/driftlock/driftlock/internal/eval/loghub"
	"github.com/driftlock/driftlock/internal/event"
)

// TestBurstOfRealErrorLines streams a public system log (Thunderbird_2k) as a
// steady stream and, after its 1,500th line, a burst of 120 kernel
// FATAL/ERROR lines from another machine's log (BGL_2k), through the
// processor at the default configuration. The burst must be one incident,
// opened by an event record whose evidence lies in the burst's first 32
// lines and closed by one that spans the whole burst, and nothing may be
// raised outside it.
func TestBurstOfRealErrorLines(t *testing.T) {
	root := filepath.Join(evaltest.Datasets(t), "loghub")
	steady, err := loghub.ReadLog(filepath.Join(root, "Thunderbird", "Thunderbird_2k.log"))
	if err != nil {
		t.Fatal(err)
	}
	var burst []loghub.Line
	bgl, err := loghub.ReadLog(filepath.Join(root, "BGL", "BGL_2k.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range bgl {
		if (l.Level == "FATAL" || l.Level == "ERROR") && len(burst) < 120 {
			burst = append(burst, l)
		}
	}
	const at = 1500
	lines := append(append(append([]loghub.Line(nil), steady[:at]...), burst...), steady[at:]...)
	p, err := NewProcessor(config.Default().Detector, 0, "test", fixedClock)
	if err != nil {
		t.Fatal(err)
	}
	var records []anomaly.Anomaly
	for i, l := range lines {
		l.Time = steady[0].Time.Add(time.Duration(i) * time.Second)
		ev, err := loghub.LineEvent("thunderbird", l)
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.Push(event.StreamKey("thunderbird", event.TypeLog, ""), ev, int64(i))
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, out.Anomalies...)
	}
	for _, a := range records {
		t.Logf("%s %s at %d conf %.3f: %.150s", a.Kind, a.Incident[:6], a.Named(), a.Scores.Confidence, a.Explanation)
	}
	if len(records) == 0 {
		t.Fatal("the burst raised nothing")
	}
	open := records[0]
	if open.Kind != anomaly.KindEvent || len(open.Evidence) == 0 {
		t.Fatalf("first record is %s with %d evidence lines, want an event record", open.Kind, len(open.Evidence))
	}
	if off := open.Evidence[0].Offset; off < at || off >= at+32 {
		t.Fatalf("the event record points at line %d (%s), want one of the burst's first 32 lines (from %d)", off, open.Evidence[0].Summary, at)
	}
	for _, a := range records {
		if a.Incident != open.Incident {
			t.Errorf("record %s (%s, evidence at %d) is outside the burst's incident", a.ID, a.Kind, a.Named())
		}
	}
	// The incident lasts the whole burst: its closing record says so and
	// lists the burst's first lines in order.
	closing := records[len(records)-1]
	if closing.Kind != anomaly.KindEvent || closing.Window.Events != len(burst) || len(closing.Evidence) != 32 ||
		closing.Evidence[0].Offset != open.Evidence[0].Offset {
		t.Fatalf("closing record: kind %s, %d events, %d evidence lines from %d; want the %d-line burst, its first 32 lines: %s",
			closing.Kind, closing.Window.Events, len(closing.Evidence), closing.Evidence[0].Offset, len(burst), closing.Explanation)
	}
	if end := event.FormatTimestamp(steady[0].Time.Add(time.Duration(at+len(burst)-1) * time.Second)); closing.Window.End != end {
		t.Errorf("closing record's window ends %s, want the burst's last line at %s", closing.Window.End, end)
	}
	for i, e := range closing.Evidence {
		if e.Offset != int64(at+i) {
			t.Fatalf("closing record's line %d is at offset %d, want %d (the burst in order)", i, e.Offset, at+i)
		}
	}
	t.Logf("%d records in the burst's incident: %s", len(records), closing.Explanation)
}

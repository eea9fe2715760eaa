package loghub

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/driftlock/driftlock/internal/eval/evaltest"
	"github.com/driftlock/driftlock/internal/event"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		in   string
		want Line
	}{
		{
			"- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected",
			Line{Label: "-", Node: "R02-M1-N0-C:J12-U11", Component: "KERNEL", Level: "INFO", Content: "instruction cache parity error corrected"},
		},
		{
			"KERNDTLB 1118536327 2005.06.11 R30-M0-N9-C:J16-U01 2005-06-11-17.32.07.581048 R30-M0-N9-C:J16-U01 RAS KERNEL FATAL data TLB error interrupt",
			Line{Label: "KERNDTLB", Node: "R30-M0-N9-C:J16-U01", Component: "KERNEL", Level: "FATAL", Content: "data TLB error interrupt"},
		},
		{
			"- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session closed for user root",
			Line{Label: "-", Node: "dn228", Component: "crond(pam_unix)", Content: "session closed for user root"},
		},
		{
			"- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 kernel: Losing some ticks: checking",
			Line{Label: "-", Node: "dn228", Component: "kernel", Content: "Losing some ticks: checking"},
		},
		{
			"- 1131566461 2005.11.09 tbird-admin1 Nov 10 12:01:01 local@tbird-admin1 no component here",
			Line{Label: "-", Node: "tbird-admin1", Content: "no component here"},
		},
	}
	for _, tt := range tests {
		got, err := ParseLine(tt.in)
		if err != nil {
			t.Fatalf("%q: %v", tt.in, err)
		}
		tt.want.Time = got.Time
		if got != tt.want {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.in, got, tt.want)
		}
		if got.Time.Year() != 2005 {
			t.Errorf("%q: time %v", tt.in, got.Time)
		}
	}
	if _, err := ParseLine("- 12 short"); err == nil {
		t.Error("want an error for a short line")
	}
}

func TestLineEvent(t *testing.T) {
	l, _ := ParseLine("APPSEV 1118536327 2005.06.11 R30 2005-06-11-17.32.07.581048 R30 RAS APP FATAL ciod: failed to read message")
	ev, err := LineEvent("bgl", l)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(ev)
	if _, err := event.Decode(raw); err != nil {
		t.Fatalf("event does not decode: %v", err)
	}
	var d event.LogData
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		t.Fatal(err)
	}
	if d.Body != "ciod: failed to read message" || d.SeverityNumber != 21 || d.Severity != "FATAL" ||
		d.Attributes["service.name"] != "bgl" || d.Attributes["component"] != "APP" {
		t.Fatalf("log data %+v", d)
	}
}

func TestBinaryAndRuns(t *testing.T) {
	truth := []bool{false, true, true, false, false, true, false, true, true, false}
	pred := []bool{true, false, true, false, true, false, true, true, false, true}
	m := Binary(pred, truth)
	if m.TP != 2 || m.FP != 4 || m.FN != 3 || m.TN != 1 {
		t.Fatalf("confusion %+v", m)
	}
	if Value(m.Precision) != 2.0/6 || Value(m.Recall) != 2.0/5 {
		t.Fatalf("precision %v recall %v", Value(m.Precision), Value(m.Recall))
	}
	r := Runs(pred, truth)
	// runs: [1,2] hit, [5] missed, [7,8] hit; false alarms: [0], [4], [6], [9].
	if r.Runs != 3 || r.Detected != 2 || r.FalseAlarms != 4 {
		t.Fatalf("runs %+v", r)
	}
	none := Binary([]bool{false, false}, []bool{false, false})
	if none.Precision != nil || none.Recall != nil || none.F1 != nil {
		t.Fatal("0/0 must be undefined")
	}
}

// TestParseShippedLogs parses every line of the loghub samples and checks
// the label counts the data sets' README states.
func TestParseShippedLogs(t *testing.T) {
	root := filepath.Join(evaltest.Datasets(t), "loghub")
	for _, tc := range []struct {
		file      string
		anomalous int
		runs      int
	}{{"BGL/BGL_2k.log", 143, 45}, {"Thunderbird/Thunderbird_2k.log", 0, 0}} {
		f, err := os.Open(filepath.Join(root, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		var truth []bool
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			l, err := ParseLine(sc.Text())
			if err != nil {
				t.Fatalf("%s line %d: %v", tc.file, len(truth)+1, err)
			}
			if l.Content == "" && l.Component == "" {
				t.Errorf("%s line %d: empty message", tc.file, len(truth)+1)
			}
			truth = append(truth, l.Anomalous())
		}
		f.Close()
		r := Runs(make([]bool, len(truth)), truth)
		m := Binary(make([]bool, len(truth)), truth)
		if len(truth) != 2000 || m.FN != tc.anomalous || r.Runs != tc.runs {
			t.Errorf("%s: %d lines, %d anomalous in %d runs", tc.file, len(truth), m.FN, r.Runs)
		}
	}
}

func TestReadSessions(t *testing.T) {
	path := filepath.Join(evaltest.Datasets(t), "loghub/HDFS_sessions/hdfs_train.jsonl")
	ss, err := ReadSessions(path)
	if err != nil {
		t.Fatal(err)
	}
	anomalous := 0
	for _, s := range ss {
		if s.Anomalous() {
			anomalous++
		}
	}
	if len(ss) != 6352 || anomalous != 256 {
		t.Fatalf("%d sessions, %d anomalous; want 6352 and 256", len(ss), anomalous)
	}
	train, test := Split(ss, 0.7)
	if len(train) != 4446 || len(test) != 1906 || test[0].BlockID != ss[4446].BlockID {
		t.Fatalf("split %d/%d", len(train), len(test))
	}
}

package loghub

import "testing"

func TestSequenceCeiling(t *testing.T) {
	a, b, c := []string{"open", "write", "close"}, []string{"open", "close"}, []string{"open", "error"}
	sessions := []Session{
		{Templates: a}, {Templates: a}, {Templates: a}, {Templates: a, Label: 1}, // a: 1 of 4 anomalous
		{Templates: b}, {Templates: b, Label: 1}, // b: 1 of 2
		{Templates: c, Label: 1}, {Templates: c, Label: 1}, // c: all anomalous
	}
	m := SequenceCeiling(sessions)
	// Flagging c alone: P 1, R 2/4, F1 0.667; c and b: P 3/4, R 3/4, F1
	// 0.75; all three: P 4/8, R 1, F1 0.667. Best: c and b.
	if m.TP != 3 || m.FP != 1 || m.FN != 1 || m.TN != 3 {
		t.Fatalf("TP/FP/FN/TN %d/%d/%d/%d, want 3/1/1/3", m.TP, m.FP, m.FN, m.TN)
	}
	if *m.F1 != 0.75 {
		t.Fatalf("F1 %v, want 0.75", *m.F1)
	}
	if m := SequenceCeiling([]Session{{Templates: a}}); m.F1 != nil || m.TP != 0 || m.TN != 1 {
		t.Fatalf("no anomalous session: %+v, want F1 undefined and one TN", m)
	}
}

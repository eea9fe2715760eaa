package loghub

import (
	"cmp"
	"slices"
	"strings"
)

// SequenceCeiling is the best a detector that sees only the sessions'
// template sequences can do on sessions: it groups sessions whose template
// sequences are identical (such sessions get the same verdict from any
// detector of sequences) and, knowing the labels, flags the groups that
// maximise F1. Groups are taken by falling share of anomalous sessions,
// which is optimal for F1. The result is an upper bound to compare with,
// not a detector.
func SequenceCeiling(sessions []Session) PRF {
	type group struct{ normal, anomalous int }
	groups := make(map[string]*group)
	positives := 0
	for _, s := range sessions {
		k := strings.Join(s.Templates, "\n")
		g := groups[k]
		if g == nil {
			g = &group{}
			groups[k] = g
		}
		if s.Anomalous() {
			g.anomalous++
			positives++
		} else {
			g.normal++
		}
	}
	order := make([]group, 0, len(groups))
	for _, g := range groups {
		if g.anomalous > 0 {
			order = append(order, *g)
		}
	}
	// By falling share of anomalous sessions, then size, so that the
	// result does not depend on map order.
	slices.SortFunc(order, func(a, b group) int {
		if c := cmp.Compare(b.anomalous*(a.normal+a.anomalous), a.anomalous*(b.normal+b.anomalous)); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(b.anomalous, a.anomalous), cmp.Compare(a.normal, b.normal))
	})
	best := PRF{FN: positives, TN: len(sessions) - positives}
	best.Recall = ratio(0, positives)
	tp, fp := 0, 0
	for _, g := range order {
		tp, fp = tp+g.anomalous, fp+g.normal
		m := PRF{TP: tp, FP: fp, FN: positives - tp, TN: len(sessions) - positives - fp}
		m.Precision, m.Recall = ratio(tp, tp+fp), ratio(tp, positives)
		m.F1 = f1(m.Precision, m.Recall)
		if best.F1 == nil || *m.F1 > *best.F1 {
			best = m
		}
	}
	return best
}

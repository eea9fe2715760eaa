package loghub

// Ratio is a fraction that may be undefined (0/0); undefined encodes as null.
type Ratio *float64

func ratio(num, den int) Ratio {
	if den == 0 {
		return nil
	}
	v := float64(num) / float64(den)
	return &v
}

func f1(p, r Ratio) Ratio {
	if p == nil || r == nil {
		return nil
	}
	if *p+*r == 0 {
		v := 0.0
		return &v
	}
	v := 2 * *p * *r / (*p + *r)
	return &v
}

// Value returns the ratio, or -1 when it is undefined.
func Value(r Ratio) float64 {
	if r == nil {
		return -1
	}
	return *r
}

// PRF is precision, recall and F1 of binary predictions against labels.
type PRF struct {
	Precision, Recall, F1 Ratio
	TP, FP, FN, TN        int
}

// Binary compares predictions with labels item by item.
func Binary(pred, truth []bool) PRF {
	var m PRF
	for i, p := range pred {
		switch {
		case p && truth[i]:
			m.TP++
		case p:
			m.FP++
		case truth[i]:
			m.FN++
		default:
			m.TN++
		}
	}
	m.Precision = ratio(m.TP, m.TP+m.FP)
	m.Recall = ratio(m.TP, m.TP+m.FN)
	m.F1 = f1(m.Precision, m.Recall)
	return m
}

// RunStats measures predictions on runs: a run is a maximal span of
// contiguous anomalous lines, detected when any of its lines is flagged; a
// false alarm is a maximal span of contiguous flagged normal lines.
type RunStats struct {
	Runs, Detected, FalseAlarms int
	// Precision is Detected / (Detected + FalseAlarms); Recall Detected / Runs.
	Precision, Recall, F1 Ratio
}

// Runs computes run-level figures.
func Runs(pred, truth []bool) RunStats {
	var s RunStats
	for i := 0; i < len(truth); {
		j := i
		hit := false
		for j < len(truth) && truth[j] == truth[i] && (truth[i] || pred[j] == pred[i]) {
			hit = hit || pred[j]
			j++
		}
		switch {
		case truth[i]:
			s.Runs++
			if hit {
				s.Detected++
			}
		case pred[i]:
			s.FalseAlarms++
		}
		i = j
	}
	s.Precision = ratio(s.Detected, s.Detected+s.FalseAlarms)
	s.Recall = ratio(s.Detected, s.Runs)
	s.F1 = f1(s.Precision, s.Recall)
	return s
}

package nab

import (
	"math"
	"time"
)

// Series is one data file as a detector scored it: a row timestamp and an
// anomaly score in [0, 1] per row.
type Series struct {
	// Path is the file's path relative to the data folder, as in the labels.
	Path       string
	Timestamps []time.Time
	Scores     []float64
}

// point is one scorable row (past the probation period): its anomaly score,
// the unweighted NAB value it earns if it is a detection, and the corpus-wide
// id of the window it lies in (-1 outside every window).
type point struct {
	score  float64
	unit   float64
	window int
}

// span is a window as inclusive row indices.
type span struct{ left, right int }

// scaledSigmoid is NAB's scaledSigmoid: 2·sigmoid(−5y) − 1, and −1 from y = 3 on.
func scaledSigmoid(y float64) float64 {
	if y >= 3 {
		return -1
	}
	return 2*(1/(1+math.Exp(5*y))) - 1
}

// maxTP is the value of a detection on a window's first row, used to scale
// true positives so that the earliest detection is worth A_TP.
var maxTP = scaledSigmoid(-1)

// Probation is the number of leading rows of an n-row file that NAB does not
// score: min(floor(0.15·n), 750).
func Probation(n int) int {
	return int(math.Min(math.Floor(probePct*float64(n)), probeLimit))
}

// spans maps windows to row indices: the first row at or after the start up
// to the last row at or before the end. NAB requires both ends to be row
// timestamps, which makes this the same rows; windows holding no row are
// dropped.
func spans(ts []time.Time, ws []Window) []span {
	out := make([]span, 0, len(ws))
	for _, w := range ws {
		s := span{left: -1, right: -1}
		for i, t := range ts {
			if t.Before(w.Start) || t.After(w.End) {
				continue
			}
			if s.left < 0 {
				s.left = i
			}
			s.right = i
		}
		if s.left >= 0 && (len(out) == 0 || s.left > out[len(out)-1].right) {
			out = append(out, s)
		}
	}
	return out
}

// filePoints computes NAB's sweep values for one file (sweeper.calcSweepScore).
// Inside a window of width w ending at row r, row i is worth
// sigma(−(r−i+1)/w)/sigma(−1) (times A_TP); outside, a detection costs
// sigma(|i−r_prev|/(w_prev−1)) (times A_FP) after a window and −1 before any.
// Probation rows are left out. winBase numbers the file's windows corpus-wide.
func filePoints(s Series, sp []span, winBase int) []point {
	prob := Probation(len(s.Scores))
	out := make([]point, 0, max(len(s.Scores)-prob, 0))
	cur, next := -1, 0
	prevRight, prevWidth := -1, 0.0
	for i, score := range s.Scores {
		if cur < 0 && next < len(sp) && i == sp[next].left {
			cur, next = next, next+1
		}
		p := point{score: score, window: -1}
		if cur >= 0 {
			width := float64(sp[cur].right - sp[cur].left + 1)
			p.unit = scaledSigmoid(-float64(sp[cur].right-i+1) / width)
			p.window = winBase + cur
		} else {
			y := 3.0
			if prevRight >= 0 {
				y = math.Abs(float64(i-prevRight)) / (prevWidth - 1)
			}
			p.unit = scaledSigmoid(y)
		}
		if i >= prob {
			out = append(out, p)
		}
		if cur >= 0 && i == sp[cur].right {
			prevRight, prevWidth = i, float64(sp[cur].right-sp[cur].left+1)
			cur = -1
		}
	}
	return out
}

// weight is the NAB value a detection on p earns under profile pr.
func (p point) weight(pr Profile) float64 {
	if p.window >= 0 {
		return p.unit * pr.TP / maxTP
	}
	return p.unit * pr.FP
}

// tally is the score of a set of points at one threshold.
type tally struct {
	fp          float64
	best        map[int]float64
	hit         map[int]bool
	order       []int
	tp, tn, fpN int
	fn          int
}

// scoreAt scores points whose score is at least threshold as detections
// (sweeper.scoreDataSet at a fixed threshold).
func scoreAt(points []point, threshold float64, pr Profile) tally {
	t := tally{best: map[int]float64{}, hit: map[int]bool{}}
	for _, p := range points {
		if _, ok := t.best[p.window]; !ok && p.window >= 0 {
			t.best[p.window] = -pr.FN
			t.order = append(t.order, p.window)
		}
		detected := p.score >= threshold
		switch {
		case p.window >= 0 && detected:
			t.tp++
			t.hit[p.window] = true
			t.best[p.window] = math.Max(t.best[p.window], p.weight(pr))
		case p.window >= 0:
			t.fn++
		case detected:
			t.fpN++
			t.fp += p.weight(pr)
		default:
			t.tn++
		}
	}
	return t
}

// total is the file's or corpus's NAB score: the false-positive sum plus the
// best value of every window (−A_FN for a window with no detection).
func (t tally) total() float64 {
	s := t.fp
	for _, w := range t.order {
		s += t.best[w]
	}
	return s
}

// sweep returns the threshold that maximises the total score of points
// (optimizer.py): every distinct score, highest first, is a candidate, as is
// a threshold above every score; on a tie the higher threshold wins. order
// lists the points' indices by descending score.
func sweep(points []point, order []int32, windows int, pr Profile) (threshold, score float64) {
	best := make([]float64, windows)
	present := make([]bool, windows)
	total := 0.0
	for _, p := range points {
		if p.window >= 0 && !present[p.window] {
			present[p.window] = true
			best[p.window] = -pr.FN
			total -= pr.FN
		}
	}
	threshold, score = 1.1, total
	if len(order) > 0 && points[order[0]].score >= threshold {
		threshold = math.Nextafter(points[order[0]].score, math.Inf(1))
	}
	for k, idx := range order {
		p := points[idx]
		if k > 0 && p.score != points[order[k-1]].score && total > score {
			threshold, score = points[order[k-1]].score, total
		}
		w := p.weight(pr)
		switch {
		case p.window < 0:
			total += w
		case w > best[p.window]:
			total += w - best[p.window]
			best[p.window] = w
		}
	}
	if len(order) > 0 && total > score {
		threshold, score = points[order[len(order)-1]].score, total
	}
	return threshold, score
}

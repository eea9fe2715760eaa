package cbad

import (
	"fmt"
	"slices"
	"strings"
)

// metricName returns the metric part of the stream key, or "value".
func (s *Stream) metricName() string {
	if parts := strings.SplitN(s.key, "|", 3); len(parts) == 3 && parts[2] != "" {
		return parts[2]
	}
	return "value"
}

// metricSummary describes one metric event.
func (s *Stream) metricSummary(it *item) string {
	return fmt.Sprintf("%s = %s", s.metricName(), formatValue(it.vals[0]))
}

// metricSentences describes how the window's values differ from the
// baseline's: level (the middle 80%), spread, and values beyond the
// baseline's range.
func (s *Stream) metricSentences() []string {
	win := make([]float64, 0, s.window.n)
	for i := 0; i < s.window.n; i++ {
		win = append(win, s.window.at(i).vals[0])
	}
	slices.Sort(win)
	base := s.ref.sorted
	b10, b50, b90 := quantileSorted(base, 0.1), quantileSorted(base, 0.5), quantileSorted(base, 0.9)
	w10, w50, w90 := quantileSorted(win, 0.1), quantileSorted(win, 0.5), quantileSorted(win, 0.9)
	name := s.metricName()
	var out []string
	if shifted(w50, b10, b90) {
		out = append(out, fmt.Sprintf("%s moved from a typical %s–%s (median %s) to %s–%s (median %s).",
			name, formatValue(b10), formatValue(b90), formatValue(b50), formatValue(w10), formatValue(w90), formatValue(w50)))
	}
	bw, ww := b90-b10, w90-w10
	switch {
	case ww > 1.5*bw && ww > 0:
		out = append(out, fmt.Sprintf("Its spread (10th to 90th percentile) widened from %s to %s.", formatValue(bw), formatValue(ww)))
	case bw > 1.5*ww && bw > 0:
		out = append(out, fmt.Sprintf("Its spread (10th to 90th percentile) narrowed from %s to %s.", formatValue(bw), formatValue(ww)))
	}
	lo, hi := base[0], base[len(base)-1]
	outside := 0
	for _, v := range win {
		if v < lo || v > hi {
			outside++
		}
	}
	if outside > 0 {
		out = append(out, fmt.Sprintf("%d of %d values fell outside the baseline's range %s to %s (window range %s to %s).",
			outside, len(win), formatValue(lo), formatValue(hi), formatValue(win[0]), formatValue(win[len(win)-1])))
	}
	return out
}

// shifted reports whether the median m left the band [lo, hi].
func shifted(m, lo, hi float64) bool { return m < lo || m > hi }

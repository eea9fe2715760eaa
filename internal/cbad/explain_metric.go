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
	return fmt.Sprintf("%s = %s", s.metricName(), formatValue(it.v))
}

// metricSentences describes how the newest values (the last hop of the
// window) differ from the baseline's: level (the middle 80%), spread, and
// values of the window beyond the baseline's range.
func (s *Stream) metricSentences() []string {
	recent := make([]float64, 0, s.cfg.HopSize)
	for i := s.window.len() - min(s.cfg.HopSize, s.window.len()); i < s.window.len(); i++ {
		recent = append(recent, s.window.at(i).v)
	}
	slices.Sort(recent)
	base := s.ref.sorted
	b10, b50, b90 := quantileSorted(base, 0.1), quantileSorted(base, 0.5), quantileSorted(base, 0.9)
	w10, w50, w90 := quantileSorted(recent, 0.1), quantileSorted(recent, 0.5), quantileSorted(recent, 0.9)
	name := s.metricName()
	var out []string
	if w50 < b10 || w50 > b90 {
		out = append(out, fmt.Sprintf("Over the latest %d values %s moved from a typical %s–%s (median %s) to %s–%s (median %s).",
			len(recent), name, formatValue(b10), formatValue(b90), formatValue(b50), formatValue(w10), formatValue(w90), formatValue(w50)))
	}
	bw, ww := b90-b10, w90-w10
	switch {
	case ww > 1.5*bw && ww > 0:
		out = append(out, fmt.Sprintf("Over the latest %d values its spread (10th to 90th percentile) widened from %s to %s.", len(recent), formatValue(bw), formatValue(ww)))
	case bw > 1.5*ww && bw > 0:
		out = append(out, fmt.Sprintf("Over the latest %d values its spread (10th to 90th percentile) narrowed from %s to %s.", len(recent), formatValue(bw), formatValue(ww)))
	}
	lo, hi := base[0], base[len(base)-1]
	outside, wlo, whi := 0, lo, hi
	for i := 0; i < s.window.len(); i++ {
		v := s.window.at(i).v
		if v < lo || v > hi {
			outside++
		}
		wlo, whi = min(wlo, v), max(whi, v)
	}
	if outside > 0 {
		out = append(out, fmt.Sprintf("%d of %d values in the window fell outside the baseline's range %s to %s (window range %s to %s).",
			outside, s.window.len(), formatValue(lo), formatValue(hi), formatValue(wlo), formatValue(whi)))
	}
	return out
}

package cbad

import (
	"fmt"
	"math"
	"strconv"

	"github.com/driftlock/driftlock/internal/event"
)

// maxFeatures is the most features a metric event is reduced to.
const maxFeatures = 3

// metricFeatureNames names the features of each metric type, primary first.
var metricFeatureNames = map[string][]string{
	"gauge":                 {"value"},
	"sum":                   {"value"},
	"histogram":             {"mean", "count", "p90"},
	"exponential_histogram": {"mean", "count"},
	"summary":               {"mean", "count", "top quantile"},
}

// metricFeatures reduces a metric event to at most maxFeatures numbers:
// gauges and sums to the mean of their points (a cumulative monotonic sum
// to its increase since the previous event), histograms to mean, count and
// an estimated 90th percentile, summaries to mean, count and the highest
// quantile. prev is the previous raw value of a cumulative sum.
func metricFeatures(m *event.MetricData, prev *float64, havePrev *bool) (vals [maxFeatures]float64, n int, err error) {
	switch m.Type {
	case "gauge", "sum":
		pts := m.Gauge
		if m.Type == "sum" {
			pts = m.Sum
		}
		if len(pts) == 0 {
			return vals, 0, fmt.Errorf("metric %q has no %s points", m.Name, m.Type)
		}
		var total float64
		for _, p := range pts {
			v, perr := strconv.ParseFloat(string(p.Value), 64)
			if perr != nil {
				return vals, 0, fmt.Errorf("metric %q: bad value %q", m.Name, p.Value)
			}
			total += v
		}
		v := total / float64(len(pts))
		if m.Type == "sum" && m.IsMonotonic != nil && *m.IsMonotonic && m.AggregationTemporality != "delta" {
			raw := v
			if *havePrev {
				v = raw - *prev
			} else {
				v = 0
			}
			*prev, *havePrev = raw, true
		}
		vals[0] = v
		return vals, 1, nil
	case "histogram":
		return histogramFeatures(m)
	case "exponential_histogram":
		var count, sum float64
		for _, p := range m.ExponentialHistogram {
			count += float64(p.Count)
			if p.Sum != nil {
				sum += *p.Sum
			}
		}
		vals[0], vals[1] = safeDiv(sum, count), count
		return vals, 2, nil
	case "summary":
		var count, sum, top float64
		for _, p := range m.Summary {
			count += float64(p.Count)
			sum += p.Sum
			if q := len(p.QuantileValues); q > 0 {
				top = max(top, p.QuantileValues[q-1].Value)
			}
		}
		vals[0], vals[1], vals[2] = safeDiv(sum, count), count, top
		return vals, 3, nil
	}
	return vals, 0, fmt.Errorf("metric %q has unknown type %q", m.Name, m.Type)
}

func histogramFeatures(m *event.MetricData) (vals [maxFeatures]float64, n int, err error) {
	var count, sum, p90 float64
	for _, p := range m.Histogram {
		count += float64(p.Count)
		if p.Sum != nil {
			sum += *p.Sum
		}
		p90 = max(p90, bucketQuantile(p.BucketCounts, p.ExplicitBounds, 0.9))
	}
	vals[0], vals[1], vals[2] = safeDiv(sum, count), count, p90
	return vals, 3, nil
}

// bucketQuantile estimates quantile q of an explicit-bucket histogram as the
// upper bound of the bucket holding it (the last bound for the overflow bucket).
func bucketQuantile(counts []uint64, bounds []float64, q float64) float64 {
	var total uint64
	for _, c := range counts {
		total += c
	}
	if total == 0 || len(bounds) == 0 {
		return 0
	}
	target := uint64(math.Ceil(q * float64(total)))
	var run uint64
	for i, c := range counts {
		run += c
		if run >= target {
			return bounds[min(i, len(bounds)-1)]
		}
	}
	return bounds[len(bounds)-1]
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// formatValue renders a metric value compactly for people.
func formatValue(v float64) string {
	return strconv.FormatFloat(v, 'g', 4, 64)
}

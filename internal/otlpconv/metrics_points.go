package otlpconv

import (
	"strconv"

	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
)

func (b *batch) histogramPoint(dp *metricspb.HistogramDataPoint) (uint64, *skipped, error) {
	for _, f := range dp.GetExplicitBounds() {
		if !finite(f) {
			return 0, &skipped{"has explicit bound " + nonFiniteName(f), dp.GetFlags()&noRecordedValue != 0}, nil
		}
	}
	b.pointStart(dp.GetTimeUnixNano())
	b.buf = append(b.buf, `,"count":`...)
	b.buf = strconv.AppendUint(b.buf, dp.GetCount(), 10)
	b.appendOptFloat("sum", dp.Sum)
	b.appendOptFloat("min", dp.Min)
	b.appendOptFloat("max", dp.Max)
	b.buf = append(b.buf, `,"bucket_counts":`...)
	b.buf = appendUints(b.buf, dp.GetBucketCounts())
	b.buf = append(b.buf, `,"explicit_bounds":`...)
	b.buf = appendFloats(b.buf, dp.GetExplicitBounds())
	return dp.GetTimeUnixNano(), nil, b.pointEnd(dp.GetAttributes())
}

func (b *batch) expHistogramPoint(dp *metricspb.ExponentialHistogramDataPoint) (uint64, *skipped, error) {
	b.pointStart(dp.GetTimeUnixNano())
	b.buf = append(b.buf, `,"count":`...)
	b.buf = strconv.AppendUint(b.buf, dp.GetCount(), 10)
	b.appendOptFloat("sum", dp.Sum)
	b.appendOptFloat("min", dp.Min)
	b.appendOptFloat("max", dp.Max)
	b.buf = append(b.buf, `,"scale":`...)
	b.buf = strconv.AppendInt(b.buf, int64(dp.GetScale()), 10)
	b.buf = append(b.buf, `,"zero_count":`...)
	b.buf = strconv.AppendUint(b.buf, dp.GetZeroCount(), 10)
	b.buf = append(b.buf, `,"positive":`...)
	b.appendBuckets(dp.GetPositive())
	b.buf = append(b.buf, `,"negative":`...)
	b.appendBuckets(dp.GetNegative())
	return dp.GetTimeUnixNano(), nil, b.pointEnd(dp.GetAttributes())
}

func (b *batch) appendBuckets(bk *metricspb.ExponentialHistogramDataPoint_Buckets) {
	b.buf = append(b.buf, `{"offset":`...)
	b.buf = strconv.AppendInt(b.buf, int64(bk.GetOffset()), 10)
	b.buf = append(b.buf, `,"bucket_counts":`...)
	b.buf = appendUints(b.buf, bk.GetBucketCounts())
	b.buf = append(b.buf, '}')
}

func (b *batch) summaryPoint(dp *metricspb.SummaryDataPoint) (uint64, *skipped, error) {
	quiet := dp.GetFlags()&noRecordedValue != 0
	if !finite(dp.GetSum()) {
		return 0, &skipped{"has sum " + nonFiniteName(dp.GetSum()), quiet}, nil
	}
	for _, q := range dp.GetQuantileValues() {
		if !finite(q.GetQuantile()) || !finite(q.GetValue()) {
			return 0, &skipped{"has a non-finite quantile", quiet}, nil
		}
	}
	b.pointStart(dp.GetTimeUnixNano())
	b.buf = append(b.buf, `,"count":`...)
	b.buf = strconv.AppendUint(b.buf, dp.GetCount(), 10)
	b.buf = append(b.buf, `,"sum":`...)
	b.buf = appendFloat(b.buf, dp.GetSum())
	b.buf = append(b.buf, `,"quantile_values":[`...)
	for i, q := range dp.GetQuantileValues() {
		if i > 0 {
			b.buf = append(b.buf, ',')
		}
		b.buf = append(b.buf, `{"quantile":`...)
		b.buf = appendFloat(b.buf, q.GetQuantile())
		b.buf = append(b.buf, `,"value":`...)
		b.buf = appendFloat(b.buf, q.GetValue())
		b.buf = append(b.buf, '}')
	}
	b.buf = append(b.buf, ']')
	return dp.GetTimeUnixNano(), nil, b.pointEnd(dp.GetAttributes())
}

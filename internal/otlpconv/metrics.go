package otlpconv

import (
	"fmt"
	"math"
	"strconv"

	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
)

func countMetrics(req *colmetricspb.ExportMetricsServiceRequest) int {
	n := 0
	for _, rm := range req.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			n += len(sm.GetMetrics())
		}
	}
	return n
}

func (b *batch) metrics(req *colmetricspb.ExportMetricsServiceRequest) {
	for _, rm := range req.GetResourceMetrics() {
		b.setResource(rm.GetResource().GetAttributes())
		for _, sm := range rm.GetScopeMetrics() {
			b.setScope(sm.GetScope())
			for _, m := range sm.GetMetrics() {
				b.metric = m.GetName()
				b.oneMetric(m)
				b.index++
			}
		}
	}
}

// temporalityNames spells AggregationTemporality; unspecified is left out.
var temporalityNames = map[metricspb.AggregationTemporality]string{
	metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA:      "delta",
	metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE: "cumulative",
}

// oneMetric encodes one metric as event.MetricData with all its valid points.
func (b *batch) oneMetric(m *metricspb.Metric) {
	b.writeMetric(m.GetName(), m.GetDescription(), m.GetUnit(),
		func() int { return pointCount(m) }, func() (points, bool) { return b.metricPoints(m) })
}

// writeMetric encodes a metric whose points write writes (ok false: no data
// of a known type) and count counts.
func (b *batch) writeMetric(name, description, unit string, count func() int, write func() (p points, ok bool)) {
	if name == "" {
		b.reject(&limitError{"invalid", "metric has no name"}, count())
		return
	}
	b.open()
	b.buf = append(b.buf, `{"name":`...)
	b.buf = appendString(b.buf, name)
	b.buf = append(b.buf, `,"description":`...)
	b.buf = appendString(b.buf, description)
	b.buf = append(b.buf, `,"unit":`...)
	b.buf = appendString(b.buf, unit)
	p, ok := write()
	if !ok {
		b.fail(&limitError{"invalid", "metric has no data"}, 0)
		return
	}
	switch {
	case p.err != nil:
		b.fail(p.err, p.total)
	case p.kept == 0:
		b.buf = b.buf[:b.start] // nothing to say: no record
	default:
		b.buf = append(b.buf, ']')
		b.appendScope()
		b.buf = append(b.buf, '}')
		b.closeMetric(name, p.latest, p.total)
	}
}

// metricPoints writes the type, its fields and the list of points of m; ok
// is false when m has no data of a known type.
func (b *batch) metricPoints(m *metricspb.Metric) (p points, ok bool) {
	switch d := m.GetData().(type) {
	case *metricspb.Metric_Gauge:
		b.header("gauge", 0, nil)
		p = writePoints(b, d.Gauge.GetDataPoints(), b.numberPoint)
	case *metricspb.Metric_Sum:
		mono := d.Sum.GetIsMonotonic()
		b.header("sum", d.Sum.GetAggregationTemporality(), &mono)
		p = writePoints(b, d.Sum.GetDataPoints(), b.numberPoint)
	case *metricspb.Metric_Histogram:
		b.header("histogram", d.Histogram.GetAggregationTemporality(), nil)
		p = writePoints(b, d.Histogram.GetDataPoints(), b.histogramPoint)
	case *metricspb.Metric_ExponentialHistogram:
		b.header("exponential_histogram", d.ExponentialHistogram.GetAggregationTemporality(), nil)
		p = writePoints(b, d.ExponentialHistogram.GetDataPoints(), b.expHistogramPoint)
	case *metricspb.Metric_Summary:
		b.header("summary", 0, nil)
		p = writePoints(b, d.Summary.GetDataPoints(), b.summaryPoint)
	default:
		return p, false
	}
	return p, true
}

// pointCount is the number of data points of m.
func pointCount(m *metricspb.Metric) int {
	switch d := m.GetData().(type) {
	case *metricspb.Metric_Gauge:
		return len(d.Gauge.GetDataPoints())
	case *metricspb.Metric_Sum:
		return len(d.Sum.GetDataPoints())
	case *metricspb.Metric_Histogram:
		return len(d.Histogram.GetDataPoints())
	case *metricspb.Metric_ExponentialHistogram:
		return len(d.ExponentialHistogram.GetDataPoints())
	case *metricspb.Metric_Summary:
		return len(d.Summary.GetDataPoints())
	}
	return 0
}

// header writes the type, the sum's temporality and monotonicity, and opens
// the list of points.
func (b *batch) header(typ string, t metricspb.AggregationTemporality, mono *bool) {
	b.buf = append(b.buf, `,"type":"`...)
	b.buf = append(b.buf, typ...)
	b.buf = append(b.buf, '"')
	if name, ok := temporalityNames[t]; ok {
		b.buf = append(b.buf, `,"aggregation_temporality":"`...)
		b.buf = append(b.buf, name...)
		b.buf = append(b.buf, '"')
	}
	if mono != nil {
		b.buf = append(b.buf, `,"is_monotonic":`...)
		b.buf = strconv.AppendBool(b.buf, *mono)
	}
	b.buf = append(b.buf, `,"`...)
	b.buf = append(b.buf, typ...)
	b.buf = append(b.buf, `":[`...)
}

// points sums up the writing of a metric's points.
type points struct {
	total, kept int
	latest      uint64 // latest time of a kept point
	err         error  // a limit broken: the whole metric is rejected
}

// pointWriter writes one point, or says why it cannot be written (skip) or
// why the whole metric cannot (err). It writes nothing when skip is set.
type pointWriter[P any] func(pt P) (ts uint64, skip *skipped, err error)

// skipped is a point left out of its metric.
type skipped struct {
	why   string
	quiet bool // a staleness marker: left out without a rejection
}

func writePoints[P any](b *batch, pts []P, write pointWriter[P]) points {
	p := points{total: len(pts)}
	for i, pt := range pts {
		mark := len(b.buf)
		if p.kept > 0 {
			b.buf = append(b.buf, ',')
		}
		ts, skip, err := write(pt)
		if err != nil {
			p.err = err
			return p
		}
		if skip != nil {
			b.buf = b.buf[:mark]
			if !skip.quiet {
				b.reject(&limitError{"invalid", fmt.Sprintf("point %d %s, which JSON cannot carry; point dropped", i, skip.why)}, 1)
			}
			continue
		}
		p.kept++
		p.latest = max(p.latest, ts)
	}
	return p
}

// noRecordedValue is DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK.
const noRecordedValue = uint32(metricspb.DataPointFlags_DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK)

// numberFields are a number point's fields but its attributes, as both the
// protobuf-go and the wire path read them.
type numberFields struct {
	time  uint64
	flags uint32
	kind  numberKind
	value uint64 // the int64 or the float64's bits
}

// numberKind is which value a number point has.
type numberKind uint8

const (
	noValue numberKind = iota
	intValue
	doubleValue
)

func (b *batch) numberPoint(dp *metricspb.NumberDataPoint) (uint64, *skipped, error) {
	f := numberFields{time: dp.GetTimeUnixNano(), flags: dp.GetFlags()}
	switch v := dp.GetValue().(type) {
	case *metricspb.NumberDataPoint_AsInt:
		f.kind, f.value = intValue, uint64(v.AsInt)
	case *metricspb.NumberDataPoint_AsDouble:
		f.kind, f.value = doubleValue, math.Float64bits(v.AsDouble)
	}
	if skip := b.numberStart(&f); skip != nil {
		return 0, skip, nil
	}
	return f.time, nil, b.pointEnd(dp.GetAttributes())
}

// numberStart writes a number point up to its attributes, or says why it
// is left out.
func (b *batch) numberStart(f *numberFields) *skipped {
	quiet := f.flags&noRecordedValue != 0
	switch f.kind {
	case intValue:
		b.pointStart(f.time)
		b.buf = append(b.buf, `,"value":`...)
		b.buf = strconv.AppendInt(b.buf, int64(f.value), 10)
	case doubleValue:
		d := math.Float64frombits(f.value)
		if !finite(d) {
			return &skipped{"has value " + nonFiniteName(d), quiet}
		}
		b.pointStart(f.time)
		b.buf = append(b.buf, `,"value":`...)
		b.buf = appendFloat(b.buf, d)
	default:
		return &skipped{"has no value", quiet}
	}
	return nil
}

// pointStart writes {"timestamp":...
func (b *batch) pointStart(ts uint64) {
	b.buf = append(b.buf, `{"timestamp":`...)
	b.buf = b.times.appendNanoTime(b.buf, ts)
}

// pointEnd writes the point's merged attributes and closes it.
func (b *batch) pointEnd(attrs []*commonpb.KeyValue) error {
	b.buf = append(b.buf, `,"attributes":`...)
	return b.closePoint(b.appendMerged(attrs))
}

// closePoint closes a point after its attributes, unless writing them
// failed with err.
func (b *batch) closePoint(err error) error {
	if err != nil {
		return err
	}
	b.buf = append(b.buf, '}')
	return nil
}

// appendOptFloat writes ,"name":f when f is set and finite.
func (b *batch) appendOptFloat(name string, f *float64) {
	if f != nil && finite(*f) {
		b.buf = append(b.buf, ',', '"')
		b.buf = append(b.buf, name...)
		b.buf = append(b.buf, '"', ':')
		b.buf = appendFloat(b.buf, *f)
	}
}

func appendUints(dst []byte, vs []uint64) []byte {
	dst = append(dst, '[')
	for i, v := range vs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendUint(dst, v, 10)
	}
	return append(dst, ']')
}

func appendFloats(dst []byte, vs []float64) []byte {
	dst = append(dst, '[')
	for i, v := range vs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendFloat(dst, v)
	}
	return append(dst, ']')
}

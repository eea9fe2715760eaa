package otlpconv

import (
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/driftlock/driftlock/internal/event"
)

// The rules of the metrics requests the wire path takes: gauges and sums
// without exemplars.
var (
	numberPointRules = []rule{
		2: {kind: ruleScalar, typ: protowire.Fixed64Type}, 3: {kind: ruleScalar, typ: protowire.Fixed64Type},
		4: {kind: ruleScalar, typ: protowire.Fixed64Type, slot: 4}, 6: {kind: ruleScalar, typ: protowire.Fixed64Type, slot: 4},
		7: attrsRule, 8: {kind: ruleScalar, typ: protowire.VarintType},
	}
	gaugeRules = []rule{1: {kind: ruleList, sub: numberPointRules}}
	sumRules   = []rule{1: {kind: ruleList, sub: numberPointRules},
		2: {kind: ruleScalar, typ: protowire.VarintType}, 3: {kind: ruleScalar, typ: protowire.VarintType}}
	metricRules = []rule{1: {kind: ruleText}, 2: {kind: ruleText}, 3: {kind: ruleText},
		5: {kind: ruleMsg, sub: gaugeRules, slot: 5}, 7: {kind: ruleMsg, sub: sumRules, slot: 5}, 12: attrsRule}
	scopeMetricsRules    = []rule{1: {kind: ruleMsg, sub: scopeRules}, 2: {kind: ruleItems, sub: metricRules}, 3: {kind: ruleText}}
	resourceMetricsRules = []rule{1: {kind: ruleMsg, sub: resourceRules}, 2: {kind: ruleList, sub: scopeMetricsRules}, 3: {kind: ruleText}}
	metricsRequestRules  = []rule{1: {kind: ruleList, sub: resourceMetricsRules}}
)

// MetricsProto converts an OTLP/protobuf metrics request body as
// DecodeMetrics and Metrics would, as LogsProto does for logs: gauges and
// sums straight from the wire bytes.
func (c *Converter) MetricsProto(body []byte, source string) ([]Record, []Rejection, error) {
	if recs, rejs, ok := c.fromWire(body, source, event.TypeMetric); ok {
		return recs, rejs, nil
	}
	req := &colmetricspb.ExportMetricsServiceRequest{}
	if err := decode(body, false, "metrics", req); err != nil {
		return nil, nil, err
	}
	recs, rejs := c.Metrics(req, source)
	return recs, rejs, nil
}

// wireMetrics converts a checked ExportMetricsServiceRequest as metrics does.
func (b *batch) wireMetrics(body []byte) {
	for rm := (wireIter{b: body}); rm.next(); {
		b.wireResource(rm.bytes())
		for sm := (wireIter{b: rm.bytes()}); sm.next(); {
			if sm.num != 2 {
				continue
			}
			b.wireScope(sm.bytes())
			for m := (wireIter{b: sm.bytes()}); m.next(); {
				if m.num == 2 {
					b.wireMetric(m.bytes())
					b.index++
				}
			}
		}
	}
}

// wireMetric encodes one checked Metric as oneMetric does.
func (b *batch) wireMetric(m []byte) {
	var description, unit string
	var data []byte
	kind := protowire.Number(0) // 5 gauge, 7 sum
	b.metric = ""
	for it := (wireIter{b: m}); it.next(); {
		switch it.num {
		case 1:
			b.metric = bstr(it.bytes())
		case 2:
			description = bstr(it.bytes())
		case 3:
			unit = bstr(it.bytes())
		case 5, 7:
			kind, data = it.num, it.bytes()
		}
	}
	b.writeMetric(b.metric, description, unit, func() int { return len(b.wirePoints(data)) },
		func() (points, bool) { return b.wireMetricPoints(kind, data) })
}

// wirePoints collects the points (field 1) of a checked Gauge or Sum in
// b.wpts.
func (b *batch) wirePoints(data []byte) [][]byte {
	b.wpts = b.wpts[:0]
	for it := (wireIter{b: data}); it.next(); {
		if it.num == 1 {
			b.wpts = append(b.wpts, it.bytes())
		}
	}
	return b.wpts
}

// wireMetricPoints is metricPoints for a gauge (kind 5) or sum (7) read
// from the wire.
func (b *batch) wireMetricPoints(kind protowire.Number, data []byte) (points, bool) {
	switch kind {
	case 5:
		b.header("gauge", 0, nil)
	case 7:
		var temporality metricspb.AggregationTemporality
		var mono bool
		for it := (wireIter{b: data}); it.next(); {
			switch it.num {
			case 2:
				temporality = metricspb.AggregationTemporality(int32(it.u))
			case 3:
				mono = it.u != 0
			}
		}
		b.header("sum", temporality, &mono)
	default:
		return points{}, false
	}
	return writePoints(b, b.wirePoints(data), b.wireNumberPoint), true
}

// wireNumberPoint is numberPoint for a checked NumberDataPoint.
func (b *batch) wireNumberPoint(p []byte) (uint64, *skipped, error) {
	var f numberFields
	b.wown = b.wown[:0]
	for it := (wireIter{b: p}); it.next(); {
		switch it.num {
		case 3:
			f.time = it.u
		case 4:
			f.kind, f.value = doubleValue, it.u
		case 6:
			f.kind, f.value = intValue, it.u
		case 7:
			b.wown = append(b.wown, readKV(it.bytes()))
		case 8:
			f.flags = uint32(it.u)
		}
	}
	if skip := b.numberStart(&f); skip != nil {
		return 0, skip, nil
	}
	b.buf = append(b.buf, `,"attributes":`...)
	return f.time, nil, b.closePoint(b.appendWireMerged(b.wown))
}

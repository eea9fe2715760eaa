package otlpconv

import (
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"

	"github.com/driftlock/driftlock/internal/event"
)

// The reference conversion builds the typed structs of package event and
// marshals them with encoding/json. It ignores limits; the fast encoder must
// produce the same bytes for every record it keeps.

// unixNanos converts an OTLP timestamp to a time. Values past 2262 wrap, as
// int64 nanoseconds do.
func unixNanos(ns uint64) time.Time { return time.Unix(0, int64(ns)).UTC() }

type refRecord struct {
	key   string
	value []byte
}

func refMarshal(t event.Type, data any, ts uint64, source string) []byte {
	raw, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	v, err := json.Marshal(event.Event{Type: t, Data: raw, Timestamp: event.FormatTimestamp(unixNanos(ts)), Source: source})
	if err != nil {
		panic(err)
	}
	return v
}

func refAny(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_DoubleValue:
		if !finite(x.DoubleValue) {
			return nonFiniteName(x.DoubleValue)
		}
		return x.DoubleValue
	case *commonpb.AnyValue_BytesValue:
		return x.BytesValue
	case *commonpb.AnyValue_ArrayValue:
		out := make([]any, 0)
		for _, e := range x.ArrayValue.GetValues() {
			out = append(out, refAny(e))
		}
		return out
	case *commonpb.AnyValue_KvlistValue:
		return refAttrs(nil, x.KvlistValue.GetValues())
	}
	return nil
}

// refAttrs adds attrs to m (a new map when nil), later keys winning.
func refAttrs(m map[string]any, attrs []*commonpb.KeyValue) map[string]any {
	if m == nil {
		m = map[string]any{}
	}
	for _, a := range attrs {
		if a != nil {
			m[a.Key] = refAny(a.Value)
		}
	}
	return m
}

func refService(attrs []*commonpb.KeyValue) string {
	s := ""
	for _, a := range attrs {
		if a != nil && a.Key == "service.name" {
			s = a.Value.GetStringValue()
		}
	}
	if s == "" {
		return event.UnknownService
	}
	return s
}

func refKeyService(attrs []*commonpb.KeyValue) string {
	return strings.ReplaceAll(refService(attrs), "|", "_")
}

func refHex(b []byte) string {
	if isZeroID(b) {
		return ""
	}
	return hex.EncodeToString(b)
}

func refLogs(req *collogspb.ExportLogsServiceRequest, source string) []refRecord {
	var out []refRecord
	for _, rl := range req.GetResourceLogs() {
		res := rl.GetResource().GetAttributes()
		key := event.StreamKey(refKeyService(res), event.TypeLog, "")
		for _, sl := range rl.GetScopeLogs() {
			for _, lr := range sl.GetLogRecords() {
				ts := lr.GetTimeUnixNano()
				if ts == 0 {
					ts = lr.GetObservedTimeUnixNano()
				}
				d := event.LogData{
					Timestamp:      event.FormatNanos(unixNanos(ts)),
					Severity:       severity(lr.GetSeverityText(), int32(lr.GetSeverityNumber())),
					Body:           refAny(lr.GetBody()),
					SeverityNumber: int32(lr.GetSeverityNumber()),
					Flags:          lr.GetFlags(),
					Attributes:     refAttrs(refAttrs(nil, res), lr.GetAttributes()),
					TraceID:        refHex(lr.GetTraceId()),
					SpanID:         refHex(lr.GetSpanId()),
					ScopeName:      sl.GetScope().GetName(),
					ScopeVersion:   sl.GetScope().GetVersion(),
				}
				out = append(out, refRecord{key, refMarshal(event.TypeLog, d, ts, source)})
			}
		}
	}
	return out
}

func refTraces(req *coltracepb.ExportTraceServiceRequest, source string) []refRecord {
	var out []refRecord
	for _, rs := range req.GetResourceSpans() {
		res := rs.GetResource().GetAttributes()
		key := event.StreamKey(refKeyService(res), event.TypeSpan, "")
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				start, end := sp.GetStartTimeUnixNano(), sp.GetEndTimeUnixNano()
				d := event.SpanData{
					Name:          sp.GetName(),
					Kind:          enumName(spanKinds[:], int32(sp.GetKind())),
					TraceID:       hex.EncodeToString(sp.GetTraceId()),
					SpanID:        hex.EncodeToString(sp.GetSpanId()),
					ParentSpanID:  refHex(sp.GetParentSpanId()),
					StartTime:     event.FormatNanos(unixNanos(start)),
					EndTime:       event.FormatNanos(unixNanos(end)),
					DurationNanos: int64(end) - int64(start),
					StatusCode:    enumName(statusCodes[:], int32(sp.GetStatus().GetCode())),
					StatusMessage: sp.GetStatus().GetMessage(),
					Attributes:    refAttrs(refAttrs(nil, res), sp.GetAttributes()),
					ScopeName:     ss.GetScope().GetName(),
					ScopeVersion:  ss.GetScope().GetVersion(),
				}
				for _, ev := range sp.GetEvents() {
					se := event.SpanEvent{Name: ev.GetName(), Timestamp: event.FormatNanos(unixNanos(ev.GetTimeUnixNano()))}
					if attrs := refAttrs(nil, ev.GetAttributes()); len(attrs) > 0 {
						se.Attributes = attrs
					}
					d.Events = append(d.Events, se)
				}
				out = append(out, refRecord{key, refMarshal(event.TypeSpan, d, start, source)})
			}
		}
	}
	return out
}

func refMetrics(req *colmetricspb.ExportMetricsServiceRequest, source string) []refRecord {
	var out []refRecord
	for _, rm := range req.GetResourceMetrics() {
		res := rm.GetResource().GetAttributes()
		service := refKeyService(res)
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				d, latest, n := refMetric(m, res)
				if n == 0 || m.GetName() == "" {
					continue
				}
				d.ScopeName, d.ScopeVersion = sm.GetScope().GetName(), sm.GetScope().GetVersion()
				key := event.StreamKey(service, event.TypeMetric, m.GetName())
				out = append(out, refRecord{key, refMarshal(event.TypeMetric, d, latest, source)})
			}
		}
	}
	return out
}

func refFloat(f float64) json.Number {
	b, err := json.Marshal(f)
	if err != nil {
		panic(err)
	}
	return json.Number(b)
}

func refOpt(f *float64) *float64 {
	if f == nil || !finite(*f) {
		return nil
	}
	v := *f
	return &v
}

func refTemporality(t metricspb.AggregationTemporality) string { return temporalityNames[t] }

// refMetric returns the metric's data, its latest kept point time and the
// number of kept points.
func refMetric(m *metricspb.Metric, res []*commonpb.KeyValue) (event.MetricData, uint64, int) {
	d := event.MetricData{Name: m.GetName(), Description: m.GetDescription(), Unit: m.GetUnit()}
	var latest uint64
	n := 0
	keep := func(ts uint64) { latest = max(latest, ts); n++ }
	attrs := func(a []*commonpb.KeyValue) map[string]any { return refAttrs(refAttrs(nil, res), a) }
	switch x := m.GetData().(type) {
	case *metricspb.Metric_Gauge:
		d.Type = "gauge"
		d.Gauge = refNumbers(x.Gauge.GetDataPoints(), attrs, keep)
	case *metricspb.Metric_Sum:
		d.Type = "sum"
		d.AggregationTemporality = refTemporality(x.Sum.GetAggregationTemporality())
		mono := x.Sum.GetIsMonotonic()
		d.IsMonotonic = &mono
		d.Sum = refNumbers(x.Sum.GetDataPoints(), attrs, keep)
	case *metricspb.Metric_Histogram:
		d.Type = "histogram"
		d.AggregationTemporality = refTemporality(x.Histogram.GetAggregationTemporality())
		d.Histogram = refHistograms(x.Histogram.GetDataPoints(), attrs, keep)
	case *metricspb.Metric_ExponentialHistogram:
		d.Type = "exponential_histogram"
		d.AggregationTemporality = refTemporality(x.ExponentialHistogram.GetAggregationTemporality())
		d.ExponentialHistogram = refExpHistograms(x.ExponentialHistogram.GetDataPoints(), attrs, keep)
	case *metricspb.Metric_Summary:
		d.Type = "summary"
		d.Summary = refSummaries(x.Summary.GetDataPoints(), attrs, keep)
	}
	return d, latest, n
}

type attrsFunc func([]*commonpb.KeyValue) map[string]any

func refNumbers(pts []*metricspb.NumberDataPoint, attrs attrsFunc, keep func(uint64)) []event.NumberPoint {
	var out []event.NumberPoint
	for _, dp := range pts {
		var v json.Number
		switch x := dp.GetValue().(type) {
		case *metricspb.NumberDataPoint_AsInt:
			v = json.Number(strconv.FormatInt(x.AsInt, 10))
		case *metricspb.NumberDataPoint_AsDouble:
			if !finite(x.AsDouble) {
				continue
			}
			v = refFloat(x.AsDouble)
		default:
			continue
		}
		keep(dp.GetTimeUnixNano())
		out = append(out, event.NumberPoint{Timestamp: event.FormatNanos(unixNanos(dp.GetTimeUnixNano())), Value: v, Attributes: attrs(dp.GetAttributes())})
	}
	return out
}

func refHistograms(pts []*metricspb.HistogramDataPoint, attrs attrsFunc, keep func(uint64)) []event.HistogramPoint {
	var out []event.HistogramPoint
next:
	for _, dp := range pts {
		for _, f := range dp.GetExplicitBounds() {
			if !finite(f) {
				continue next
			}
		}
		keep(dp.GetTimeUnixNano())
		out = append(out, event.HistogramPoint{
			Timestamp: event.FormatNanos(unixNanos(dp.GetTimeUnixNano())), Count: dp.GetCount(),
			Sum: refOpt(dp.Sum), Min: refOpt(dp.Min), Max: refOpt(dp.Max),
			BucketCounts:   append([]uint64{}, dp.GetBucketCounts()...),
			ExplicitBounds: append([]float64{}, dp.GetExplicitBounds()...),
			Attributes:     attrs(dp.GetAttributes()),
		})
	}
	return out
}

func refBuckets(b *metricspb.ExponentialHistogramDataPoint_Buckets) event.ExponentialBuckets {
	return event.ExponentialBuckets{Offset: b.GetOffset(), BucketCounts: append([]uint64{}, b.GetBucketCounts()...)}
}

func refExpHistograms(pts []*metricspb.ExponentialHistogramDataPoint, attrs attrsFunc, keep func(uint64)) []event.ExponentialHistPoint {
	var out []event.ExponentialHistPoint
	for _, dp := range pts {
		keep(dp.GetTimeUnixNano())
		out = append(out, event.ExponentialHistPoint{
			Timestamp: event.FormatNanos(unixNanos(dp.GetTimeUnixNano())), Count: dp.GetCount(),
			Sum: refOpt(dp.Sum), Min: refOpt(dp.Min), Max: refOpt(dp.Max),
			Scale: dp.GetScale(), ZeroCount: dp.GetZeroCount(),
			Positive: refBuckets(dp.GetPositive()), Negative: refBuckets(dp.GetNegative()),
			Attributes: attrs(dp.GetAttributes()),
		})
	}
	return out
}

func refSummaries(pts []*metricspb.SummaryDataPoint, attrs attrsFunc, keep func(uint64)) []event.SummaryPoint {
	var out []event.SummaryPoint
next:
	for _, dp := range pts {
		if !finite(dp.GetSum()) {
			continue
		}
		qs := []event.QuantileValue{}
		for _, q := range dp.GetQuantileValues() {
			if !finite(q.GetQuantile()) || !finite(q.GetValue()) {
				continue next
			}
			qs = append(qs, event.QuantileValue{Quantile: q.GetQuantile(), Value: q.GetValue()})
		}
		keep(dp.GetTimeUnixNano())
		out = append(out, event.SummaryPoint{
			Timestamp: event.FormatNanos(unixNanos(dp.GetTimeUnixNano())), Count: dp.GetCount(), Sum: dp.GetSum(),
			QuantileValues: qs, Attributes: attrs(dp.GetAttributes()),
		})
	}
	return out
}

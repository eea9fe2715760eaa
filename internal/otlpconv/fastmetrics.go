package otlpconv

import (
	"math"

	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/protobuf/encoding/protowire"
)

// The fast metrics decoder works as the fast logs decoder does (see
// fastlogs.go), for gauges and sums; any other kind of metric, and
// exemplars, are left to protobuf-go.

// fastDecodeMetrics decodes an OTLP/protobuf metrics request, or returns
// errNotFast.
func fastDecodeMetrics(body []byte) (*colmetricspb.ExportMetricsServiceRequest, error) {
	rms, err := fastDecodeRequest(body, (*wireDecoder).resourceMetrics)
	if err != nil {
		return nil, err
	}
	return &colmetricspb.ExportMetricsServiceRequest{ResourceMetrics: rms}, nil
}

func (d *wireDecoder) resourceMetrics(b []byte) (*metricspb.ResourceMetrics, error) {
	res, sms, url, err := decodeContainer(d, b, (*wireDecoder).resource, (*wireDecoder).scopeMetrics)
	if err != nil {
		return nil, err
	}
	return &metricspb.ResourceMetrics{Resource: res, ScopeMetrics: sms, SchemaUrl: url}, nil
}

func (d *wireDecoder) scopeMetrics(b []byte) (*metricspb.ScopeMetrics, error) {
	scope, ms, url, err := decodeContainer(d, b, (*wireDecoder).scope, (*wireDecoder).metric)
	if err != nil {
		return nil, err
	}
	return &metricspb.ScopeMetrics{Scope: scope, Metrics: ms, SchemaUrl: url}, nil
}

func (d *wireDecoder) metric(b []byte) (*metricspb.Metric, error) {
	m := &metricspb.Metric{}
	var seen uint32
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return nil, err
		}
		if !d.metricField(m, &seen, f) {
			return nil, errNotFast
		}
		b = rest
	}
	return m, nil
}

// metricField sets field f of m; false if the fast decoder leaves it to
// protobuf-go.
func (d *wireDecoder) metricField(m *metricspb.Metric, seen *uint32, f wireField) bool {
	ok := false
	var err error
	switch f.num {
	case 1:
		if ok = once(seen, f, protowire.BytesType); ok {
			m.Name, ok = d.string(f.b)
		}
	case 2:
		if ok = once(seen, f, protowire.BytesType); ok {
			m.Description, ok = d.string(f.b)
		}
	case 3:
		if ok = once(seen, f, protowire.BytesType); ok {
			m.Unit, ok = d.string(f.b)
		}
	case 5:
		if ok = m.Data == nil && f.typ == protowire.BytesType; ok {
			g := &metricspb.Gauge{}
			g.DataPoints, err = d.numberPoints(f.b, nil)
			m.Data = &metricspb.Metric_Gauge{Gauge: g}
		}
	case 7:
		if ok = m.Data == nil && f.typ == protowire.BytesType; ok {
			s := &metricspb.Sum{}
			err = d.sum(s, f.b)
			m.Data = &metricspb.Metric_Sum{Sum: s}
		}
	case 12:
		if ok = f.typ == protowire.BytesType; ok {
			m.Metadata, err = d.appendKeyValue(m.Metadata, f.b, 0)
		}
	}
	return ok && err == nil
}

// numberPoints decodes the data points (field 1) of a Gauge. A Sum's other
// fields are handed to other, which reports whether it took them.
func (d *wireDecoder) numberPoints(b []byte, other func(wireField) bool) ([]*metricspb.NumberDataPoint, error) {
	var pts []*metricspb.NumberDataPoint
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return nil, err
		}
		switch {
		case f.num == 1 && f.typ == protowire.BytesType:
			p, err := d.numberPoint(f.b)
			if err != nil {
				return nil, err
			}
			pts = append(pts, p)
		case other == nil || !other(f):
			return nil, errNotFast
		}
		b = rest
	}
	return pts, nil
}

func (d *wireDecoder) sum(s *metricspb.Sum, b []byte) error {
	var seen uint32
	var err error
	s.DataPoints, err = d.numberPoints(b, func(f wireField) bool {
		switch {
		case f.num == 2 && once(&seen, f, protowire.VarintType):
			s.AggregationTemporality = metricspb.AggregationTemporality(int32(f.u))
		case f.num == 3 && once(&seen, f, protowire.VarintType):
			s.IsMonotonic = protowire.DecodeBool(f.u)
		default:
			return false
		}
		return true
	})
	return err
}

func (d *wireDecoder) numberPoint(b []byte) (*metricspb.NumberDataPoint, error) {
	p := d.points.next()
	var seen uint32
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return nil, err
		}
		ok := false
		switch f.num {
		case 2:
			if ok = once(&seen, f, protowire.Fixed64Type); ok {
				p.StartTimeUnixNano = f.u
			}
		case 3:
			if ok = once(&seen, f, protowire.Fixed64Type); ok {
				p.TimeUnixNano = f.u
			}
		case 4:
			if ok = p.Value == nil && f.typ == protowire.Fixed64Type; ok {
				p.Value = &metricspb.NumberDataPoint_AsDouble{AsDouble: math.Float64frombits(f.u)}
			}
		case 6:
			if ok = p.Value == nil && f.typ == protowire.Fixed64Type; ok {
				p.Value = &metricspb.NumberDataPoint_AsInt{AsInt: int64(f.u)}
			}
		case 7:
			if ok = f.typ == protowire.BytesType; ok {
				p.Attributes, err = d.appendKeyValue(p.Attributes, f.b, 0)
			}
		case 8:
			if ok = once(&seen, f, protowire.VarintType); ok {
				p.Flags = uint32(f.u)
			}
		}
		if err != nil || !ok {
			return nil, errNotFast
		}
		b = rest
	}
	return p, nil
}

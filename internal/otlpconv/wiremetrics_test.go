package otlpconv

import (
	"math"
	"testing"

	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
)

// wireMetricsRequests are requests the wire path must take: every field it
// reads, and the points it drops.
func wireMetricsRequests() []*colmetricspb.ExportMetricsServiceRequest {
	stale := dpoint(4, math.NaN())
	stale.Flags = noRecordedValue
	sum := &metricspb.Metric{Name: "s|x", Data: &metricspb.Metric_Sum{Sum: &metricspb.Sum{
		DataPoints:             []*metricspb.NumberDataPoint{dpoint(5, math.Inf(1)), stale, {TimeUnixNano: 9, Attributes: kvs("host.name", "p")}},
		AggregationTemporality: metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA,
	}}}
	many := dpoint(6, 1)
	many.Attributes = kvs("a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6", "g", "7", "h", "8", "i", "9",
		"j", "10", "k", "11", "l", "12", "m", "13", "n", "14", "o", "15", "p", "16", "q", "17")
	return append(sampleMetricsRequests(),
		metricsReq(kvs("service.name", "a|b", "host.name", "h"), sum, gauge("", dpoint(1, 1)),
			gauge("only stale", stale), gauge("nan", dpoint(1, math.NaN()), dpoint(2, 3)), gauge("many", many, dpoint(7, 2)),
			&metricspb.Metric{Name: "empty gauge", Data: &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{}}}),
	)
}

func TestWireMetricsMatchesConverter(t *testing.T) {
	var bodies [][]byte
	for _, req := range wireMetricsRequests() {
		bodies = append(bodies, mustMarshal(t, req))
	}
	bodies = append(bodies, protoBody(t, "metrics", readTestdata(t, "metrics_gauge.json")),
		protoBody(t, "metrics", readTestdata(t, "metrics_sum.json")))
	for i, body := range bodies {
		for _, l := range []Limits{testLimits, fuzzLimits, {MaxAttributes: 3, MaxRecordBytes: 200}} {
			if !compareWire(t, "metrics", l, body) {
				t.Errorf("request %d: the wire path left an ordinary request", i)
			}
		}
	}
	// Histograms are left to protobuf-go, with the same outcome.
	if compareWire(t, "metrics", testLimits, mustMarshal(t, benchMetrics())) {
		t.Error("the wire path took a request with histograms")
	}
}

func (g *fuzzBuilder) metrics() *colmetricspb.ExportMetricsServiceRequest {
	req := &colmetricspb.ExportMetricsServiceRequest{}
	for n := g.byte() % 3; n > 0; n-- {
		var ms []*metricspb.Metric
		for m := g.byte() % 4; m > 0; m-- {
			c := g.byte()
			var pts []*metricspb.NumberDataPoint
			for k := g.byte() % 4; k > 0; k-- {
				v := g.byte()
				p := &metricspb.NumberDataPoint{TimeUnixNano: uint64(v) << 50, Flags: uint32(v & 1), Attributes: g.attrs(0)}
				switch v % 3 {
				case 1:
					p.Value = &metricspb.NumberDataPoint_AsInt{AsInt: int64(v) - 100}
				case 2:
					p.Value = &metricspb.NumberDataPoint_AsDouble{AsDouble: []float64{math.NaN(), math.Inf(-1), 2.5, 1e22}[v/3%4]}
				}
				pts = append(pts, p)
			}
			metric := &metricspb.Metric{Name: fuzzKeys[c%8], Unit: fuzzKeys[c/8%8]}
			switch c / 64 {
			case 1:
				metric.Data = &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{DataPoints: pts}}
			case 2, 3:
				metric.Data = &metricspb.Metric_Sum{Sum: &metricspb.Sum{DataPoints: pts,
					AggregationTemporality: metricspb.AggregationTemporality(c % 3), IsMonotonic: c&32 != 0}}
			}
			ms = append(ms, metric)
		}
		rm := metricsReq(g.attrs(0), ms...).ResourceMetrics
		rm[0].ScopeMetrics[0].Scope = g.scope()
		req.ResourceMetrics = append(req.ResourceMetrics, rm...)
	}
	return req
}

func FuzzWireMetrics(f *testing.F) { fuzzWire(f, "metrics", wireMetricsRequests()) }

func FuzzWireMetricsBuilt(f *testing.F) {
	fuzzWireBuilt(f, "metrics", []byte{2, 3, 70, 2, 1, 9, 2, 1, 200, 3, 6, 7, 2, 1, 5, 0, 2, 9, 7}, (*fuzzBuilder).metrics)
}

package otlpconv

import (
	"fmt"
	"testing"

	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/proto"
)

// compareFastMetrics is compareFastLogs for metrics.
func compareFastMetrics(t *testing.T, body []byte) bool {
	t.Helper()
	fast, ferr := fastDecodeMetrics(body)
	ref := &colmetricspb.ExportMetricsServiceRequest{}
	rerr := proto.Unmarshal(body, ref)
	if ferr != nil {
		return false
	}
	if rerr != nil {
		t.Fatalf("fast decoder accepted a body protobuf-go rejects (%v)", rerr)
	}
	if !proto.Equal(fast, ref) {
		t.Fatalf("fast decoder differs from protobuf-go:\nfast %v\nref  %v", fast, ref)
	}
	c := New(fuzzLimits)
	frecs, frejs := c.Metrics(fast, testSource)
	rrecs, rrejs := c.Metrics(ref, testSource)
	if got, want := fmt.Sprint(frecs, frejs), fmt.Sprint(rrecs, rrejs); got != want {
		t.Fatalf("records differ:\nfast %s\nref  %s", got, want)
	}
	return true
}

// fastMetricsRequests are requests the fast decoder must take, covering
// every field it reads.
func fastMetricsRequests() []*colmetricspb.ExportMetricsServiceRequest {
	intPoint := &metricspb.NumberDataPoint{
		Attributes: kvs("a", "b"), StartTimeUnixNano: 1, TimeUnixNano: 2, Flags: 1,
		Value: &metricspb.NumberDataPoint_AsInt{AsInt: -3},
	}
	sum := &metricspb.Metric{Name: "s", Description: "d", Unit: "By", Metadata: kvs("m", "n"),
		Data: &metricspb.Metric_Sum{Sum: &metricspb.Sum{
			DataPoints:             []*metricspb.NumberDataPoint{intPoint, dpoint(3, 1.5), {}},
			AggregationTemporality: metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE,
			IsMonotonic:            true,
		}}}
	return []*colmetricspb.ExportMetricsServiceRequest{
		{},
		metricsReq(kvs("service.name", "s"), gauge("g", dpoint(1, 2)), sum, &metricspb.Metric{Name: "nodata"}),
		{ResourceMetrics: []*metricspb.ResourceMetrics{{
			Resource:  &resourcepb.Resource{Attributes: kvs("service.name", "a")},
			SchemaUrl: "u",
			ScopeMetrics: []*metricspb.ScopeMetrics{
				{Scope: &commonpb.InstrumentationScope{Name: "n"}, SchemaUrl: "v", Metrics: []*metricspb.Metric{sum}},
				{},
			},
		}, {}}},
	}
}

func TestFastMetricsMatchesProtobuf(t *testing.T) {
	for i, req := range fastMetricsRequests() {
		body, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		if !compareFastMetrics(t, body) {
			t.Errorf("request %d: the fast decoder gave up on an ordinary request", i)
		}
	}
	for _, tc := range goldenCases {
		if tc.signal == "metrics" {
			compareFastMetrics(t, protoBody(t, "metrics", readTestdata(t, tc.name+".json")))
		}
	}
}

func TestFastMetricsLeavesOtherKinds(t *testing.T) {
	hist := &metricspb.Metric{Name: "h", Data: &metricspb.Metric_Histogram{Histogram: &metricspb.Histogram{}}}
	exemplar := gauge("g", &metricspb.NumberDataPoint{Exemplars: []*metricspb.Exemplar{{}}})
	for name, req := range map[string]*colmetricspb.ExportMetricsServiceRequest{
		"histogram": metricsReq(nil, hist), "exemplar": metricsReq(nil, exemplar),
	} {
		body, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fastDecodeMetrics(body); err == nil {
			t.Errorf("%s: the fast decoder took it", name)
		}
		got, err := DecodeMetrics(body, false)
		if err != nil || !proto.Equal(got, req) {
			t.Errorf("%s: DecodeMetrics = %v, %v; want the request", name, got, err)
		}
	}
}

func FuzzFastMetrics(f *testing.F) {
	addSeeds(f, "metrics", false)
	for _, req := range fastMetricsRequests() {
		body, err := proto.Marshal(req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) { compareFastMetrics(t, body) })
}

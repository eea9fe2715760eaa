package cbad

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/driftlock/driftlock/internal/event"
)

// eventsOf returns the event anomalies of results, in order.
func eventsOf(rs []Result) []*EventAnomaly {
	var out []*EventAnomaly
	for _, r := range rs {
		out = append(out, r.Events...)
	}
	return out
}

// TestMetricSpikeRaisesOneEvent: a noisy metric with one spike far outside
// its range raises exactly one event anomaly, at the spike, carrying the
// latest values with the spike marked.
func TestMetricSpikeRaisesOneEvent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const spike = 700
	var evs []event.Event
	for i := range 1000 {
		v := 100 + 5*r.NormFloat64()
		if i == spike {
			v = 400
		}
		evs = append(evs, metricEvent(i, v))
	}
	s, _ := NewStream("svc|metric|latency", DefaultConfig())
	got := eventsOf(pushAll(t, s, evs))
	if len(got) != 1 || got[0].Offset != spike {
		t.Fatalf("event anomalies %+v, want one at offset %d", got, spike)
	}
	ea := got[0]
	last := ea.Series[len(ea.Series)-1]
	if len(ea.Series) != maxSeries || last.Offset != spike || !last.Anomalous || last.Value != 400 || ea.Series[0].Anomalous {
		t.Fatalf("series of %d points, last %+v", len(ea.Series), last)
	}
	if ea.Confidence < DefaultConfig().EventThreshold || ea.Evidence[0].Offset != spike || ea.Explanation == "" {
		t.Fatalf("anomaly %+v", ea)
	}
}

// TestWarmup: nothing is raised before EventWarmup events, whatever they hold.
func TestWarmup(t *testing.T) {
	var evs []event.Event
	for i := range 300 {
		v := 10.0
		if i == 10 || i == 280 {
			v = 1e6
		}
		evs = append(evs, metricEvent(i, v))
	}
	s, _ := NewStream("svc|metric|latency", DefaultConfig())
	got := eventsOf(pushAll(t, s, evs))
	if len(got) != 1 || got[0].Offset != 280 {
		t.Fatalf("event anomalies at %v, want one at 280 (after the 256-event warm-up, and more than 256 events after the last spike of its size)", offsets(got))
	}
}

func offsets(eas []*EventAnomaly) []int64 {
	var out []int64
	for _, ea := range eas {
		out = append(out, ea.Offset)
	}
	return out
}

// TestErrorBurstIsOneIncident: in a steady service's logs, a burst of error
// lines is raised at its first line, its later lines are one incident
// closed by one record listing them in order, and the anomalous windows
// that overlap it, judged after it closed, join it.
func TestErrorBurstIsOneIncident(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var evs []event.Event
	for i := range 4000 {
		sev, body := steadyLine(r)
		if i >= 3000 && i < 3060 {
			sev, body = "ERROR", fmt.Sprintf("payment gateway timeout after %dms (attempt %d)", 3000+r.IntN(500), i%3)
		}
		evs = append(evs, logEvent(i, sev, body, nil))
	}
	s, _ := NewStream("svc|log", DefaultConfig())
	results := pushAll(t, s, evs)
	windows := 0
	for _, r := range results {
		if j := r.Judgement; j != nil && j.Anomalous && j.FirstOffset <= 3059 {
			windows++
			if j.Incident != 3000 {
				t.Errorf("window [%d, %d] overlapping the burst is in incident %d, want 3000", j.FirstOffset, j.LastOffset, j.Incident)
			}
		}
	}
	if windows == 0 {
		t.Error("no anomalous window overlaps the burst")
	}
	got := eventsOf(results)
	if len(got) != 2 || got[0].Offset != 3000 || got[0].Closing || !got[1].Closing {
		t.Fatalf("event anomalies at %v, want an onset at 3000 and its closing record", offsets(got))
	}
	c := got[1]
	if c.Incident != got[0].Incident || len(c.Evidence) < 2 || c.Evidence[0].Offset != 3000 {
		t.Fatalf("closing record %+v", c)
	}
	for i := 1; i < len(c.Evidence); i++ {
		if c.Evidence[i].Offset <= c.Evidence[i-1].Offset || c.Evidence[i].Offset >= 3060 {
			t.Fatalf("closing evidence out of order or outside the burst: %+v", c.Evidence)
		}
	}
}

// TestNewShapesInYoungSteadyStream: a burst of INFO lines of shapes a
// steady service has never logged, neither severity rising nor a known
// shape, is raised at its first line once the stream is warm, whether the
// stream has seen a thousand lines or tens of thousands, and nothing is
// raised before it.
func TestNewShapesInYoungSteadyStream(t *testing.T) {
	shapes := []string{"connection pool exhausted, waiting for a free connection",
		"retrying payment provider call", "circuit breaker opened for payments",
		"fallback to cached prices", "queue depth above limit, shedding load"}
	for _, steady := range []int{1000, 10000, 30000} {
		r := rand.New(rand.NewPCG(1, 2))
		var evs []event.Event
		for i := range steady {
			sev, body := steadyLine(r)
			evs = append(evs, logEvent(i, sev, body, nil))
		}
		for k := range 60 {
			evs = append(evs, logEvent(steady+k, "INFO", fmt.Sprintf("%s (attempt %d)", shapes[k%len(shapes)], k), nil))
		}
		s, _ := NewStream("svc|log", DefaultConfig())
		got := eventsOf(pushAll(t, s, evs))
		if len(got) == 0 || got[0].Offset != int64(steady) || got[0].Closing {
			t.Fatalf("after %d steady lines: event anomalies at %v, want the first at the burst's first line %d", steady, offsets(got), steady)
		}
		if !strings.Contains(got[0].Explanation, "not shown before") || !strings.Contains(got[0].Explanation, "bits") {
			t.Errorf("explanation does not say the shape is new and how rare: %s", got[0].Explanation)
		}
		for _, ea := range got[1:] {
			if ea.Incident != got[0].Incident {
				t.Errorf("after %d steady lines: another incident at %d", steady, ea.Offset)
			}
		}
	}
}

// TestNonFiniteMetricRejected: a value whose mean overflows is refused and
// leaves the stream able to score what follows.
func TestNonFiniteMetricRejected(t *testing.T) {
	s, _ := NewStream("svc|metric|latency", DefaultConfig())
	pushAll(t, s, func() []event.Event {
		var evs []event.Event
		for i := range 300 {
			evs = append(evs, metricEvent(i, 10))
		}
		return evs
	}())
	huge := metricEvent(300, 1e308)
	huge.Data = []byte(strings.Replace(string(huge.Data), `"value":1e+308`, `"value":1e308},{"timestamp":"2026-01-02T03:09:05Z","value":1e308`, 1))
	if _, err := s.Push(dec(huge), 300); err == nil || !strings.Contains(err.Error(), "is not finite") {
		t.Fatalf("push of an overflowing mean: %v", err)
	}
	if r, err := s.Push(dec(metricEvent(301, 1000)), 301); err != nil || len(r.Events) != 1 {
		t.Fatalf("after the refused event: %+v, %v", r, err)
	}
}

package console

import (
	"fmt"
	"math"
	"time"

	"github.com/driftlock/driftlock/internal/anomaly"
)

// demoAnomalies is a realistic recent history for the screenshot.
func demoAnomalies(now time.Time) []any {
	type demo struct {
		service, signal, metric string
		conf                    float64
		ago                     time.Duration
		expl                    string
	}
	ds := []demo{
		{"checkout", "log", "", 0.93, 47 * time.Minute, "Log lines of checkout compress 21% worse than their baseline. 64 of 1024 events use a message template not seen before: \"cart reservation expired for <id>\"."},
		{"search", "metric", "http.server.duration", 0.96, 41 * time.Minute, "http.server.duration of search moved to a higher range: p99 went from 180 ms to 420 ms over the window."},
		{"checkout", "log", "", 0.97, 33 * time.Minute, "Log lines of checkout compress 29% worse than their baseline. New WARN lines dominate: \"retrying payment authorisation\"."},
		{"inventory", "span", "", 0.91, 28 * time.Minute, "Spans of inventory changed shape: 18% of spans now carry status ERROR with db.system=postgresql."},
		{"auth-gateway", "log", "", 0.95, 22 * time.Minute, "Log lines of auth-gateway compress 24% worse than their baseline. 131 events report \"token introspection timeout\"."},
		{"payments", "metric", "queue.depth", 0.992, 15 * time.Minute, "queue.depth of payments climbs steadily instead of oscillating around 40; the window's values are unlike any baseline window (p = 0.008)."},
		{"checkout", "log", "", 0.995, 9 * time.Minute, "Log lines of checkout compress 42% worse than their baseline. ERROR lines from the payment client dominate the window: \"payment gateway timeout after 30000ms\"."},
		{"search", "metric", "http.server.duration", 0.94, 4 * time.Minute, "http.server.duration of search is still above its baseline range, less than before."},
	}
	var out []any
	for i, d := range ds {
		a := sample(fmt.Sprintf("demo-%02d", i), d.service, d.signal, d.conf, 0)
		a.Stream.Metric = d.metric
		if d.metric != "" {
			a.Stream.Key = d.service + "|metric|" + d.metric
		}
		end := now.Add(-d.ago).Truncate(time.Second)
		a.Window.Start, a.Window.End = end.Add(-90*time.Second).Format(time.RFC3339Nano), end.Format(time.RFC3339Nano)
		a.DetectedAt = end.Add(1200 * time.Millisecond).Format(time.RFC3339Nano)
		a.Explanation = d.expl
		a.Scores.NCD = 0.2 + d.conf/4
		out = append(out, a)
	}
	// The auth-gateway and payments windows belong to the incidents their
	// event anomalies opened a minute earlier.
	logEv, metricEv := demoLogEvent(now.Add(-23*time.Minute)), demoMetricEvent(now.Add(-16*time.Minute))
	out[4] = demoJoin(out[4].(anomaly.Anomaly), logEv.Incident)
	out[5] = demoJoin(out[5].(anomaly.Anomaly), metricEv.Incident)
	return append(out, logEv, metricEv)
}

// demoJoin makes a a window record of incident.
func demoJoin(a anomaly.Anomaly, incident string) anomaly.Anomaly {
	a.Kind, a.Incident = anomaly.KindWindow, incident
	return a
}

// demoMetricIncident is the incident of the demo's metric event anomaly.
const demoMetricIncident = "7d1f0c9a2b4e4a6f9e3c5b8a1d2f4e6c"

// demoMetricEvent is a metric event anomaly shaped as the detector writes
// it: the payments queue depth swings between about 30 and 50 as consumers
// take batches, then jumps at the triggering event, the last of its 256
// values (one every 5 s), which is the one marked.
func demoMetricEvent(at time.Time) anomaly.Anomaly {
	at = at.Truncate(time.Second)
	const n, trigger = 256, int64(48213)
	a := sample("demo-pay-ev", "payments", "metric", 0.991, 0)
	a.Stream = anomaly.Stream{Key: "payments|metric|queue.depth", Service: "payments", Signal: "metric", Metric: "queue.depth"}
	a.Kind, a.Incident = anomaly.KindEvent, demoMetricIncident
	a.Scores = anomaly.Scores{Confidence: 0.991, Event: 0.991}
	for i := range n {
		ts := at.Add(-time.Duration(n-1-i) * 5 * time.Second)
		v := 40 + 8*math.Sin(float64(i)/4.5) + float64((i*37)%11-5)*0.9
		p := anomaly.Point{Offset: trigger - int64(n-1-i), Timestamp: ts.Format("2006-01-02T15:04:05.000Z"), Value: math.Round(v)}
		if i == n-1 {
			p.Value, p.Anomalous = 212, true
		}
		a.Series = append(a.Series, p)
	}
	first, last := a.Series[0], a.Series[n-1]
	a.Window = anomaly.Window{Start: first.Timestamp, End: last.Timestamp, Events: n, Partition: 2, FirstOffset: first.Offset, LastOffset: last.Offset}
	a.Evidence = []anomaly.Evidence{{Offset: trigger, Timestamp: last.Timestamp, Summary: "queue.depth = 212", Score: 0.991}}
	a.Explanation = "queue.depth = 212 lies outside its range over the latest 2048 values (28 to 52, 1st to 99th percentile). Its score 0.991 is beyond every score of the stream's previous 256 events (at most 0.412); later events like it belong to the same incident."
	a.DetectedAt = at.Add(900 * time.Millisecond).Format(time.RFC3339Nano)
	return a
}

// demoLogEvent is a log event anomaly: the onset of a burst of token
// introspection timeouts, its evidence starting at the triggering line.
func demoLogEvent(at time.Time) anomaly.Anomaly {
	at = at.Truncate(time.Second)
	a := sample("demo-auth-ev", "auth-gateway", "log", 0.972, 0)
	a.Kind, a.Incident = anomaly.KindEvent, "2b8e6d4f1a3c4e5d9f7a0b1c2d3e4f5a"
	a.Scores = anomaly.Scores{Confidence: 0.972, Event: 0.94}
	ts := func(ms int) string {
		return at.Add(time.Duration(ms) * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
	}
	a.Evidence = []anomaly.Evidence{
		{Offset: 90412, Timestamp: ts(0), Summary: "ERROR token introspection timeout after 5000ms (idp=keycloak-2)", Score: 0.94},
		{Offset: 90415, Timestamp: ts(410), Summary: "ERROR token introspection timeout after 5000ms (idp=keycloak-2)", Score: 0.88},
		{Offset: 90413, Timestamp: ts(120), Summary: "WARN idp keycloak-2 connection pool at 64/64, waiting", Score: 0.86},
		{Offset: 90416, Timestamp: ts(530), Summary: "ERROR 503 returned for POST /oauth/introspect (upstream timeout)", Score: 0.83},
		{Offset: 90414, Timestamp: ts(260), Summary: "ERROR token introspection timeout after 5000ms (idp=keycloak-2)", Score: 0.81},
	}
	a.Window = anomaly.Window{Start: ts(-60000), End: ts(530), Events: 128, Partition: 0, FirstOffset: 90289, LastOffset: 90416}
	a.Explanation = "A burst of ERROR lines starts at offset 90412: \"token introspection timeout after 5000ms\" from idp keycloak-2, a template not seen in the previous hour. Check keycloak-2's health."
	a.DetectedAt = at.Add(time.Second).Format(time.RFC3339Nano)
	return a
}

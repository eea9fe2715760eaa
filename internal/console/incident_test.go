package console

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/anomaly"
	"github.com/driftlock/driftlock/internal/testkit"
)

// metricEvent returns an event anomaly of a metric stream: a latency that
// holds near 120 ms, then jumps at the triggering event, which ends its
// series of points values.
func metricEvent(id, incident, service string, confidence float64, minute, points int) anomaly.Anomaly {
	a := sample(id, service, "metric", confidence, minute)
	a.Kind, a.Incident = anomaly.KindEvent, incident
	a.Scores = anomaly.Scores{Confidence: confidence, Event: 0.98}
	end := baseTime.Add(time.Duration(minute) * time.Minute)
	trigger := int64(5000)
	for i := range points {
		off := trigger - int64(points-1-i)
		ts := end.Add(-time.Duration(points-1-i) * 5 * time.Second)
		v := 120 + 9*math.Sin(float64(i)/3) + float64(i%7)
		p := anomaly.Point{Offset: off, Timestamp: ts.Format("2006-01-02T15:04:05.000Z"), Value: math.Round(v*10) / 10}
		if i >= points-3 {
			p.Value, p.Anomalous = 870+float64(20*i%60), true
		}
		a.Series = append(a.Series, p)
	}
	a.Window = anomaly.Window{Start: end.Add(-time.Duration(points-1) * 5 * time.Second).Format(time.RFC3339Nano),
		End: end.Format(time.RFC3339Nano), Events: points, Partition: 1, FirstOffset: trigger - int64(points-1), LastOffset: trigger}
	a.Evidence = []anomaly.Evidence{
		{Offset: trigger - 2, Timestamp: end.Add(-10 * time.Second).Format(time.RFC3339Nano), Summary: "http.server.duration 884 ms", Score: 0.98},
		{Offset: trigger - 1, Timestamp: end.Add(-5 * time.Second).Format(time.RFC3339Nano), Summary: "http.server.duration 910 ms", Score: 0.97},
		{Offset: trigger, Timestamp: end.Format(time.RFC3339Nano), Summary: "http.server.duration 890 ms", Score: 0.96},
	}
	a.Explanation = fmt.Sprintf("http.server.duration of %s jumped from about 125 ms to 890 ms; the last 3 values are far outside the range of the previous %d.", service, points-3)
	return a
}

// logEvent returns an event anomaly of a log stream: a burst of new lines,
// its evidence listed out of offset order.
func logEvent(id, incident, service string, confidence float64, minute int) anomaly.Anomaly {
	a := sample(id, service, "log", confidence, minute)
	a.Kind, a.Incident = anomaly.KindEvent, incident
	a.Scores = anomaly.Scores{Confidence: confidence, Event: 0.93}
	end := baseTime.Add(time.Duration(minute) * time.Minute)
	ts := func(s int) string { return end.Add(time.Duration(s-3) * time.Second).Format(time.RFC3339Nano) }
	a.Evidence = []anomaly.Evidence{
		{Offset: 2201, Timestamp: ts(0), Summary: "ERROR db pool exhausted (max 50 connections)", Score: 0.93},
		{Offset: 2204, Timestamp: ts(3), Summary: "ERROR request 7f3a failed: db pool exhausted", Score: 0.81},
		{Offset: 2202, Timestamp: ts(1), Summary: "WARN slow query 4120 ms: SELECT * FROM orders", Score: 0.77},
		{Offset: 2203, Timestamp: ts(2), Summary: "ERROR request 7f39 failed: db pool exhausted", Score: 0.8},
	}
	a.Explanation = fmt.Sprintf("A burst of new ERROR lines in %s logs starts at offset 2201: \"db pool exhausted\".", service)
	return a
}

// windowOf returns a window anomaly of incident.
func windowOf(id, incident, service, signal string, confidence float64, minute int) anomaly.Anomaly {
	a := sample(id, service, signal, confidence, minute)
	a.Kind, a.Incident = anomaly.KindWindow, incident
	return a
}

// feedIncidents starts a console over a retained history of 4 incidents:
// inc-a (checkout metric: e1 event, w1 and w2 windows), inc-b (checkout
// log: e2 event), old-1 (a payments span record without kind or incident)
// and inc-c (checkout log: w3 window).
func feedIncidents(t *testing.T) *running {
	t.Helper()
	cfg := testConfig(t)
	legacy := sample("old-1", "payments", "span", 0.92, 1)
	publish(t, cfg, legacy,
		metricEvent("e1", "inc-a", "checkout", 0.97, 3, 40),
		windowOf("w1", "inc-a", "checkout", "metric", 0.95, 4),
		windowOf("w2", "inc-a", "checkout", "metric", 0.995, 5),
		logEvent("e2", "inc-b", "checkout", 0.96, 6),
		windowOf("w3", "inc-c", "checkout", "log", 0.93, 7))
	r := startConsole(t, cfg)
	testkit.WaitFor(t, 20*time.Second, "6 anomalies", func() bool { return r.retained(t) == 6 })
	return r
}

func incidentIDs(incs []Incident) string {
	out := make([]string, len(incs))
	for i, inc := range incs {
		out[i] = inc.ID
	}
	return strings.Join(out, ",")
}

func TestAPIIncidents(t *testing.T) {
	r := feedIncidents(t)
	metricKey := url.QueryEscape("checkout|metric|http.server.duration")
	for _, tc := range []struct{ query, want string }{
		{"", "inc-c,inc-b,inc-a,old-1"},
		{"kind=event", "inc-b,inc-a"},
		{"kind=window", "inc-c,inc-a,old-1"},
		{"service=payments", "old-1"},
		{"signal=log", "inc-c,inc-b"},
		{"stream=" + metricKey, "inc-a"},
		{"since=2026-11-26T04:05:00Z", "inc-c,inc-b,inc-a"},
		{"until=2026-11-26T04:04:00Z", "inc-a,old-1"},
		{"min_confidence=0.99", "inc-a"},
		{"incident=inc-b", "inc-b"},
		{"limit=2", "inc-c,inc-b"},
		{"offset=3", "old-1"},
	} {
		var resp incidentListResponse
		if code := getJSON(t, r.url+"/api/v1/incidents?"+tc.query, &resp); code != http.StatusOK {
			t.Fatalf("%s: status %d", tc.query, code)
		}
		if got := incidentIDs(resp.Incidents); got != tc.want {
			t.Errorf("incidents?%s = %s, want %s", tc.query, got, tc.want)
		}
	}
	var p1, p2 incidentListResponse
	getJSON(t, r.url+"/api/v1/incidents?limit=2", &p1)
	getJSON(t, r.url+"/api/v1/incidents?limit=2&cursor="+p1.NextCursor, &p2)
	if p1.Total != 4 || p1.NextCursor == "" || incidentIDs(p2.Incidents) != "inc-a,old-1" || p2.NextCursor != "" {
		t.Errorf("cursor walk: total %d cursor %q, then %s cursor %q", p1.Total, p1.NextCursor, incidentIDs(p2.Incidents), p2.NextCursor)
	}
	a := p2.Incidents[0]
	start := baseTime.Add(3*time.Minute - 39*5*time.Second) // e1's first value; its 40 are 5 s apart
	if strings.Join(a.Kinds, ",") != "event,window" || a.Records != 3 || a.MaxConfidence != 0.995 ||
		!a.Start.Equal(start) || !a.End.Equal(baseTime.Add(5*time.Minute)) || a.LatestID != "w2" ||
		strings.Join(a.AnomalyIDs, ",") != "e1,w1,w2" || a.Stream.Metric != "http.server.duration" ||
		a.LatestExplanation != windowOf("w2", "inc-a", "checkout", "metric", 0.995, 5).Explanation {
		t.Errorf("inc-a = %+v", a)
	}
	if old := p2.Incidents[1]; strings.Join(old.Kinds, ",") != "window" || strings.Join(old.AnomalyIDs, ",") != "old-1" {
		t.Errorf("a record without kind or incident is a window incident of its own: %+v", old)
	}
	var st statusResponse
	if getJSON(t, r.url+"/api/v1/status", &st); st.Incidents != 4 || st.Retained != 6 {
		t.Errorf("status = %+v", st)
	}
}

func TestAPIIncidentAndKindFilters(t *testing.T) {
	r := feedIncidents(t)
	var one incidentResponse
	if code := getJSON(t, r.url+"/api/v1/incidents/inc-a", &one); code != http.StatusOK {
		t.Fatalf("incident: %d", code)
	}
	if one.Incident.ID != "inc-a" || len(one.Anomalies) != 3 || one.Anomalies[0].ID != "e1" ||
		one.Anomalies[0].Kind != "event" || len(one.Anomalies[0].Series) != 40 || !one.Anomalies[0].Series[39].Anomalous {
		t.Errorf("incident inc-a = %+v", one.Incident)
	}
	var e errorBody
	if code := getJSON(t, r.url+"/api/v1/incidents/nope", &e); code != http.StatusNotFound ||
		e.Error != `incident "nope" not found (unknown, or none of its anomalies is still held in memory)` {
		t.Errorf("unknown incident: %d %q", code, e.Error)
	}
	for _, tc := range []struct{ query, want string }{
		{"kind=event", "e2,e1"},
		{"kind=window", "w3,w2,w1,old-1"},
		{"incident=inc-a", "w2,w1,e1"},
		{"incident=old-1", "old-1"},
		{"incident=inc-a&kind=window", "w2,w1"},
	} {
		var resp listResponse
		getJSON(t, r.url+"/api/v1/anomalies?"+tc.query, &resp)
		if got := strings.Join(ids(resp.Anomalies), ","); got != tc.want {
			t.Errorf("anomalies?%s = %s, want %s", tc.query, got, tc.want)
		}
	}
	var tl timelineResponse
	getJSON(t, r.url+"/api/v1/streams/"+url.PathEscape("checkout|metric|http.server.duration")+"/timeline", &tl)
	if len(tl.Points) != 3 || tl.Points[0].Kind != "event" || tl.Points[0].Incident != "inc-a" || tl.Points[2].Kind != "window" {
		t.Errorf("timeline = %+v", tl.Points)
	}
	for _, path := range []string{"/api/v1/anomalies?kind=spike", "/api/v1/incidents?kind=spike"} {
		if code := getJSON(t, r.url+path, &e); code != http.StatusBadRequest ||
			e.Error != `invalid query parameter kind: "spike" is not one of window, event` {
			t.Errorf("%s: %d %q", path, code, e.Error)
		}
	}
	if code := getJSON(t, r.url+"/api/v1/incidents?limit=0", &e); code != http.StatusBadRequest {
		t.Errorf("incidents?limit=0: %d", code)
	}
}

// TestStoreIncidentsBounded: incidents are what the ring holds; evicting
// an incident's last record forgets it.
func TestStoreIncidentsBounded(t *testing.T) {
	s := testStore(t, 3, 1, 10)
	for _, a := range []anomaly.Anomaly{
		windowOf("a", "X", "checkout", "log", 0.95, 1), windowOf("b", "X", "checkout", "log", 0.95, 2),
		windowOf("c", "Y", "checkout", "log", 0.95, 3), windowOf("d", "Y", "checkout", "log", 0.95, 4),
	} {
		s.add(a)
	}
	if inc, items, ok := s.incident("X"); !ok || inc.Records != 1 || len(items) != 1 || items[0].ID != "b" {
		t.Fatalf("X after evicting a: %+v %v", inc, ok)
	}
	s.add(windowOf("e", "Z", "checkout", "log", 0.95, 5))
	if _, _, ok := s.incident("X"); ok {
		t.Fatal("X still held after its last record was evicted")
	}
	if _, _, _, n := s.counts(); n != 2 || len(s.incidents) != 2 {
		t.Errorf("incidents = %d, want 2", n)
	}
	if res := s.queryIncidents(filter{}, page{limit: 10}); incidentIDs(res.items) != "Z,Y" {
		t.Errorf("incidents = %s", incidentIDs(res.items))
	}
}

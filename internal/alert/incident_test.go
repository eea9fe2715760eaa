package alert

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/anomaly"
)

// incidentRecord is a record of incident inc with the given confidence.
func incidentRecord(id, inc, kind string, confidence float64) anomaly.Anomaly {
	a := sampleAnomaly(id)
	a.Kind, a.Incident, a.Scores.Confidence = kind, inc, confidence
	return a
}

// TestIncidentUpdatesOneAlert: the records of one incident update one
// Alertmanager alert (same labels, new annotations and endsAt), a repeated
// record is sent once, and escalating to critical resolves the warning.
func TestIncidentUpdatesOneAlert(t *testing.T) {
	am := newReceiver(t, "/api/v2/alerts")
	clk := newClock()
	f, _ := startForwarder(t, Config{AlertmanagerURL: am.srv.URL, Now: clk.Now, ResolveAfter: 10 * time.Minute})
	f.MarkSeen(incidentRecord("h1", "inc-1", anomaly.KindEvent, 0.93)) // handled by an earlier run
	steps := []struct {
		a    anomaly.Anomaly
		want []string // per alert: severity, endsAt, anomaly_id, incident_records, max_confidence
	}{
		{incidentRecord("e1", "inc-1", anomaly.KindEvent, 0.95),
			[]string{"warning 2026-11-26T04:16:00Z e1 2 0.9500"}},
		{incidentRecord("e1", "inc-1", anomaly.KindEvent, 0.95), nil}, // the same record again
		{incidentRecord("w1", "inc-1", anomaly.KindWindow, 0.94),
			[]string{"warning 2026-11-26T04:18:00Z w1 3 0.9500"}},
		{incidentRecord("w2", "inc-1", anomaly.KindWindow, 0.995),
			[]string{"warning 2026-11-26T04:09:00Z w2 4 0.9950", "critical 2026-11-26T04:19:00Z w2 4 0.9950"}},
		{incidentRecord("w3", "inc-1", anomaly.KindWindow, 0.96),
			[]string{"critical 2026-11-26T04:20:00Z w3 5 0.9950"}},
	}
	var sent [][]string
	for _, st := range steps {
		f.Offer(st.a, nil)
		if st.want != nil {
			sent = append(sent, st.want)
		}
		waitFor(t, "deliveries", func() bool { return len(am.received()) == len(sent) })
		clk.add(time.Minute)
	}
	time.Sleep(50 * time.Millisecond)
	bodies := am.received()
	if len(bodies) != len(sent) {
		t.Fatalf("%d requests, want %d", len(bodies), len(sent))
	}
	for i, b := range bodies {
		var alerts []PostableAlert
		if err := json.Unmarshal(b, &alerts); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range alerts {
			got = append(got, a.Labels["severity"]+" "+a.EndsAt+" "+a.Annotations["anomaly_id"]+" "+
				a.Annotations["incident_records"]+" "+a.Annotations["max_confidence"])
			lbl := map[string]string{"alertname": AlertName, "service": "checkout", "signal": "metric", "incident": "inc-1",
				"stream": "checkout|metric|http.server.duration", "metric": "http.server.duration", "severity": a.Labels["severity"]}
			if !reflect.DeepEqual(a.Labels, lbl) || a.StartsAt != "2026-11-26T04:05:00.25Z" {
				t.Errorf("request %d: labels %v startsAt %s", i, a.Labels, a.StartsAt)
			}
		}
		if !reflect.DeepEqual(got, sent[i]) {
			t.Errorf("request %d = %q, want %q", i, got, sent[i])
		}
	}
}

// TestWebhookIncidentStatus: webhooks say whether a record opens its
// incident or updates it.
func TestWebhookIncidentStatus(t *testing.T) {
	hook := newReceiver(t, "/hook")
	f, _ := startForwarder(t, Config{WebhookURLs: []string{hook.srv.URL + "/hook"}})
	f.Offer(incidentRecord("e1", "inc-1", anomaly.KindEvent, 0.97), nil)
	f.Offer(incidentRecord("w1", "inc-1", anomaly.KindWindow, 0.99), nil)
	f.Offer(incidentRecord("w1", "inc-1", anomaly.KindWindow, 0.99), nil)
	f.Offer(incidentRecord("e2", "inc-2", anomaly.KindEvent, 0.91), nil)
	waitFor(t, "three webhooks", func() bool { return len(hook.received()) == 3 })
	want := []string{"e1 inc-1 new 1", "w1 inc-1 update 2", "e2 inc-2 new 1"}
	for i, b := range hook.received() {
		var p WebhookPayload
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		if got := p.ID + " " + p.Incident + " " + p.IncidentStatus + " " + strconv.Itoa(p.IncidentRecords); got != want[i] {
			t.Errorf("webhook %d = %q, want %q", i, got, want[i])
		}
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(hook.received()); n != 3 {
		t.Errorf("%d webhooks, want 3 (a repeated record is sent once)", n)
	}
}

// TestIncidentsBounded: a forgotten incident is opened again.
func TestIncidentsBounded(t *testing.T) {
	f, _ := startForwarder(t, Config{IncidentSize: 2})
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, tc := range []struct {
		id, inc string
		update  bool
	}{{"a", "i1", false}, {"b", "i1", true}, {"c", "i2", false}, {"d", "i3", false}, {"e", "i1", false}, {"f", "i3", true}} {
		if n := f.note(incidentRecord(tc.id, tc.inc, anomaly.KindWindow, 0.95)); n.Update != tc.update {
			t.Errorf("record %d (%s of %s): update %v, want %v", i, tc.id, tc.inc, n.Update, tc.update)
		}
	}
}

package alert

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/driftlock/driftlock/internal/anomaly"
)

// AlertName is the alertname label of every alert DriftLock sends.
const AlertName = "DriftLockAnomaly"

// CriticalConfidence is the confidence from which an alert is critical
// rather than a warning.
const CriticalConfidence = 0.99

// PostableAlert is one alert of Alertmanager's v2 API (POST /api/v2/alerts).
type PostableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt,omitempty"`
	EndsAt       string            `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

func alertmanagerEndpoint(base string) string {
	return strings.TrimRight(base, "/") + "/api/v2/alerts"
}

// Alert builds the Alertmanager alert of n's incident. Its labels name the
// stream, the incident and the incident's severity, so every record of one
// incident updates one alert (until the incident escalates to critical);
// the latest record's id, kind and scores are annotations. startsAt is
// when the incident began, endsAt when it resolves unless updated again.
func Alert(n Notice, anomalyURL func(string) string) PostableAlert {
	a := n.Anomaly
	labels := map[string]string{
		"alertname": AlertName,
		"service":   a.Stream.Service,
		"signal":    a.Stream.Signal,
		"stream":    a.Stream.Key,
		"incident":  n.Incident,
		"severity":  n.Severity,
	}
	if a.Stream.Metric != "" {
		labels["metric"] = a.Stream.Metric
	}
	p := PostableAlert{
		Labels: labels,
		Annotations: map[string]string{
			"summary":          Summary(a),
			"description":      a.Explanation,
			"anomaly_id":       a.ID,
			"kind":             kindOf(a),
			"confidence":       fmt.Sprintf("%.4f", a.Scores.Confidence),
			"max_confidence":   fmt.Sprintf("%.4f", n.MaxConfidence),
			"incident_records": strconv.Itoa(n.Records),
		},
		StartsAt: n.StartsAt,
		EndsAt:   n.EndsAt.Format(time.RFC3339Nano),
	}
	if anomalyURL != nil {
		p.GeneratorURL = anomalyURL(a.ID)
	}
	return p
}

// Alerts is what n sends to Alertmanager: its incident's alert and, when n
// escalated the incident, the alert under the former severity, resolved.
func Alerts(n Notice, anomalyURL func(string) string) []PostableAlert {
	cur := Alert(n, anomalyURL)
	if n.Escalated == "" {
		return []PostableAlert{cur}
	}
	old := cur
	old.Labels = maps.Clone(cur.Labels)
	old.Labels["severity"] = n.Escalated
	old.EndsAt = n.At.Format(time.RFC3339Nano)
	return []PostableAlert{old, cur}
}

func kindOf(a anomaly.Anomaly) string {
	if a.Kind == "" {
		return anomaly.KindWindow
	}
	return a.Kind
}

// Severity maps a confidence to the severity label: critical or warning.
func Severity(confidence float64) string {
	if confidence >= CriticalConfidence {
		return "critical"
	}
	return "warning"
}

// Summary is a one-line description of a.
func Summary(a anomaly.Anomaly) string {
	what := a.Stream.Signal
	if a.Stream.Metric != "" {
		what += " " + a.Stream.Metric
	}
	s := fmt.Sprintf("Anomaly in %s %s (confidence %.1f%%)", a.Stream.Service, what, 100*a.Scores.Confidence)
	if first, _, ok := strings.Cut(a.Explanation, ". "); ok && len(first) < 160 {
		s += ": " + first
	}
	return s
}

func startsAt(a anomaly.Anomaly) string {
	for _, v := range []string{a.Window.End, a.DetectedAt} {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t.UTC().Format(time.RFC3339Nano)
		}
	}
	return ""
}

func alertmanagerBody(anomalyURL func(string) string) bodyFunc {
	return func(n Notice) ([]byte, error) {
		b, err := json.Marshal(Alerts(n, anomalyURL))
		if err != nil {
			return nil, fmt.Errorf("encode alert: %w", err)
		}
		return b, nil
	}
}

// Incident statuses of a webhook payload.
const (
	// StatusNew marks the first record of an incident.
	StatusNew = "new"
	// StatusUpdate marks a later record of an incident.
	StatusUpdate = "update"
)

// WebhookPayload is the body a webhook receives: the anomaly record, with
// its incident, plus whether it opens the incident or updates it.
type WebhookPayload struct {
	anomaly.Anomaly
	// IncidentStatus is StatusNew or StatusUpdate.
	IncidentStatus string `json:"incident_status"`
	// IncidentRecords counts the incident's records so far, this one included.
	IncidentRecords int `json:"incident_records"`
}

func webhookBody(n Notice) ([]byte, error) {
	p := WebhookPayload{Anomaly: n.Anomaly, IncidentStatus: StatusNew, IncidentRecords: n.Records}
	p.Incident = n.Incident
	if n.Update {
		p.IncidentStatus = StatusUpdate
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode anomaly: %w", err)
	}
	return b, nil
}

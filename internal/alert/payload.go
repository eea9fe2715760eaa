package alert

import (
	"encoding/json"
	"fmt"
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
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

func alertmanagerEndpoint(base string) string {
	return strings.TrimRight(base, "/") + "/api/v2/alerts"
}

// Alert builds the Alertmanager alert of a. Its labels identify the stream
// (repeated anomalies of one stream update one alert); the anomaly id and
// scores are annotations. startsAt is the end of the judged window.
// endsAt is left to Alertmanager's resolve_timeout.
func Alert(a anomaly.Anomaly, anomalyURL func(string) string) PostableAlert {
	labels := map[string]string{
		"alertname": AlertName,
		"service":   a.Stream.Service,
		"signal":    a.Stream.Signal,
		"stream":    a.Stream.Key,
		"severity":  Severity(a.Scores.Confidence),
	}
	if a.Stream.Metric != "" {
		labels["metric"] = a.Stream.Metric
	}
	p := PostableAlert{
		Labels: labels,
		Annotations: map[string]string{
			"summary":     Summary(a),
			"description": a.Explanation,
			"anomaly_id":  a.ID,
			"confidence":  fmt.Sprintf("%.4f", a.Scores.Confidence),
		},
		StartsAt: startsAt(a),
	}
	if anomalyURL != nil {
		p.GeneratorURL = anomalyURL(a.ID)
	}
	return p
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
	return func(a anomaly.Anomaly) ([]byte, error) {
		b, err := json.Marshal([]PostableAlert{Alert(a, anomalyURL)})
		if err != nil {
			return nil, fmt.Errorf("encode alert: %w", err)
		}
		return b, nil
	}
}

func webhookBody(a anomaly.Anomaly) ([]byte, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("encode anomaly: %w", err)
	}
	return b, nil
}

package loghub

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/driftlock/driftlock/internal/event"
)

// severityNumbers maps loghub level tokens to OpenTelemetry severity numbers.
var severityNumbers = map[string]int32{
	"TRACE": 1, "DEBUG": 5, "INFO": 9, "NOTICE": 10,
	"WARN": 13, "WARNING": 13,
	"ERROR": 17, "SEVERE": 18, "FAILURE": 21, "FATAL": 21,
}

// SeverityNumber returns the OpenTelemetry severity number of a level token,
// 0 (unspecified) when it is unknown or empty.
func SeverityNumber(level string) int32 { return severityNumbers[strings.ToUpper(level)] }

// LogEvent is the otlp-events record ingest writes for one log record of
// service with the given severity token, body and record attributes (the
// service.name resource attribute is merged in).
func LogEvent(service string, t time.Time, level, body string, attrs map[string]any) (event.Event, error) {
	merged := make(map[string]any, len(attrs)+1)
	for k, v := range attrs {
		merged[k] = v
	}
	merged["service.name"] = service
	data, err := json.Marshal(event.LogData{
		Timestamp:      event.FormatNanos(t),
		Severity:       level,
		Body:           body,
		SeverityNumber: SeverityNumber(level),
		Attributes:     merged,
	})
	if err != nil {
		return event.Event{}, fmt.Errorf("encode log record: %w", err)
	}
	return event.Event{Type: event.TypeLog, Data: data, Timestamp: event.FormatTimestamp(t), Source: "otlp-http"}, nil
}

// LineEvent is the log event of one BGL or Thunderbird line: its level, its
// message as body, and the component as an attribute. The label is not in it.
func LineEvent(service string, l Line) (event.Event, error) {
	attrs := map[string]any{}
	if l.Component != "" {
		attrs["component"] = l.Component
	}
	return LogEvent(service, l.Time, l.Level, l.Content, attrs)
}

package event

import (
	"encoding/json"
	"fmt"
	"time"
)

// Decoded is an event with its data decoded into the struct of its type:
// what the scoring core takes, so that a record is decoded once.
type Decoded struct {
	Type Type
	// Time is Event.Timestamp.
	Time   time.Time
	Log    *LogData
	Metric *MetricData
	Span   *SpanData
}

// DecodeData decodes ev's timestamp and data. Errors wrap ErrInvalid.
func DecodeData(ev Event) (Decoded, error) {
	t, err := time.Parse(time.RFC3339Nano, ev.Timestamp)
	if err != nil {
		return Decoded{}, fmt.Errorf("%w: timestamp %q is not RFC 3339", ErrInvalid, ev.Timestamp)
	}
	d := Decoded{Type: ev.Type, Time: t}
	var target any
	switch ev.Type {
	case TypeLog:
		d.Log = &LogData{}
		target = d.Log
	case TypeMetric:
		d.Metric = &MetricData{}
		target = d.Metric
	case TypeSpan:
		d.Span = &SpanData{}
		target = d.Span
	default:
		return Decoded{}, fmt.Errorf("%w: unknown type %q", ErrInvalid, ev.Type)
	}
	if err := json.Unmarshal(ev.Data, target); err != nil {
		return Decoded{}, fmt.Errorf("%w: decode %s data: %v", ErrInvalid, ev.Type, err)
	}
	return d, nil
}

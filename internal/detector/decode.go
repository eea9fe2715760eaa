package detector

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/event"
)

// Reasons a record is skipped, the values of the reason label of
// driftlock_detector_invalid_records_total.
const (
	reasonNotJSON      = "not_json"
	reasonUnknownType  = "unknown_type"
	reasonBadData      = "bad_data"
	reasonBadTimestamp = "bad_timestamp"
	reasonBadKey       = "bad_key"
	reasonKeyMismatch  = "key_mismatch"
	reasonRejected     = "rejected"
)

// invalidError is a record that cannot be scored: a permanent error.
type invalidError struct {
	reason string
	err    error
}

func (e *invalidError) Error() string { return e.reason + ": " + e.err.Error() }
func (e *invalidError) Unwrap() error { return e.err }

// decodeRecord decodes one otlp-events record and finds its stream: the
// record key when present (it must agree with the event's type), otherwise
// the key derived from the event's service.name and metric name. The
// record's bytes are read once; a record that is not valid is decoded
// again, step by step, so that its error is classified as before: the
// envelope first, then the key, then the data (rejected). The result
// shares msg.Value's bytes, which nothing changes: the Kafka reader
// allocates each record's value.
func decodeRecord(msg kafka.Message) (event.Decoded, streamID, error) {
	d, dataErr := event.DecodeRecordNoCopy(msg.Value)
	if dataErr != nil {
		ev, err := event.Decode(msg.Value)
		if err != nil {
			return event.Decoded{}, streamID{}, &invalidError{reason: decodeReason(err), err: err}
		}
		d = event.Decoded{Type: ev.Type}
	}
	id, err := recordStream(msg, d.Type)
	if err != nil {
		return event.Decoded{}, streamID{}, err
	}
	if dataErr != nil {
		return event.Decoded{}, streamID{}, &invalidError{reason: reasonRejected, err: dataErr}
	}
	return d, id, nil
}

// recordStream finds the stream of a record whose envelope is valid and
// holds an event of type t.
func recordStream(msg kafka.Message, t event.Type) (streamID, error) {
	key := string(msg.Key)
	if key == "" {
		ev, err := event.Decode(msg.Value)
		if err == nil {
			key, err = deriveKey(ev, msg.Headers)
		}
		if err != nil {
			return streamID{}, &invalidError{reason: reasonBadData, err: err}
		}
	}
	service, signal, metric, err := event.ParseStreamKey(key)
	if err != nil {
		return streamID{}, &invalidError{reason: reasonBadKey, err: err}
	}
	if signal != t {
		err := fmt.Errorf("record key %q names signal %s but the event is a %s", key, signal, t)
		return streamID{}, &invalidError{reason: reasonKeyMismatch, err: err}
	}
	return streamID{key: key, service: service, signal: signal, metric: metric}, nil
}

// decodeReason classifies an event.Decode error.
func decodeReason(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "not JSON"):
		return reasonNotJSON
	case strings.Contains(msg, "unknown type"):
		return reasonUnknownType
	case strings.Contains(msg, "timestamp"):
		return reasonBadTimestamp
	default:
		return reasonBadData
	}
}

// keyProbe holds the few data fields a stream key is derived from.
type keyProbe struct {
	Name       string         `json:"name"`
	Attributes map[string]any `json:"attributes"`
	Resource   map[string]any `json:"resource_attributes"`
	Gauge      []keyPoint     `json:"gauge"`
	Sum        []keyPoint     `json:"sum"`
	Histogram  []keyPoint     `json:"histogram"`
}

type keyPoint struct {
	Attributes map[string]any `json:"attributes"`
}

// deriveKey computes the stream key of an event that arrived without one:
// the service.name header, else the service.name attribute of the data.
func deriveKey(ev event.Event, headers []kafka.Header) (string, error) {
	var p keyProbe
	if err := json.Unmarshal(ev.Data, &p); err != nil {
		return "", fmt.Errorf("derive stream key: %w", err)
	}
	if ev.Type == event.TypeMetric && p.Name == "" {
		return "", errors.New("derive stream key: metric without a name")
	}
	service := ""
	for _, h := range headers {
		if h.Key == event.HeaderServiceName {
			service = string(h.Value)
		}
	}
	for _, attrs := range probeAttributes(p) {
		if service != "" {
			break
		}
		service, _ = attrs["service.name"].(string)
	}
	return event.StreamKey(service, ev.Type, p.Name), nil
}

func probeAttributes(p keyProbe) []map[string]any {
	out := []map[string]any{p.Attributes, p.Resource}
	for _, pts := range [][]keyPoint{p.Gauge, p.Sum, p.Histogram} {
		if len(pts) > 0 {
			out = append(out, pts[0].Attributes)
		}
	}
	return out
}

// deadLetter is the dead-letter record of an invalid record: its key, value
// and headers, plus headers naming the reason and where it came from.
func deadLetter(msg kafka.Message, reason string, err error) kafka.Message {
	headers := make([]kafka.Header, 0, len(msg.Headers)+5)
	headers = append(headers, msg.Headers...)
	headers = append(headers,
		kafka.Header{Key: "driftlock-dead-letter-reason", Value: []byte(reason)},
		kafka.Header{Key: "driftlock-dead-letter-error", Value: []byte(err.Error())},
		kafka.Header{Key: "driftlock-source-topic", Value: []byte(msg.Topic)},
		kafka.Header{Key: "driftlock-source-partition", Value: fmt.Appendf(nil, "%d", msg.Partition)},
		kafka.Header{Key: "driftlock-source-offset", Value: fmt.Appendf(nil, "%d", msg.Offset)},
	)
	return kafka.Message{Key: msg.Key, Value: msg.Value, Headers: headers}
}

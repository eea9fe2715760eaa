package event

import (
	"encoding/json"
	"fmt"
	"time"
	"unsafe"
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

// DecodeRecord decodes one otlp-events record value and its data: Decode
// then DecodeData, with the same results and errors, in one pass over the
// bytes for the records ingest writes.
func DecodeRecord(value []byte) (Decoded, error) {
	return decodeRecord(value, string(value))
}

// DecodeRecordNoCopy is DecodeRecord for a value that nothing changes
// afterwards, such as a record value read from Kafka: the strings of the
// result share value's bytes instead of a copy of them.
func DecodeRecordNoCopy(value []byte) (Decoded, error) {
	return decodeRecord(value, unsafe.String(unsafe.SliceData(value), len(value)))
}

// decodeRecord decodes value, whose bytes s holds.
func decodeRecord(value []byte, s string) (Decoded, error) {
	if d, ok := scanRecord(s); ok {
		return d, nil
	}
	ev, err := Decode(value)
	if err != nil {
		return Decoded{}, err
	}
	return DecodeData(ev)
}

// DecodeData decodes ev's timestamp and data. Errors wrap ErrInvalid.
func DecodeData(ev Event) (Decoded, error) {
	t, err := time.Parse(time.RFC3339Nano, ev.Timestamp)
	if err != nil {
		return Decoded{}, fmt.Errorf("%w: timestamp %q is not RFC 3339", ErrInvalid, ev.Timestamp)
	}
	d := Decoded{Type: ev.Type, Time: t}
	sc := scanner{s: string(ev.Data)}
	if sc.data(&d) && sc.end() {
		return d, nil
	}
	d = Decoded{Type: ev.Type, Time: t}
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

// scanRecord is DecodeRecord's fast path; ok is false when it leaves the
// record to encoding/json.
func scanRecord(value string) (d Decoded, ok bool) {
	sc := scanner{s: value}
	var seen uint32
	var ts string
	data := -1
	sc.ws()
	ok = sc.members(func(key string) bool {
		i, ok := sc.field(key, envelopeNames, &seen)
		switch {
		case !ok:
			return false
		case i == 0:
			var t string
			if !sc.strInto(&t) {
				return false
			}
			d.Type = Type(t)
			return true
		case i == 1:
			if d.Type != "" && seen&(1<<0) != 0 {
				return sc.data(&d)
			}
			data = sc.i
			return sc.skip()
		case i == 2:
			return sc.strInto(&ts)
		case i == 3:
			var src string
			return sc.strInto(&src)
		}
		return true
	})
	if !ok || !sc.end() || seen&(1<<1) == 0 {
		return Decoded{}, false
	}
	if data >= 0 {
		sc.i = data
		if !sc.data(&d) {
			return Decoded{}, false
		}
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return Decoded{}, false
	}
	d.Time = t
	return d, true
}

// data reads the data object of an event of type d.Type into d.
func (sc *scanner) data(d *Decoded) bool {
	sc.ws()
	if sc.peek() != '{' {
		return false
	}
	switch d.Type {
	case TypeLog:
		d.Log = &LogData{}
		return sc.logData(d.Log)
	case TypeMetric:
		d.Metric = &MetricData{}
		return sc.metricData(d.Metric)
	case TypeSpan:
		d.Span = &SpanData{}
		return sc.spanData(d.Span)
	}
	return false
}

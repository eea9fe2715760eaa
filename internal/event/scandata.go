package event

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The scanner's readers of the data structs. Each reads the members of its
// struct by their exact JSON names; a member given twice, a name that
// encoding/json would match to a field only case-insensitively, or a kind
// of data it does not read (histograms, summaries) makes it give up.

var (
	logNames       = []string{"timestamp", "severity", "body", "severity_number", "flags", "attributes", "trace_id", "span_id", "scope_name", "scope_version"}
	metricNames    = []string{"name", "description", "unit", "type", "aggregation_temporality", "is_monotonic", "gauge", "sum", "histogram", "exponential_histogram", "summary", "resource_attributes", "scope_name", "scope_version"}
	pointNames     = []string{"timestamp", "value", "attributes"}
	spanNames      = []string{"name", "kind", "trace_id", "span_id", "parent_span_id", "start_time", "end_time", "duration_ns", "status_code", "status_message", "attributes", "events", "scope_name", "scope_version"}
	spanEventNames = []string{"name", "timestamp", "attributes"}
	envelopeNames  = []string{"type", "data", "timestamp", "source"}
)

// field reads the member named key of a struct whose JSON names are names:
// it returns the index of the name, or -1 after skipping an unknown member.
// ok is false for a name given twice or one encoding/json would fold onto
// a field.
func (sc *scanner) field(key string, names []string, seen *uint32) (idx int, ok bool) {
	for i, n := range names {
		if key == n {
			if *seen&(1<<i) != 0 {
				return 0, false
			}
			*seen |= 1 << i
			return i, true
		}
	}
	for i := 0; i < len(key); i++ {
		if key[i] >= utf8.RuneSelf {
			return 0, false
		}
	}
	for _, n := range names {
		if strings.EqualFold(key, n) {
			return 0, false
		}
	}
	return -1, sc.skip()
}

// strInto reads a string or null into *dst.
func (sc *scanner) strInto(dst *string) bool {
	if sc.null() {
		return true
	}
	s, ok := sc.str()
	*dst = s
	return ok
}

// attrsInto reads an object or null into *dst.
func (sc *scanner) attrsInto(dst *map[string]any) bool {
	if sc.null() {
		return true
	}
	if sc.peek() != '{' {
		return false
	}
	m, ok := sc.object()
	*dst = m
	return ok
}

// intInto reads an integer of the given bits, or null, as encoding/json
// reads it into an int32 or int64.
func intInto[T int32 | int64](sc *scanner, dst *T, bits int) bool {
	if sc.null() {
		return true
	}
	lit, ok := sc.number()
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(lit, 10, bits)
	*dst = T(n)
	return err == nil
}

func (sc *scanner) uint32Into(dst *uint32) bool {
	if sc.null() {
		return true
	}
	lit, ok := sc.number()
	if !ok {
		return false
	}
	n, err := strconv.ParseUint(lit, 10, 32)
	*dst = uint32(n)
	return err == nil
}

func (sc *scanner) logData(d *LogData) bool {
	var seen uint32
	return sc.members(func(key string) bool {
		i, ok := sc.field(key, logNames, &seen)
		if !ok {
			return false
		}
		switch i {
		case 0:
			return sc.strInto(&d.Timestamp)
		case 1:
			return sc.strInto(&d.Severity)
		case 2:
			v, ok := sc.value()
			d.Body = v
			return ok
		case 3:
			return intInto(sc, &d.SeverityNumber, 32)
		case 4:
			return sc.uint32Into(&d.Flags)
		case 5:
			return sc.attrsInto(&d.Attributes)
		case 6:
			return sc.strInto(&d.TraceID)
		case 7:
			return sc.strInto(&d.SpanID)
		case 8:
			return sc.strInto(&d.ScopeName)
		case 9:
			return sc.strInto(&d.ScopeVersion)
		}
		return true
	})
}

func (sc *scanner) metricData(d *MetricData) bool {
	var seen uint32
	return sc.members(func(key string) bool {
		i, ok := sc.field(key, metricNames, &seen)
		if !ok {
			return false
		}
		switch i {
		case 0:
			return sc.strInto(&d.Name)
		case 1:
			return sc.strInto(&d.Description)
		case 2:
			return sc.strInto(&d.Unit)
		case 3:
			return sc.strInto(&d.Type)
		case 4:
			return sc.strInto(&d.AggregationTemporality)
		case 5:
			return sc.boolPtrInto(&d.IsMonotonic)
		case 6:
			return sc.pointsInto(&d.Gauge)
		case 7:
			return sc.pointsInto(&d.Sum)
		case 8, 9, 10:
			return false
		case 11:
			return sc.attrsInto(&d.Attributes)
		case 12:
			return sc.strInto(&d.ScopeName)
		case 13:
			return sc.strInto(&d.ScopeVersion)
		}
		return true
	})
}

func (sc *scanner) boolPtrInto(dst **bool) bool {
	switch {
	case sc.null():
		return true
	case sc.word("true"):
		b := true
		*dst = &b
	case sc.word("false"):
		b := false
		*dst = &b
	default:
		return false
	}
	return true
}

func (sc *scanner) pointsInto(dst *[]NumberPoint) bool {
	if sc.null() {
		return true
	}
	pts := make([]NumberPoint, 0, 1)
	ok := sc.elements(func() bool {
		pts = append(pts, NumberPoint{})
		return sc.point(&pts[len(pts)-1])
	})
	*dst = pts
	return ok
}

func (sc *scanner) point(p *NumberPoint) bool {
	if sc.null() {
		return true
	}
	var seen uint32
	return sc.members(func(key string) bool {
		i, ok := sc.field(key, pointNames, &seen)
		if !ok {
			return false
		}
		switch i {
		case 0:
			return sc.strInto(&p.Timestamp)
		case 1:
			return sc.numberInto(&p.Value)
		case 2:
			return sc.attrsInto(&p.Attributes)
		}
		return true
	})
}

// numberInto reads a json.Number: a number, a string holding one, or null.
func (sc *scanner) numberInto(dst *json.Number) bool {
	switch {
	case sc.null():
		return true
	case sc.peek() == '"':
		s, ok := sc.str()
		*dst = json.Number(s)
		return ok && validNumber(s)
	}
	lit, ok := sc.number()
	*dst = json.Number(lit)
	return ok
}

func (sc *scanner) spanData(d *SpanData) bool {
	var seen uint32
	return sc.members(func(key string) bool {
		i, ok := sc.field(key, spanNames, &seen)
		if !ok {
			return false
		}
		switch i {
		case 7:
			return intInto(sc, &d.DurationNanos, 64)
		case 10:
			return sc.attrsInto(&d.Attributes)
		case 11:
			return sc.spanEventsInto(&d.Events)
		case 12:
			return sc.strInto(&d.ScopeName)
		case 13:
			return sc.strInto(&d.ScopeVersion)
		case -1:
			return true
		}
		strs := [...]*string{&d.Name, &d.Kind, &d.TraceID, &d.SpanID, &d.ParentSpanID, &d.StartTime, &d.EndTime, nil, &d.StatusCode, &d.StatusMessage}
		return sc.strInto(strs[i])
	})
}

func (sc *scanner) spanEventsInto(dst *[]SpanEvent) bool {
	if sc.null() {
		return true
	}
	evs := make([]SpanEvent, 0)
	ok := sc.elements(func() bool {
		evs = append(evs, SpanEvent{})
		e := &evs[len(evs)-1]
		if sc.null() {
			return true
		}
		var seen uint32
		return sc.members(func(key string) bool {
			i, ok := sc.field(key, spanEventNames, &seen)
			switch {
			case !ok:
				return false
			case i == 0:
				return sc.strInto(&e.Name)
			case i == 1:
				return sc.strInto(&e.Timestamp)
			case i == 2:
				return sc.attrsInto(&e.Attributes)
			}
			return true
		})
	})
	*dst = evs
	return ok
}

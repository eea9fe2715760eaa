package otlpconv

import (
	"strconv"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/driftlock/driftlock/internal/event"
)

func countSpans(req *coltracepb.ExportTraceServiceRequest) int {
	n := 0
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			n += len(ss.GetSpans())
		}
	}
	return n
}

func (b *batch) traces(req *coltracepb.ExportTraceServiceRequest) {
	for _, rs := range req.GetResourceSpans() {
		b.setResource(rs.GetResource().GetAttributes())
		key := event.StreamKey(b.keySvc, event.TypeSpan, "")
		for _, ss := range rs.GetScopeSpans() {
			b.setScope(ss.GetScope())
			for _, sp := range ss.GetSpans() {
				b.span(sp, key)
				b.index++
			}
		}
	}
}

// spanKinds spells Span.SpanKind; unknown values are "unspecified".
var spanKinds = [...]string{"unspecified", "internal", "server", "client", "producer", "consumer"}

// statusCodes spells Status.StatusCode; unknown values are "unset".
var statusCodes = [...]string{"unset", "ok", "error"}

func enumName(names []string, v int32) string {
	if v < 0 || int(v) >= len(names) {
		return names[0]
	}
	return names[v]
}

// span encodes one span as event.SpanData. Links are not carried.
func (b *batch) span(sp *tracepb.Span, key string) {
	start, end := sp.GetStartTimeUnixNano(), sp.GetEndTimeUnixNano()
	b.open()
	b.buf = append(b.buf, `{"name":`...)
	b.buf = appendString(b.buf, sp.GetName())
	b.buf = append(b.buf, `,"kind":"`...)
	b.buf = append(b.buf, enumName(spanKinds[:], int32(sp.GetKind()))...)
	b.buf = append(b.buf, `","trace_id":`...)
	b.buf = appendHex(b.buf, sp.GetTraceId())
	b.buf = append(b.buf, `,"span_id":`...)
	b.buf = appendHex(b.buf, sp.GetSpanId())
	if id := sp.GetParentSpanId(); !isZeroID(id) {
		b.buf = append(b.buf, `,"parent_span_id":`...)
		b.buf = appendHex(b.buf, id)
	}
	b.buf = append(b.buf, `,"start_time":`...)
	b.buf = b.times.appendNanoTime(b.buf, start)
	b.buf = append(b.buf, `,"end_time":`...)
	b.buf = b.times.appendNanoTime(b.buf, end)
	b.buf = append(b.buf, `,"duration_ns":`...)
	b.buf = strconv.AppendInt(b.buf, int64(end)-int64(start), 10)
	b.buf = append(b.buf, `,"status_code":"`...)
	b.buf = append(b.buf, enumName(statusCodes[:], int32(sp.GetStatus().GetCode()))...)
	b.buf = append(b.buf, '"')
	if msg := sp.GetStatus().GetMessage(); msg != "" {
		b.buf = append(b.buf, `,"status_message":`...)
		b.buf = appendString(b.buf, msg)
	}
	b.buf = append(b.buf, `,"attributes":`...)
	if err := b.appendMerged(sp.GetAttributes()); err != nil {
		b.fail(err, 1)
		return
	}
	if err := b.spanEvents(sp.GetEvents()); err != nil {
		b.fail(err, 1)
		return
	}
	b.appendScope()
	b.buf = append(b.buf, '}')
	b.close(key, start, 1)
}

// spanEvents writes the span's events, each with its own attributes only.
func (b *batch) spanEvents(evs []*tracepb.Span_Event) error {
	if len(evs) == 0 {
		return nil
	}
	b.buf = append(b.buf, `,"events":[`...)
	for i, ev := range evs {
		if i > 0 {
			b.buf = append(b.buf, ',')
		}
		b.buf = append(b.buf, `{"name":`...)
		b.buf = appendString(b.buf, ev.GetName())
		b.buf = append(b.buf, `,"timestamp":`...)
		b.buf = b.times.appendNanoTime(b.buf, ev.GetTimeUnixNano())
		attrs := ev.GetAttributes()
		if b.own = sortedIdx(b.own, attrs); len(b.own) > 0 {
			if err := b.checkCount(len(b.own), "event attributes"); err != nil {
				return err
			}
			b.buf = append(b.buf, `,"attributes":`...)
			var err error
			if b.buf, err = b.w.appendPBObject(b.buf, attrs, b.own, 0); err != nil {
				return err
			}
		}
		b.buf = append(b.buf, '}')
	}
	b.buf = append(b.buf, ']')
	return nil
}

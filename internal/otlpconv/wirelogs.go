package otlpconv

import (
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"

	"github.com/driftlock/driftlock/internal/event"
)

// LogsProto converts an OTLP/protobuf logs request body as DecodeLogs and
// Logs would, with the same records, rejections and error. A body of the
// usual kind is converted straight from its wire bytes, without building
// protobuf-go messages; any other is decoded by protobuf-go. Records do not
// point into body, which the caller may reuse once LogsProto returns.
func (c *Converter) LogsProto(body []byte, source string) ([]Record, []Rejection, error) {
	if recs, rejs, ok := c.fromWire(body, source, event.TypeLog); ok {
		return recs, rejs, nil
	}
	req := &collogspb.ExportLogsServiceRequest{}
	if err := decode(body, false, "logs", req); err != nil {
		return nil, nil, err
	}
	recs, rejs := c.Logs(req, source)
	return recs, rejs, nil
}

// fromWire converts body, a request of type t, on the wire path; ok is
// false when checkWire leaves the body to protobuf-go.
func (c *Converter) fromWire(body []byte, source string, t event.Type) (recs []Record, rejs []Rejection, ok bool) {
	rules := logsRequestRules
	if t == event.TypeMetric {
		rules = metricsRequestRules
	}
	n, ok := checkWire(body, rules)
	if !ok {
		return nil, nil, false
	}
	var b batch // on the stack: its many buffer updates need no write barriers
	c.begin(&b, t, source, n)
	defer c.end(&b)
	if t == event.TypeMetric {
		b.wireMetrics(body)
	} else {
		b.wireLogs(body)
	}
	recs, rejs = b.finish()
	return recs, rejs, true
}

// wireLogs converts a checked ExportLogsServiceRequest as logs does.
func (b *batch) wireLogs(body []byte) {
	for rl := (wireIter{b: body}); rl.next(); {
		b.wireResource(rl.bytes())
		key := event.StreamKey(b.keySvc, event.TypeLog, "")
		for sl := (wireIter{b: rl.bytes()}); sl.next(); {
			if sl.num != 2 {
				continue
			}
			b.wireScope(sl.bytes())
			for lr := (wireIter{b: sl.bytes()}); lr.next(); {
				if lr.num == 2 {
					b.wireLog(lr.bytes(), key)
					b.index++
				}
			}
		}
	}
}

// wireResource sets the resource (field 1) of a checked ResourceLogs or
// ResourceMetrics as setResource does.
func (b *batch) wireResource(rl []byte) {
	b.wown = b.wown[:0]
	for it := (wireIter{b: rl}); it.next(); {
		if it.num == 1 {
			b.wown = appendKVs(b.wown, it.bytes())
		}
	}
	b.own = wkvIdx(b.own, b.wown)
	b.res = b.res[:0]
	for _, i := range b.own {
		b.res = append(b.res, kv{key: b.wown[i].key, wire: b.wown[i].val, fromWire: true})
	}
	b.resourceSet()
}

// wireLog encodes one checked LogRecord as log does.
func (b *batch) wireLog(lr []byte, key string) {
	f, body := b.readLog(lr)
	b.logHead(&f)
	var err error
	if b.buf, err = b.w.appendWireValue(b.buf, body, 0); err != nil {
		b.fail(err, 1)
		return
	}
	b.logMiddle(&f)
	if err := b.appendWireMerged(b.wown); err != nil {
		b.fail(err, 1)
		return
	}
	b.logTail(&f, key)
}

// readLog reads the fields of a checked LogRecord, its attributes into
// b.wown.
func (b *batch) readLog(lr []byte) (f logFields, body []byte) {
	b.wown = b.wown[:0]
	for it := (wireIter{b: lr}); it.next(); {
		switch it.num {
		case 1:
			f.time = it.u
		case 2:
			f.severityNumber = int32(it.u)
		case 3:
			f.severityText = bstr(it.bytes())
		case 5:
			body = it.bytes()
		case 6:
			b.wown = append(b.wown, readKV(it.bytes()))
		case 8:
			f.flags = uint32(it.u)
		case 9:
			f.traceID = it.bytes()
		case 10:
			f.spanID = it.bytes()
		case 11:
			f.observed = it.u
		}
	}
	return f, body
}

// appendWireMerged is appendMerged for attributes read from the wire.
func (b *batch) appendWireMerged(own []wkv) error {
	b.own = wkvIdx(b.own, own)
	return b.appendMergedIdx(func(i int32) string { return own[i].key }, func(dst []byte, i int32) ([]byte, error) {
		return b.w.appendWireAttr(dst, own[i].key, own[i].val)
	})
}

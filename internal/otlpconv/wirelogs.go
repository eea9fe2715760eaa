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
	n, ok := checkWire(body, logsRequestRules)
	if !ok {
		req := &collogspb.ExportLogsServiceRequest{}
		if err := decode(body, false, "logs", req); err != nil {
			return nil, nil, err
		}
		recs, rejs := c.Logs(req, source)
		return recs, rejs, nil
	}
	var b batch // on the stack: its many buffer updates need no write barriers
	c.begin(&b, event.TypeLog, source, n)
	defer c.end(&b)
	b.wireLogs(body)
	recs, rejs := b.finish()
	return recs, rejs, nil
}

// wireLogs converts a checked ExportLogsServiceRequest as logs does.
func (b *batch) wireLogs(body []byte) {
	for rl := range fields(body) {
		b.wireResource(rl.b)
		key := event.StreamKey(b.keySvc, event.TypeLog, "")
		for sl := range fields(rl.b) {
			if sl.num != 2 {
				continue
			}
			for lr := range fields(sl.b) {
				if lr.num == 2 {
					b.wireLog(lr.b, key)
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
	for f := range fields(rl) {
		if f.num == 1 {
			b.wown = appendKVs(b.wown, f.b, 1)
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
	var f logFields
	var body []byte
	b.wown = b.wown[:0]
	for x := range fields(lr) {
		switch x.num {
		case 1:
			f.time = x.u
		case 2:
			f.severityNumber = int32(x.u)
		case 3:
			f.severityText = bstr(x.b)
		case 5:
			body = x.b
		case 6:
			b.wown = append(b.wown, readKV(x.b))
		case 8:
			f.flags = uint32(x.u)
		case 9:
			f.traceID = x.b
		case 10:
			f.spanID = x.b
		case 11:
			f.observed = x.u
		}
	}
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

// appendWireMerged is appendMerged for attributes read from the wire.
func (b *batch) appendWireMerged(own []wkv) error {
	b.own = wkvIdx(b.own, own)
	return b.appendMergedIdx(func(i int32) string { return own[i].key }, func(dst []byte, i int32) ([]byte, error) {
		return b.w.appendWireAttr(dst, own[i].key, own[i].val)
	})
}

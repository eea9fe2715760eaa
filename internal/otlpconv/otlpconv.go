// Package otlpconv turns OTLP export requests into otlp-events records: one
// JSON event per log record, per metric (with all its data points) and per
// span, keyed by stream. It knows nothing of Kafka or transports.
//
// Records are written by an append-style encoder whose output is
// byte-identical to encoding/json marshalling the typed structs of package
// event (struct fields in declaration order, map keys sorted byte-wise).
//
// Decisions where JSON cannot say what OTLP says:
//   - A gauge or sum point whose value is NaN or ±Inf, or that has no value,
//     and a summary point whose sum or a quantile is non-finite, is left out
//     of its metric; unless it carries the no-recorded-value flag (a
//     staleness marker) it is also reported as a Rejection with reason
//     "invalid". A metric left with no points produces no record.
//   - Non-finite optional fields (sum, min, max of histograms) are omitted;
//     non-finite explicit bounds make the point invalid as above.
//   - Non-finite doubles inside attributes and log bodies are written as the
//     strings "NaN", "Infinity" and "-Infinity", their OTLP/JSON spelling.
//   - Invalid UTF-8 in strings is replaced by U+FFFD, as encoding/json does.
//     Requests decoded from protobuf or JSON cannot carry it (both decoders
//     reject it); only requests built in code can.
package otlpconv

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/driftlock/driftlock/internal/event"
)

// Limits bound what one record may carry. A zero or negative field means no
// limit, except that values never nest deeper than 128 levels.
type Limits struct {
	// MaxRecordBytes bounds the encoded JSON value of one record.
	MaxRecordBytes int
	// MaxAttributes bounds the merged attributes of one record (of each data
	// point for metrics, and of each span event).
	MaxAttributes int
	// MaxAttributeDepth bounds the nesting of attribute values (arrays, maps)
	// and log bodies: a scalar has depth 0, a list of scalars depth 1.
	MaxAttributeDepth int
}

// Record is one otlp-events record ready to be produced.
type Record struct {
	// Key is the stream key (service|signal[|metric]).
	Key string
	// Value is the event's JSON. Values of one call may share a backing
	// array; each is capped to its own length, so appending to it copies.
	Value []byte
	// Type, Service and Source fill the record headers.
	Type    event.Type
	Service string
	Source  string
	// Client, when set, is written as the driftlock-client header.
	Client string

	out *output // on the first record of a call: what Recycle takes back
}

// Rejection is one item of a request that was not converted, with a message
// for the client's partial_success.
type Rejection struct {
	// Reason is a short fixed label for metrics: too_large, too_many_attributes,
	// too_deep, invalid.
	Reason string
	// Message names the item and the limit it broke.
	Message string
	// Items is the number of OTLP items the rejection covers: log records,
	// spans, or metric data points (a rejected metric counts all its points).
	Items int
}

// Converter converts export requests under fixed limits. It is safe for
// concurrent use.
type Converter struct {
	limits  Limits
	pool    sync.Pool // *scratch
	outputs sync.Pool // *output
	// sizeHint is, per signal, the bytes per record of the last request,
	// used to size the next request's buffer in one allocation.
	sizeHint [3]atomic.Int64
}

// New returns a converter enforcing l.
func New(l Limits) *Converter {
	c := &Converter{limits: l}
	depth := l.MaxAttributeDepth
	if depth <= 0 || depth > hardMaxDepth {
		depth = hardMaxDepth
	}
	c.pool.New = func() any { return &scratch{w: valueWriter{maxDepth: depth}} }
	c.outputs.New = func() any { return new(output) }
	return c
}

// output is the memory behind the records of one call: their values' JSON
// and the records themselves.
type output struct {
	buf  []byte
	recs []Record
}

// Recycle hands the memory of recs, all the records of one call of c, back
// to c for later calls: a service converting request after request then
// allocates almost nothing per request. Neither recs nor any record value
// may be used afterwards. Records that are not recycled are left to the
// garbage collector as usual.
func (c *Converter) Recycle(recs []Record) {
	if len(recs) == 0 || recs[0].out == nil {
		return
	}
	o := recs[0].out
	clear(o.recs[:cap(o.recs)]) // also clears recs[0].out: a second call does nothing
	if cap(o.buf) > maxPooledOutput {
		return
	}
	o.buf, o.recs = o.buf[:0], o.recs[:0]
	c.outputs.Put(o)
}

// Logs converts every log record of req. source names the receiving
// transport ("otlp-grpc", "otlp-http").
func (c *Converter) Logs(req *collogspb.ExportLogsServiceRequest, source string) ([]Record, []Rejection) {
	var b batch // on the stack: its many buffer updates need no write barriers
	c.begin(&b, event.TypeLog, source, countLogs(req))
	defer c.end(&b)
	b.logs(req)
	return b.finish()
}

// Metrics converts every metric of req.
func (c *Converter) Metrics(req *colmetricspb.ExportMetricsServiceRequest, source string) ([]Record, []Rejection) {
	var b batch // on the stack: its many buffer updates need no write barriers
	c.begin(&b, event.TypeMetric, source, countMetrics(req))
	defer c.end(&b)
	b.metrics(req)
	return b.finish()
}

// Traces converts every span of req.
func (c *Converter) Traces(req *coltracepb.ExportTraceServiceRequest, source string) ([]Record, []Rejection) {
	var b batch // on the stack: its many buffer updates need no write barriers
	c.begin(&b, event.TypeSpan, source, countSpans(req))
	defer c.end(&b)
	b.traces(req)
	return b.finish()
}

// scratch is the reusable state of one conversion.
type scratch struct {
	w           valueWriter
	res         []kv     // the resource attributes, sorted
	resBuf      []byte   // the resource attributes, written once
	resEnds     []int    // ends of the attributes in resBuf
	scope       []byte   // the scope's fields, written once (see scopeSet)
	own, merged []int32  // see sortedIdx and mergeIdx
	wown        []wkv    // the wire path's attributes of the current item
	wpts        [][]byte // the wire path's points of the current metric
	ends        []int    // see batch
	keys        []byte
	keyEnds     []int
	times       timeCache
}

// batch collects the records of one request. All values are appended to one
// buffer; their bounds are kept in ends and sliced out by finish.
type batch struct {
	*scratch
	limits  Limits
	typ     event.Type
	source  string
	out     *output
	buf     []byte
	recs    []Record
	ends    []int
	keys    []byte // metric stream keys, one string for the request
	keyEnds []int  // per record: end of its key in keys, or -1
	rejects []Rejection
	index   int    // index of the current item within the request
	service string // service of the current resource
	keySvc  string // service as written in stream keys
	metric  string // name of the current metric
	start   int    // start of the current record in buf
}

const (
	// bytesPerItem is the first guess at the encoded size of one record.
	bytesPerItem = 512
	// maxFirstBuffer bounds the buffer allocated before encoding, so that
	// a request of many tiny items cannot reserve memory on a guess.
	maxFirstBuffer = 8 << 20
	// maxPooledBuffer bounds the resource buffer kept for reuse.
	maxPooledBuffer = 64 << 10
	// maxPooledOutput bounds the record buffer kept by Recycle, so that one
	// huge request does not pin its memory.
	maxPooledOutput = 4 << 20
)

func signalIndex(t event.Type) int {
	switch t {
	case event.TypeLog:
		return 0
	case event.TypeMetric:
		return 1
	}
	return 2
}

func (c *Converter) begin(b *batch, t event.Type, source string, items int) {
	per := c.sizeHint[signalIndex(t)].Load()
	if per == 0 {
		per = bytesPerItem
	}
	o := c.outputs.Get().(*output)
	if want := min(items*int(per+per/8), maxFirstBuffer); cap(o.buf) < want {
		o.buf = make([]byte, 0, want)
	}
	if cap(o.recs) < items {
		o.recs = make([]Record, 0, items)
	}
	s := c.pool.Get().(*scratch)
	*b = batch{scratch: s, limits: c.limits, typ: t, source: source,
		out: o, buf: o.buf[:0], recs: o.recs[:0], ends: s.ends[:0], keys: s.keys[:0], keyEnds: s.keyEnds[:0]}
}

// end returns the scratch state to the pool without references into the
// request.
func (c *Converter) end(b *batch) {
	if n := len(b.recs); n > 0 {
		c.sizeHint[signalIndex(b.typ)].Store(int64(len(b.buf) / n))
	}
	if len(b.recs) == 0 { // nothing refers to the output
		c.outputs.Put(b.out)
	}
	s := b.scratch
	s.ends, s.keys, s.keyEnds = b.ends[:0], b.keys[:0], b.keyEnds[:0]
	if cap(s.ends) > maxPooledBuffer {
		s.ends, s.keyEnds = nil, nil
	}
	if cap(s.keys) > maxPooledBuffer {
		s.keys = nil
	}
	clear(s.res[:cap(s.res)])
	clear(s.wown[:cap(s.wown)])
	clear(s.wpts[:cap(s.wpts)])
	s.w.release()
	if cap(s.resBuf) > maxPooledBuffer {
		s.resBuf = nil
	}
	if s.scope = s.scope[:0]; cap(s.scope) > maxPooledBuffer {
		s.scope = nil
	}
	b.scratch = nil
	c.pool.Put(s)
}

func (b *batch) finish() ([]Record, []Rejection) {
	start := 0
	for i, end := range b.ends {
		b.recs[i].Value = b.buf[start:end:end]
		start = end
	}
	keys, start := string(b.keys), 0
	for i, end := range b.keyEnds {
		if end >= 0 {
			b.recs[i].Key = keys[start:end]
			start = end
		}
	}
	if len(b.recs) > 0 {
		b.out.buf, b.out.recs = b.buf, b.recs
		b.recs[0].out = b.out
	}
	return b.recs, b.rejects
}

// closeMetric closes a metric record whose key is metric appended to the
// service's key prefix; the keys of all metrics share one allocation.
func (b *batch) closeMetric(metric string, ts uint64, items int) {
	n := len(b.recs)
	b.close("", ts, items)
	if len(b.recs) == n {
		return // rejected
	}
	for len(b.keyEnds) < n {
		b.keyEnds = append(b.keyEnds, -1)
	}
	// The layout of event.StreamKey; the tests hold the two equal.
	b.keys = append(b.keys, b.keySvc...)
	b.keys = append(b.keys, "|metric|"...)
	b.keys = append(b.keys, metric...)
	b.keyEnds = append(b.keyEnds, len(b.keys))
}

// setResource sorts and writes the resource attributes and finds the
// service name. In stream keys a "|" of the name becomes "_", so that keys
// always parse; the service header keeps the name as sent.
func (b *batch) setResource(attrs []*commonpb.KeyValue) {
	b.own = sortedIdx(b.own, attrs)
	b.res = b.res[:0]
	for _, i := range b.own {
		b.res = append(b.res, kv{key: attrs[i].Key, val: attrs[i].Value})
	}
	b.resourceSet()
}

// resourceSet writes the sorted resource attributes in b.res and finds the
// service name.
func (b *batch) resourceSet() {
	b.resBuf, b.resEnds = b.w.preEncode(b.resBuf, b.res, b.resEnds)
	b.service = event.UnknownService
	for i := range b.res {
		if a := &b.res[i]; a.key == "service.name" {
			if s := a.stringValue(); s != "" {
				b.service = s
				if a.fromWire {
					b.service = strings.Clone(s) // s points into the request body
				}
			}
			break
		}
	}
	b.keySvc = strings.ReplaceAll(b.service, "|", "_")
}

// open starts a record: {"type":...,"data":
func (b *batch) open() {
	b.start = len(b.buf)
	b.buf = append(b.buf, `{"type":"`...)
	b.buf = append(b.buf, b.typ...)
	b.buf = append(b.buf, `","data":`...)
}

// close ends the record opened last with its event timestamp and source and
// keeps it, or rejects it when it is too large.
func (b *batch) close(key string, ts uint64, items int) {
	b.buf = append(b.buf, `,"timestamp":"`...)
	b.buf = b.times.appendTime(b.buf, int64(ts), true)
	b.buf = append(b.buf, `","source":`...)
	b.buf = appendString(b.buf, b.source)
	b.buf = append(b.buf, '}')
	if size := len(b.buf) - b.start; b.limits.MaxRecordBytes > 0 && size > b.limits.MaxRecordBytes {
		b.fail(&limitError{"too_large", fmt.Sprintf("encoded size %d bytes exceeds the limit of %d bytes", size, b.limits.MaxRecordBytes)}, items)
		return
	}
	b.recs = append(b.recs, Record{Key: key, Type: b.typ, Service: b.service, Source: b.source})
	b.ends = append(b.ends, len(b.buf))
}

// fail drops the record opened last and reports why.
func (b *batch) fail(err error, items int) {
	b.buf = b.buf[:b.start]
	b.reject(err, items)
}

// reject reports items that produced no record.
func (b *batch) reject(err error, items int) {
	reason, detail := "invalid", err.Error()
	if le, ok := err.(*limitError); ok {
		reason, detail = le.reason, le.detail
	}
	b.rejects = append(b.rejects, Rejection{Reason: reason, Message: b.describe() + ": " + detail, Items: items})
}

// describe names the current item in rejection messages, e.g.
// `log record 3 (service "checkout")`; the index counts from 0 over the
// items of the request.
func (b *batch) describe() string {
	noun := map[event.Type]string{event.TypeLog: "log record", event.TypeMetric: "metric", event.TypeSpan: "span"}[b.typ]
	if b.typ == event.TypeMetric {
		return fmt.Sprintf("%s %d (service %q, metric %q)", noun, b.index, b.service, b.metric)
	}
	return fmt.Sprintf("%s %d (service %q)", noun, b.index, b.service)
}

// checkCount rejects an attribute set larger than the limit.
func (b *batch) checkCount(n int, of string) error {
	if b.limits.MaxAttributes > 0 && n > b.limits.MaxAttributes {
		return &limitError{"too_many_attributes", fmt.Sprintf("%d %s exceed the limit of %d", n, of, b.limits.MaxAttributes)}
	}
	return nil
}

// appendMerged appends the resource attributes merged with own (own win),
// after checking their number.
func (b *batch) appendMerged(own []*commonpb.KeyValue) error {
	b.own = sortedIdx(b.own, own)
	return b.appendMergedIdx(func(i int32) string { return own[i].Key }, func(dst []byte, i int32) ([]byte, error) {
		return b.w.appendAttr(dst, own[i].Key, own[i].Value)
	})
}

// appendMergedIdx appends the resource attributes merged with the own
// attributes at the sorted indices b.own, which key names and attr writes.
func (b *batch) appendMergedIdx(key func(int32) string, attr func(dst []byte, i int32) ([]byte, error)) error {
	b.merged = mergeIdx(b.merged, b.res, key, b.own)
	if err := b.checkCount(len(b.merged), "attributes"); err != nil {
		return err
	}
	var err error
	b.buf, err = b.w.appendMergedObject(b.buf, b.merged, b.res, attr)
	return err
}

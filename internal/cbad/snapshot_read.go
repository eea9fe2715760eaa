package cbad

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/driftlock/driftlock/internal/event"
)

// snapReader decodes a snapshot. The first error sticks: later reads return
// zero values, and stream reports it.
type snapReader struct {
	b              []byte
	err            error
	prevOff, prevT int64 // the previous item's offset and time
}

var errShort = errors.New("snapshot ends early")

func (r *snapReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *snapReader) uvarint() uint64 {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if r.err != nil {
			return 0
		}
		if len(r.b) == 0 || shift > 63 {
			r.fail("%w", errShort)
			return 0
		}
		c := r.b[0]
		r.b = r.b[1:]
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
}

func (r *snapReader) varint() int64 {
	u := r.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (r *snapReader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.fail("%w", errShort)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *snapReader) bool() bool {
	switch c := r.byte(); c {
	case 0:
		return false
	case 1:
		return true
	default:
		r.fail("bad flag byte %d", c)
		return false
	}
}

func (r *snapReader) f64() float64 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 8 {
		r.fail("%w", errShort)
		return 0
	}
	b := r.b
	u := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
	r.b = r.b[8:]
	return math.Float64frombits(u)
}

// count reads a length whose elements take at least size bytes each, so
// that a bad length cannot make the decoder allocate more than the input.
func (r *snapReader) count(size int) int {
	n := r.uvarint()
	if r.err != nil {
		return 0
	}
	if n > uint64(len(r.b)/size) {
		r.fail("length %d exceeds the %d bytes left", n, len(r.b))
		return 0
	}
	return int(n)
}

func (r *snapReader) bytes() []byte {
	n := r.count(1)
	out := slices.Clone(r.b[:n])
	r.b = r.b[n:]
	if n == 0 {
		return nil
	}
	return out
}

func (r *snapReader) str() string {
	n := r.count(1)
	out := string(r.b[:n])
	r.b = r.b[n:]
	return out
}

func (r *snapReader) f64s() []float64 {
	n := r.count(8)
	if n == 0 {
		return nil
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = r.f64()
	}
	return out
}

// countValue reads what snapWriter.count wrote.
func (r *snapReader) countValue() float64 {
	u := r.uvarint()
	switch {
	case u&1 == 0:
		return float64(u >> 1)
	case u == 1:
		return r.f64()
	}
	r.fail("bad count tag %d", u)
	return 0
}

func (r *snapReader) time() time.Time {
	if r.bool() {
		return time.Time{}
	}
	return time.Unix(0, r.varint()).UTC()
}

// item reads an event of the window of s.
func (r *snapReader) item(it *item, s *Stream) {
	it.offset, it.ts = r.prevOff+r.varint(), r.prevT+r.varint()
	r.prevOff, r.prevT = it.offset, it.ts
	r.feats(&it.feats, s)
}

// feats reads an event's feats: a log record or span with a line, or a
// metric event with features, as the kind of s says.
func (r *snapReader) feats(it *feats, s *Stream) {
	line := r.uvarint()
	it.nv, it.sev = r.byte(), r.byte()
	it.flagged = r.bool()
	if r.err != nil {
		return
	}
	metric := s.kind == event.TypeMetric
	switch {
	case s.kind == "":
		r.fail("an event in a stream of no kind")
	case it.nv > maxFeatures || it.sev >= numSev || metric != (it.nv > 0):
		r.fail("%s event with %d features, severity class %d", s.kind, it.nv, it.sev)
	case line >= uint64(max(len(s.lineTab), 1)) || metric != (line == 0):
		r.fail("%s event of line index %d of %d lines", s.kind, line, max(len(s.lineTab)-1, 0))
	}
	if r.err != nil {
		return
	}
	it.ref = uint32(line)
	if !metric {
		return
	}
	var x [maxFeatures]float64
	for f := range int(it.nv) {
		x[f] = r.f64()
	}
	it.v = x[0]
	if it.nv > 1 {
		it.ref = s.newExtra([maxFeatures - 1]float64(x[1:]))
	}
}

// readRing reads a ring's events, each of at least size bytes, with read.
func readRing[T any](r *snapReader, rg *ring[T], size int, read func(*T)) {
	n := r.count(size)
	if n > rg.size {
		r.fail("%d events for a ring of %d", n, rg.size)
		return
	}
	rg.buf, rg.head = make([]T, n), 0
	for i := range n {
		read(&rg.buf[i])
	}
}

func (r *snapReader) canon(c *canonicalizer) {
	n := r.count(3)
	if n > maxAttrKeys {
		r.fail("%d attribute keys, at most %d", n, maxAttrKeys)
		return
	}
	for range n {
		k := r.str()
		av := &attrValues{high: r.bool()}
		vals := r.count(1)
		if vals > c.maxValues || (av.high && vals > 0) {
			r.fail("attribute %q with %d values", k, vals)
			return
		}
		for range vals {
			av.values = append(av.values, r.str())
		}
		c.attrs[k] = av
	}
}

func (r *snapReader) history(h *valueHistory) {
	size, n, next := r.uvarint(), r.count(8), r.uvarint()
	if r.err != nil {
		return
	}
	if size != uint64(h.size) || uint64(n) > size || next >= uint64(max(n, 1)) || (next > 0 && n < h.size) {
		r.fail("value history of %d (next %d, capacity %d), want capacity %d", n, next, size, h.size)
		return
	}
	h.ring = make([]float64, n)
	for i := range h.ring {
		h.ring[i] = r.f64()
	}
	h.next = int(next)
	h.rerank()
}

func (r *snapReader) onset(o *onsetState) {
	o.events = r.varint()
	if r.bool() {
		m := &slidingMax{n: int(r.varint()), seen: int(r.varint()), vals: r.f64s()}
		m.idx = make([]int, r.count(1))
		for i := range m.idx {
			m.idx[i] = int(r.varint())
		}
		if len(m.idx) != len(m.vals) || m.n < 1 {
			r.fail("sliding maximum of %d values, %d indices, span %d", len(m.vals), len(m.idx), m.n)
		}
		o.recent = m
	}
	o.incident, o.until = r.varint(), r.varint()
	o.known, o.open = r.bool(), r.bool()
	if r.bool() {
		o.trigger = r.eventAnomaly()
	}
	o.burst = r.evidence()
	o.elevated = int(r.varint())
	o.triggerLine = r.str()
	o.triggerSev, o.reason = r.byte(), r.byte()
	o.firstEvents, o.lastEvents = r.varint(), r.varint()
	o.lastTS = r.time()
	o.lineNew, o.sevRise = r.bool(), r.bool()
	isNil := r.bool()
	if n := r.count(1); !isNil {
		o.shapes = make([]string, n)
		for i := range o.shapes {
			o.shapes[i] = r.str()
		}
	}
	o.lineBits, o.usualBits, o.usualN = r.f64(), r.f64(), int(r.varint())
}

func (r *snapReader) eventAnomaly() *EventAnomaly {
	ea := &EventAnomaly{Offset: r.varint(), Timestamp: r.time(), Start: r.time(), End: r.time()}
	ea.FirstOffset, ea.Events = r.varint(), int(r.varint())
	ea.Score, ea.Confidence = r.f64(), r.f64()
	ea.Incident = r.varint()
	ea.Explanation = r.str()
	ea.Evidence = r.evidence()
	if n := r.count(11); n > 0 {
		ea.Series = make([]Point, n)
		for i := range ea.Series {
			ea.Series[i] = Point{Offset: r.varint(), Timestamp: r.time(), Value: r.f64(), Anomalous: r.bool()}
		}
	}
	ea.Closing = r.bool()
	return ea
}

func (r *snapReader) evidence() []Evidence {
	isNil := r.bool()
	n := r.count(12)
	if isNil {
		return nil
	}
	out := make([]Evidence, n)
	for i := range out {
		out[i] = Evidence{Offset: r.varint(), Timestamp: r.time(), Summary: r.str(), Score: r.f64()}
	}
	return out
}

func (r *snapReader) context(m *contextModel, order int) {
	m.recent, m.nrecent = r.uvarint(), int(r.uvarint())
	unseen := r.bool()
	n := r.count(2)
	if r.err == nil && (m.nrecent < 0 || m.nrecent > order || n > maxContextGrams || unseen && n > 0) {
		r.fail("context model of %d symbols, %d n-grams", m.nrecent, n)
		return
	}
	if n > 0 {
		m.grams.lows, m.grams.counts = make([]uint32, 0, n), make([]uint16, 0, n)
	}
	k := uint64(0)
	for i := range n {
		d := r.uvarint()
		c := r.countValue()
		if r.err != nil {
			return
		}
		if (i > 0 && d == 0) || k+d < k {
			r.fail("context n-grams out of order")
			return
		}
		if c < 1 || c >= 1<<53 || c != math.Trunc(c) {
			r.fail("context n-gram counted %v times", c)
			return
		}
		k += d
		m.grams.insert(i, k, c)
	}
	m.total, m.prev, m.have = r.f64(), r.f64(), r.bool()
	m.last = r.f64s()
	m.next = int(r.varint())
	m.sum, m.peak, m.mean = r.f64(), r.f64(), r.f64()
	if r.err == nil && (m.have == unseen || len(m.last) > contextSpan || m.next < 0 || m.next >= contextSpan) {
		r.fail("context model with %d novelties, next %d", len(m.last), m.next)
	}
}

// season reads the daily-cycle model of a stream whose value history h
// was read before.
func (r *snapReader) season(m *seasonModel, cycles int, h *valueHistory) {
	m.period = int(r.varint())
	m.started, m.prevTS = r.bool(), r.varint()
	m.intervals = make([]int64, r.count(1))
	for i := range m.intervals {
		m.intervals[i] = r.varint()
	}
	if len(m.intervals) == 0 {
		m.intervals = nil
	}
	m.older = r.f64s()
	m.onext, m.seen = int(r.varint()), int(r.varint())
	m.resid = r.f64s()
	m.rnext, m.since = int(r.varint()), int(r.varint())
	m.lo, m.hi, m.spread, m.ready = r.f64(), r.f64(), r.f64(), r.bool()
	if r.err != nil {
		return
	}
	okPeriod := m.period >= -1 && m.period <= maxSeasonPeriod && len(m.intervals) < 32
	if m.period > 0 {
		span := m.period * cycles
		okPeriod = okPeriod && m.period >= minSeasonPeriod && len(m.older) == max(span-h.size, 0) &&
			m.onext >= 0 && m.onext < max(len(m.older), 1) && m.seen >= 0 && m.seen <= span && h.n() >= min(m.seen, h.size)
	} else {
		okPeriod = okPeriod && len(m.older) == 0 && m.onext == 0 && m.seen == 0
	}
	if !okPeriod || len(m.resid) > seasonResiduals || m.rnext < 0 || m.rnext >= seasonResiduals {
		r.fail("season model of period %d, %d older values, %d seen, %d residuals", m.period, len(m.older), m.seen, len(m.resid))
	}
}

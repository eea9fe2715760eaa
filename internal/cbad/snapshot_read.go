package cbad

import (
	"math"
	"time"

	"github.com/driftlock/driftlock/internal/event"
	"github.com/driftlock/driftlock/internal/varbytes"
)

// snapReader decodes a snapshot. The first error sticks: later reads return
// zero values, and stream reports it.
type snapReader struct {
	varbytes.Reader
	prevOff, prevT int64 // the previous item's offset and time
}

func (r *snapReader) f64s() []float64 {
	n := r.Count(8)
	if n == 0 {
		return nil
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = r.Float64()
	}
	return out
}

// countValue reads what snapWriter.count wrote.
func (r *snapReader) countValue() float64 {
	u := r.Uvarint()
	switch {
	case u&1 == 0:
		return float64(u >> 1)
	case u == 1:
		return r.Float64()
	}
	r.Failf("bad count tag %d", u)
	return 0
}

func (r *snapReader) time() time.Time {
	if r.Bool() {
		return time.Time{}
	}
	return time.Unix(0, r.Varint()).UTC()
}

// item reads an event of the window of s.
func (r *snapReader) item(it *item, s *Stream) {
	it.offset, it.ts = r.prevOff+r.Varint(), r.prevT+r.Varint()
	r.prevOff, r.prevT = it.offset, it.ts
	r.feats(&it.feats, s)
}

// feats reads an event's feats: a log record or span with a line, or a
// metric event with features, as the kind of s says.
func (r *snapReader) feats(it *feats, s *Stream) {
	line := r.Uvarint()
	it.nv, it.sev = r.Byte(), r.Byte()
	it.flagged = r.Bool()
	if r.Err() != nil {
		return
	}
	metric := s.kind == event.TypeMetric
	switch {
	case s.kind == "":
		r.Failf("an event in a stream of no kind")
	case it.nv > maxFeatures || it.sev >= numSev || metric != (it.nv > 0):
		r.Failf("%s event with %d features, severity class %d", s.kind, it.nv, it.sev)
	case line >= uint64(max(len(s.lineTab), 1)) || metric != (line == 0):
		r.Failf("%s event of line index %d of %d lines", s.kind, line, max(len(s.lineTab)-1, 0))
	}
	if r.Err() != nil {
		return
	}
	it.ref = uint32(line)
	if !metric {
		return
	}
	var x [maxFeatures]float64
	for f := range int(it.nv) {
		x[f] = r.Float64()
	}
	it.v = x[0]
	if it.nv > 1 {
		it.ref = s.newExtra([maxFeatures - 1]float64(x[1:]))
	}
}

// readRing reads a ring's events, each of at least size bytes, with read.
func readRing[T any](r *snapReader, rg *ring[T], size int, read func(*T)) {
	n := r.Count(size)
	if n > rg.size {
		r.Failf("%d events for a ring of %d", n, rg.size)
		return
	}
	rg.buf, rg.head = make([]T, n), 0
	for i := range n {
		read(&rg.buf[i])
	}
}

func (r *snapReader) canon(c *canonicalizer) {
	n := r.Count(3)
	if n > maxAttrKeys {
		r.Failf("%d attribute keys, at most %d", n, maxAttrKeys)
		return
	}
	for range n {
		k := r.Str()
		av := &attrValues{high: r.Bool()}
		vals := r.Count(1)
		if vals > c.maxValues || (av.high && vals > 0) {
			r.Failf("attribute %q with %d values", k, vals)
			return
		}
		for range vals {
			av.values = append(av.values, r.Str())
		}
		c.attrs[k] = av
	}
}

func (r *snapReader) history(h *valueHistory) {
	size, n, next := r.Uvarint(), r.Count(8), r.Uvarint()
	if r.Err() != nil {
		return
	}
	if size != uint64(h.size) || uint64(n) > size || next >= uint64(max(n, 1)) || (next > 0 && n < h.size) {
		r.Failf("value history of %d (next %d, capacity %d), want capacity %d", n, next, size, h.size)
		return
	}
	h.ring = make([]float64, n)
	for i := range h.ring {
		h.ring[i] = r.Float64()
	}
	h.next = int(next)
	h.rerank()
}

func (r *snapReader) onset(o *onsetState) {
	o.events = r.Varint()
	if r.Bool() {
		m := &slidingMax{n: int(r.Varint()), seen: int(r.Varint()), vals: r.f64s()}
		m.idx = make([]int, r.Count(1))
		for i := range m.idx {
			m.idx[i] = int(r.Varint())
		}
		if len(m.idx) != len(m.vals) || m.n < 1 {
			r.Failf("sliding maximum of %d values, %d indices, span %d", len(m.vals), len(m.idx), m.n)
		}
		o.recent = m
	}
	o.incident, o.until = r.Varint(), r.Varint()
	o.known, o.open = r.Bool(), r.Bool()
	if r.Bool() {
		o.trigger = r.eventAnomaly()
	}
	o.burst = r.evidence()
	o.elevated = int(r.Varint())
	o.triggerLine = r.Str()
	o.triggerSev, o.reason = r.Byte(), r.Byte()
	o.firstEvents, o.lastEvents = r.Varint(), r.Varint()
	o.lastTS = r.time()
	o.lineNew, o.sevRise = r.Bool(), r.Bool()
	isNil := r.Bool()
	if n := r.Count(1); !isNil {
		o.shapes = make([]string, n)
		for i := range o.shapes {
			o.shapes[i] = r.Str()
		}
	}
	o.lineBits, o.usualBits, o.usualN = r.Float64(), r.Float64(), int(r.Varint())
}

func (r *snapReader) eventAnomaly() *EventAnomaly {
	ea := &EventAnomaly{Offset: r.Varint(), Timestamp: r.time(), Start: r.time(), End: r.time()}
	ea.FirstOffset, ea.Events = r.Varint(), int(r.Varint())
	ea.Score, ea.Confidence = r.Float64(), r.Float64()
	ea.Incident = r.Varint()
	ea.Explanation = r.Str()
	ea.Evidence = r.evidence()
	if n := r.Count(11); n > 0 {
		ea.Series = make([]Point, n)
		for i := range ea.Series {
			ea.Series[i] = Point{Offset: r.Varint(), Timestamp: r.time(), Value: r.Float64(), Anomalous: r.Bool()}
		}
	}
	ea.Closing = r.Bool()
	return ea
}

func (r *snapReader) evidence() []Evidence {
	isNil := r.Bool()
	n := r.Count(12)
	if isNil {
		return nil
	}
	out := make([]Evidence, n)
	for i := range out {
		out[i] = Evidence{Offset: r.Varint(), Timestamp: r.time(), Summary: r.Str(), Score: r.Float64()}
	}
	return out
}

func (r *snapReader) context(m *contextModel, order int) {
	m.recent, m.nrecent = r.Uvarint(), int(r.Uvarint())
	unseen := r.Bool()
	n := r.Count(2)
	if r.Err() == nil && (m.nrecent < 0 || m.nrecent > order || n > maxContextGrams || unseen && n > 0) {
		r.Failf("context model of %d symbols, %d n-grams", m.nrecent, n)
		return
	}
	if n > 0 {
		m.grams.lows, m.grams.counts = make([]uint32, 0, n), make([]uint16, 0, n)
	}
	k := uint64(0)
	for i := range n {
		d := r.Uvarint()
		c := r.countValue()
		if r.Err() != nil {
			return
		}
		if (i > 0 && d == 0) || k+d < k {
			r.Failf("context n-grams out of order")
			return
		}
		if c < 1 || c >= 1<<53 || c != math.Trunc(c) {
			r.Failf("context n-gram counted %v times", c)
			return
		}
		k += d
		m.grams.insert(i, k, c)
	}
	m.total, m.prev, m.have = r.Float64(), r.Float64(), r.Bool()
	m.last = r.f64s()
	m.next = int(r.Varint())
	m.sum, m.peak, m.mean = r.Float64(), r.Float64(), r.Float64()
	if r.Err() == nil && (m.have == unseen || len(m.last) > contextSpan || m.next < 0 || m.next >= contextSpan) {
		r.Failf("context model with %d novelties, next %d", len(m.last), m.next)
	}
}

// season reads the daily-cycle model of a stream whose value history h
// was read before.
func (r *snapReader) season(m *seasonModel, cycles int, h *valueHistory) {
	m.period = int(r.Varint())
	m.started, m.prevTS = r.Bool(), r.Varint()
	m.intervals = make([]int64, r.Count(1))
	for i := range m.intervals {
		m.intervals[i] = r.Varint()
	}
	if len(m.intervals) == 0 {
		m.intervals = nil
	}
	m.older = r.f64s()
	m.onext, m.seen = int(r.Varint()), int(r.Varint())
	m.resid = r.f64s()
	m.rnext, m.since = int(r.Varint()), int(r.Varint())
	m.lo, m.hi, m.spread, m.ready = r.Float64(), r.Float64(), r.Float64(), r.Bool()
	if r.Err() != nil {
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
		r.Failf("season model of period %d, %d older values, %d seen, %d residuals", m.period, len(m.older), m.seen, len(m.resid))
	}
}

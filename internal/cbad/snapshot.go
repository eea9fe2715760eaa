package cbad

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/driftlock/driftlock/internal/event"
	"github.com/driftlock/driftlock/internal/varbytes"
)

// snapshotVersion is the version of the encoding written by AppendSnapshot.
const snapshotVersion = 2

// AppendSnapshot appends a compact binary encoding of the stream's state to
// dst and returns it. RestoreStream turns it back into a Stream that yields,
// event for event, exactly what this one would. Caches (the baseline's
// sorted values, judgement buffers) are left out and rebuilt on restore; the
// stream's Config is not encoded: restore with the same Config.
//
// The encoding is deterministic: the same state gives the same bytes, maps
// being written in key order.
func (s *Stream) AppendSnapshot(dst []byte) []byte {
	w := snapWriter{b: dst, s: s}
	w.uvarint(snapshotVersion)
	w.str(s.key)
	w.str(string(s.kind))
	lines := s.sortedLines()
	w.uvarint(uint64(len(lines)))
	w.index = make([]uint64, len(s.lineTab))
	for i, id := range lines {
		w.index[id] = uint64(i) + 1
		ls := s.lineTab[id]
		w.str(ls.line)
		w.varint(int64(ls.base))
		w.varint(int64(ls.live))
		w.f64(ls.seen)
	}
	w.canon(s.canon)
	w.uvarint(uint64(s.window.len()))
	for i := range s.window.len() {
		w.item(s.window.at(i))
	}
	w.uvarint(uint64(s.base.len()))
	for i := range s.base.len() {
		w.feats(s.base.at(i))
	}
	w.uvarint(uint64(len(s.pending)))
	for i := range s.pending {
		w.feats(&s.pending[i])
	}
	w.varint(s.pushed)
	w.firsts(s.firsts)
	w.varint(int64(s.sinceJudge))
	w.varint(s.seq)
	w.varint(int64(s.anomRun))
	w.f64(s.sumPrev)
	w.bool(s.sumHave)
	w.bytes(s.dict)
	w.f64(s.seenTotal)
	w.f64(s.once)
	for _, v := range s.sevSeen {
		w.f64(v)
	}
	w.f64(s.sevTotal)
	w.f64s(s.effects)
	w.history(&s.hist)
	w.onset(&s.onset)
	w.context(&s.ctx)
	w.season(&s.season)
	return w.b
}

// sortedLines returns the ids of the interned lines in line order.
func (s *Stream) sortedLines() []uint32 {
	out := make([]uint32, 0, len(s.lineIDs))
	for id, ls := range s.lineTab {
		if ls != nil {
			out = append(out, uint32(id))
		}
	}
	slices.SortFunc(out, func(a, b uint32) int { return strings.Compare(s.lineTab[a].line, s.lineTab[b].line) })
	return out
}

// RestoreStream decodes a snapshot written by AppendSnapshot into the
// stream named key under cfg. Bad bytes, another key or state that does
// not fit cfg's window and baseline give an error and no stream.
func RestoreStream(key string, cfg Config, data []byte) (*Stream, error) {
	s, err := NewStream(key, cfg)
	if err != nil {
		return nil, err
	}
	r := snapReader{Reader: varbytes.NewReader(data)}
	if err := r.stream(s); err != nil {
		return nil, fmt.Errorf("restore stream %q: %w", key, err)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("restore stream %q: %d bytes after the snapshot", key, r.Len())
	}
	s.ref.stale = true
	return s, nil
}

func (r *snapReader) stream(s *Stream) error {
	if v := r.Uvarint(); r.Err() == nil && v != snapshotVersion {
		return fmt.Errorf("snapshot version %d, want %d", v, snapshotVersion)
	}
	if key := r.Str(); r.Err() == nil && key != s.key {
		return fmt.Errorf("snapshot of stream %q", key)
	}
	kind := event.Type(r.Str())
	switch kind {
	case "", event.TypeLog, event.TypeSpan, event.TypeMetric:
		s.kind = kind
	default:
		r.Failf("unknown stream kind %q", kind)
	}
	if n := r.Count(4); n > 0 {
		s.lineTab = make([]*lineStat, 1, n+1) // id 0 means no line
	}
	for id := 1; id < cap(s.lineTab); id++ {
		ls := &lineStat{line: r.Str(), base: int32(r.Varint()), live: int32(r.Varint()), seen: r.Float64()}
		if r.Err() != nil {
			return r.Err()
		}
		if id > 1 && ls.line <= s.lineTab[id-1].line {
			return fmt.Errorf("lines out of order or repeated at %d", id-1)
		}
		s.lineTab = append(s.lineTab, ls)
		s.lineIDs[ls.line] = uint32(id)
	}
	r.canon(s.canon)
	readRing(r, &s.window, 6, func(it *item) { r.item(it, s) })
	readRing(r, &s.base, 4, func(f *feats) { r.feats(f, s) })
	s.pending = make([]feats, r.Count(4))
	for i := range s.pending {
		r.feats(&s.pending[i], s)
	}
	s.pushed = r.Varint()
	r.firsts(s)
	s.sinceJudge, s.seq, s.anomRun = int(r.Varint()), r.Varint(), int(r.Varint())
	s.sumPrev, s.sumHave = r.Float64(), r.Bool()
	s.dict = r.Bytes()
	s.seenTotal, s.once = r.Float64(), r.Float64()
	for i := range s.sevSeen {
		s.sevSeen[i] = r.Float64()
	}
	s.sevTotal = r.Float64()
	s.effects = r.f64s()
	r.history(&s.hist)
	r.onset(&s.onset)
	r.context(&s.ctx, s.cfg.ContextOrder)
	r.season(&s.season, s.cfg.SeasonCycles, &s.hist)
	if r.Err() != nil {
		return r.Err()
	}
	return s.checkLines()
}

// snapWriter appends the parts of a snapshot of s. Items are written as the
// differences of their offset and time from the previous item's, their line
// as its index (1-based, 0 for none) among the sorted lines, index[id].
type snapWriter struct {
	b              []byte
	s              *Stream
	index          []uint64
	prevOff, prevT int64
}

func (w *snapWriter) uvarint(v uint64) { w.b = varbytes.AppendUvarint(w.b, v) }
func (w *snapWriter) varint(v int64)   { w.b = varbytes.AppendVarint(w.b, v) }
func (w *snapWriter) f64(v float64)    { w.b = varbytes.AppendFloat64(w.b, v) }
func (w *snapWriter) bool(v bool)      { w.b = varbytes.AppendBool(w.b, v) }
func (w *snapWriter) str(v string)     { w.b = varbytes.AppendString(w.b, v) }
func (w *snapWriter) bytes(v []byte)   { w.b = varbytes.AppendBytes(w.b, v) }
func (w *snapWriter) f64s(v []float64) {
	w.uvarint(uint64(len(v)))
	for _, x := range v {
		w.f64(x)
	}
}

// time writes t as a zero flag and Unix nanoseconds; times in a stream are
// UTC.
func (w *snapWriter) time(t time.Time) {
	w.bool(t.IsZero())
	if !t.IsZero() {
		w.varint(t.UnixNano())
	}
}

// count writes a count: a whole number below 2^53 as a varint of twice it,
// anything else as 1 and its bits.
func (w *snapWriter) count(v float64) {
	if v >= 0 && v < 1<<53 && v == math.Trunc(v) && !math.Signbit(v) {
		w.uvarint(uint64(v) << 1)
		return
	}
	w.uvarint(1)
	w.f64(v)
}

// item writes an event of the window: its offset and time, and its feats.
func (w *snapWriter) item(it *item) {
	w.varint(it.offset - w.prevOff)
	w.varint(it.ts - w.prevT)
	w.prevOff, w.prevT = it.offset, it.ts
	w.feats(&it.feats)
}

// feats writes an event's line, its features, severity class and flag.
func (w *snapWriter) feats(it *feats) {
	if l := it.line(); l != 0 {
		w.uvarint(w.index[l])
	} else {
		w.uvarint(0)
	}
	w.b = append(w.b, it.nv, it.sev)
	w.bool(it.flagged)
	for f := range int(it.nv) {
		w.f64(w.s.feature(it, f))
	}
}

func (w *snapWriter) canon(c *canonicalizer) {
	keys := make([]string, 0, len(c.attrs))
	for k := range c.attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.uvarint(uint64(len(keys)))
	for _, k := range keys {
		av := c.attrs[k]
		w.str(k)
		w.bool(av.high)
		w.uvarint(uint64(len(av.values)))
		for _, v := range av.values {
			w.str(v)
		}
	}
}

// history writes the values in arrival order, oldest first; their ranks
// are rebuilt on restore.
func (w *snapWriter) history(h *valueHistory) {
	w.uvarint(uint64(h.size))
	w.uvarint(uint64(len(h.ring)))
	w.uvarint(uint64(h.next))
	for _, v := range h.ring {
		w.f64(v)
	}
}

func (w *snapWriter) onset(o *onsetState) {
	w.varint(o.events)
	w.bool(o.recent != nil)
	if m := o.recent; m != nil {
		w.varint(int64(m.n))
		w.varint(int64(m.seen))
		w.f64s(m.vals)
		w.uvarint(uint64(len(m.idx)))
		for _, i := range m.idx {
			w.varint(int64(i))
		}
	}
	w.varint(o.incident)
	w.varint(o.until)
	w.bool(o.known)
	w.bool(o.open)
	w.bool(o.trigger != nil)
	if o.trigger != nil {
		w.eventAnomaly(o.trigger)
	}
	w.evidence(o.burst)
	w.varint(int64(o.elevated))
	w.str(o.triggerLine)
	w.b = append(w.b, o.triggerSev, o.reason)
	w.varint(o.firstEvents)
	w.varint(o.lastEvents)
	w.time(o.lastTS)
	w.bool(o.lineNew)
	w.bool(o.sevRise)
	w.bool(o.shapes == nil)
	w.uvarint(uint64(len(o.shapes)))
	for _, l := range o.shapes {
		w.str(l)
	}
	w.f64(o.lineBits)
	w.f64(o.usualBits)
	w.varint(int64(o.usualN))
}

func (w *snapWriter) eventAnomaly(ea *EventAnomaly) {
	w.varint(ea.Offset)
	w.time(ea.Timestamp)
	w.time(ea.Start)
	w.time(ea.End)
	w.varint(ea.FirstOffset)
	w.varint(int64(ea.Events))
	w.f64(ea.Score)
	w.f64(ea.Confidence)
	w.varint(ea.Incident)
	w.str(ea.Explanation)
	w.evidence(ea.Evidence)
	w.uvarint(uint64(len(ea.Series)))
	for _, p := range ea.Series {
		w.varint(p.Offset)
		w.time(p.Timestamp)
		w.f64(p.Value)
		w.bool(p.Anomalous)
	}
	w.bool(ea.Closing)
}

func (w *snapWriter) evidence(ev []Evidence) {
	w.bool(ev == nil)
	w.uvarint(uint64(len(ev)))
	for _, e := range ev {
		w.varint(e.Offset)
		w.time(e.Timestamp)
		w.str(e.Summary)
		w.f64(e.Score)
	}
}

// context writes the context model; its counts are written in key order,
// keys as differences from the previous key. The flag before them tells a
// model that has seen no value.
func (w *snapWriter) context(m *contextModel) {
	w.uvarint(m.recent)
	w.uvarint(uint64(m.nrecent))
	w.bool(!m.have)
	g := &m.grams
	w.uvarint(uint64(g.len()))
	prev := uint64(0)
	for k := range g.his {
		from, to := g.bounds(k)
		for i := from; i < to; i++ {
			key := g.key(k, i)
			w.uvarint(key - prev) // keys ascend: their differences are small
			prev = key
			w.count(g.at(i))
		}
	}
	w.f64(m.total)
	w.f64(m.prev)
	w.bool(m.have)
	w.f64s(m.last)
	w.varint(int64(m.next))
	w.f64(m.sum)
	w.f64(m.peak)
	w.f64(m.mean)
}

// season writes the daily-cycle model: the values the value history does
// not hold, and the residuals (their sorted copy and the same-phase values
// are not held: they are computed when used).
func (w *snapWriter) season(m *seasonModel) {
	w.varint(int64(m.period))
	w.bool(m.started)
	w.varint(m.prevTS)
	w.uvarint(uint64(len(m.intervals)))
	for _, d := range m.intervals {
		w.varint(d)
	}
	w.f64s(m.older)
	w.varint(int64(m.onext))
	w.varint(int64(m.seen))
	w.f64s(m.resid)
	w.varint(int64(m.rnext))
	w.varint(int64(m.since))
	w.f64(m.lo)
	w.f64(m.hi)
	w.f64(m.spread)
	w.bool(m.ready)
}

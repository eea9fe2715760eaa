package cbad

import (
	"bytes"
	"math"
	"slices"
	"strings"

	"github.com/driftlock/driftlock/internal/event"
)

// Severity classes of log records.
const (
	sevUnset uint8 = iota
	sevTrace
	sevDebug
	sevInfo
	sevWarn
	sevError
	sevFatal
	numSev
)

var sevNames = [numSev]string{"UNSET", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}

// sevClass returns the severity class of a record from its number, or from
// its text when the number is unset.
func sevClass(text string, number int32) uint8 {
	if number >= 1 && number <= 24 {
		return uint8(1 + (number-1)/4)
	}
	t := strings.ToUpper(text)
	switch {
	case strings.HasPrefix(t, "FATAL"), strings.HasPrefix(t, "CRIT"), strings.HasPrefix(t, "EMERG"),
		strings.HasPrefix(t, "ALERT"), strings.HasPrefix(t, "SEVERE"), strings.HasPrefix(t, "PANIC"):
		return sevFatal
	case strings.HasPrefix(t, "ERR"), strings.HasPrefix(t, "FAIL"):
		return sevError
	case strings.HasPrefix(t, "WARN"):
		return sevWarn
	case strings.HasPrefix(t, "INFO"), strings.HasPrefix(t, "NOTICE"):
		return sevInfo
	case strings.HasPrefix(t, "DEBUG"):
		return sevDebug
	case strings.HasPrefix(t, "TRACE"):
		return sevTrace
	}
	return sevUnset
}

// refStats summarises the baseline for scoring single events: the sorted
// primary values of a metric baseline and their robust range.
type refStats struct {
	stale  bool
	sorted []float64
	lo, hi float64
	spread float64
}

func (r *refStats) sizeBytes() int { return 8 * cap(r.sorted) }

// refresh rebuilds the statistics from the baseline when it changed.
func (s *Stream) refresh() {
	r := &s.ref
	if !r.stale && len(r.sorted) == s.base.len() {
		return
	}
	r.stale = false
	r.sorted = r.sorted[:0]
	for i := 0; i < s.base.len(); i++ {
		r.sorted = append(r.sorted, s.base.at(i).v)
	}
	slices.Sort(r.sorted)
	r.lo, r.hi = quantileSorted(r.sorted, 0.01), quantileSorted(r.sorted, 0.99)
	r.spread = quantileSorted(r.sorted, 0.75) - quantileSorted(r.sorted, 0.25)
	if r.spread <= 0 {
		r.spread = max(r.hi-r.lo, math.Abs(r.hi)*1e-3, 1e-9)
	}
}

// eventScore is the novelty of one event given the stream's history, in
// [0, 1]: for logs and spans the larger of how far the surprisal of its
// canonical line lies beyond the surprisals of the stream's latest lines
// and the rarity of its severity, for metrics the larger of its value's
// distance
// beyond the range of the latest values, its departure from the daily
// cycle (Config.SeasonCycles) and the novelty of its recent context
// (Config.ContextOrder). It notes which score was the largest.
func (s *Stream) eventScore(it *item) float64 {
	if s.kind != event.TypeMetric {
		s.onset.lineNew = s.lineTab[it.ref].seen == 0
		sev := s.severityScore(it.sev)
		bits := s.lineSurprisal(it.ref)
		line := 0.0
		if s.hist.n() > 0 {
			_, hi, spread := s.hist.rangeOf()
			line = above(bits, hi, spread)
			s.onset.lineBits, s.onset.usualBits, s.onset.usualN = bits, hi, s.hist.n()
		}
		s.hist.add(bits)
		s.onset.sevRise = sev > line
		return max(line, sev)
	}
	v := it.v
	score, reason := 0.0, reasonValue
	if s.cfg.SeasonCycles > 0 {
		score, reason = s.seasonNovelty(v, it.ts), reasonSeason
	}
	if s.hist.n() > 0 {
		lo, hi, spread := s.hist.rangeOf()
		if x := beyond(v, lo, hi, spread); x >= score {
			score, reason = x, reasonValue
		}
		if s.cfg.ContextOrder > 0 {
			if x := s.cfg.ContextWeight * s.contextNovelty(v); x > score {
				score, reason = x, reasonContext
			}
		}
	}
	s.hist.add(v)
	s.onset.reason = reason
	return score
}

// severityScore returns how rare the severity class c (WARN and above) is
// in the stream, in [0, 1]: the surprisal of the class under the stream's
// counts of classes, relative to that of a class never seen in its records
// so far; 0 below WARN. Then it counts c. So the first ERROR lines of
// a stream that has logged none score high however ordinary their text,
// and a stream that always logs errors is not alarmed by one more.
func (s *Stream) severityScore(c uint8) float64 {
	n := s.sevTotal
	s.sevSeen[c]++
	s.sevTotal++
	if c < sevWarn || n == 0 {
		return 0
	}
	bits := math.Log2((n + 1) / (s.sevSeen[c] - 1 + 0.5))
	return clamp01(bits / math.Log2(2*(n+1)))
}

// maxMemoryLines bounds the distinct lines the long memory keeps.
const maxMemoryLines = 8192

// lineSurprisal returns the surprisal of line, in bits, under the
// long-memory line counts, then counts it. The stream's usual surprisals
// (its latest lines', kept in the value history) are what a line's is
// measured against: a line scores when its surprisal lies beyond the 99th
// percentile of theirs, so a never-seen shape stands out in a stream whose
// shapes rarely change, from its first hundreds of lines on, and not in one
// where new shapes are routine.
// The counts are halved every Memory events, and whenever more than
// maxMemoryLines distinct lines are held, forgetting lines seen only once.
//
// A line never seen before counts as often as there are lines seen exactly
// once (Good–Turing's estimate of the chance that the next line is new, and
// at least 0.5): in a stream that often shows new lines another new line is
// less surprising than in one that rarely does. It is also new by as much
// as it is unlike the lines seen
// lately: its surprisal is scaled by its conditional compressed size given
// the recent distinct lines, per byte (between half and all of it), so that
// a known message about another node counts less than a message of a kind
// never seen.
func (s *Stream) lineSurprisal(id uint32) float64 {
	ls := s.lineTab[id]
	bits := 0.0
	if s.seenTotal > 0 {
		count := ls.seen + 0.5
		if ls.seen == 0 {
			count = max(0.5, s.once)
		}
		bits = math.Log2((s.seenTotal + 1) / count)
		if ls.seen == 0 {
			bits *= 0.5 + 0.5*s.unlikeness(ls.line)
		}
	}
	if ls.seen == 0 {
		s.remember(ls.line)
	}
	switch ls.seen {
	case 0:
		s.once++
	case 1:
		s.once--
	}
	ls.seen++
	s.seenTotal++
	if s.seenTotal >= float64(s.cfg.Memory) || len(s.lineIDs) > maxMemoryLines {
		s.halveMemory()
	}
	return bits
}

// maxDict bounds the recent distinct lines kept for unlikeness.
const maxDict = 16 << 10

// unlikeness is the compressed size of line given the recent distinct
// lines, per byte of line, in [0, 1].
func (s *Stream) unlikeness(line string) float64 {
	if len(s.dict) == 0 {
		return 1
	}
	base := s.comp.size(s.dict)
	sc := scratchPool.Get().(*scratch)
	sc.mix = append(append(sc.mix[:0], s.dict...), line...)
	cond := s.comp.size(sc.mix) - base
	scratchPool.Put(sc)
	return clamp01(float64(cond) / float64(len(line)+1))
}

// remember adds a new distinct line to the recent ones, dropping the oldest
// half when they grow beyond maxDict.
func (s *Stream) remember(line string) {
	if len(s.dict)+len(line) >= maxDict {
		half := len(s.dict) / 2
		if k := bytes.IndexByte(s.dict[half:], '\n'); k >= 0 {
			half += k + 1
		}
		s.dict = append(s.dict[:0], s.dict[half:]...)
	}
	s.dict = append(append(s.dict, line...), '\n')
}

// halveMemory halves every long-memory count and forgets lines no longer
// held, in the order of their ids.
func (s *Stream) halveMemory() {
	s.sevTotal = 0
	for c := range s.sevSeen {
		s.sevSeen[c] = math.Floor(s.sevSeen[c] / 2)
		s.sevTotal += s.sevSeen[c]
	}
	s.seenTotal, s.once = 0, 0
	for id, ls := range s.lineTab {
		if ls == nil {
			continue
		}
		ls.seen = math.Floor(ls.seen / 2)
		s.seenTotal += ls.seen
		if ls.seen == 1 {
			s.once++
		}
		s.release(uint32(id))
	}
}

// valueNovelty maps a value to [0, 1] against the baseline statistics: 0
// inside the baseline's 1st to 99th percentile, rising with the distance
// beyond it in interquartile ranges (d / (1 + d), which keeps large
// distances apart).
func (s *Stream) valueNovelty(v float64) float64 {
	return beyond(v, s.ref.lo, s.ref.hi, s.ref.spread)
}

// above maps v's distance above hi, in units of spread, to [0, 1) as
// d / (1 + d); 0 at or below hi.
func above(v, hi, spread float64) float64 {
	return beyond(max(v, hi), hi, hi, spread)
}

// beyond maps v's distance outside [lo, hi], in units of spread, to [0, 1)
// as d / (1 + d).
func beyond(v, lo, hi, spread float64) float64 {
	d := 0.0
	if v > hi {
		d = (v - hi) / spread
	} else if v < lo {
		d = (lo - v) / spread
	}
	return d / (1 + d)
}

func clamp01(x float64) float64 {
	return min(max(x, 0), 1)
}

package cbad

import "math"

// maxContextGrams bounds the distinct symbol n-grams a stream counts: at
// most about 160 KB of counts per metric stream (65,536 cost up to 2.6 MB,
// for 0.1 to 0.2 more NAB points).
const maxContextGrams = 1 << 12

// contextWarmup is how many n-grams must be counted before the context
// novelty scores anything.
const contextWarmup = 512

// contextModel counts the n-grams of a metric stream's recent symbols (a
// value's level among the baseline's equal-frequency levels and the
// direction of its change), so that a shape made of familiar values, such
// as a flat segment or a broken daily cycle, still shows as new.
type contextModel struct {
	recent []byte
	counts map[uint64]float64
	total  float64
	prev   float64
	have   bool
	// last holds the latest novelties, sum their sum.
	last []float64
	next int
	sum  float64
	// peak is the largest smoothed novelty so far, mean their running mean.
	peak, mean float64
}

// contextNovelty adds v's symbol to the recent sequence and returns how
// unusual the recent context is, in [0, 1]: the surprisal of the latest
// n-gram of Config.ContextOrder symbols under the counts so far (normalised
// by that of a never-seen n-gram), averaged over the latest contextSpan
// events and scored by how far it exceeds its own decaying peak. Then it
// counts the n-gram.
func (s *Stream) contextNovelty(v float64) float64 {
	m := &s.ctx
	if m.counts == nil {
		m.counts = make(map[uint64]float64)
	}
	sym := s.contextSymbol(v)
	m.prev, m.have = v, true
	m.recent = append(m.recent, sym)
	n := s.cfg.ContextOrder
	if len(m.recent) > n {
		m.recent = m.recent[len(m.recent)-n:]
	}
	if len(m.recent) < n {
		return 0
	}
	var key uint64
	for _, b := range m.recent {
		key = key<<8 | uint64(b)
	}
	c := m.counts[key]
	score := 0.0
	if m.total >= contextWarmup {
		score = math.Log((m.total+1)/(c+0.5)) / math.Log((m.total+1)/0.5)
	}
	if c > 0 || len(m.counts) < maxContextGrams {
		m.counts[key] = c + 1
		m.total++
	}
	return m.beyond(m.smooth(clamp01(score)))
}

// beyond scores a smoothed novelty by how far it exceeds every earlier one,
// in units of that maximum's distance from their running mean.
func (m *contextModel) beyond(x float64) float64 {
	if m.total < 2*contextWarmup {
		m.mean += (x - m.mean) / 64
		m.peak = max(m.peak, x)
		return 0
	}
	d := 0.0
	if x > m.peak {
		d = contextGain * (x - m.peak) / max(m.peak-m.mean, 1e-6)
	}
	m.mean += (x - m.mean) / 64
	m.peak = max(m.peak-(m.peak-m.mean)/contextDecay, x)
	return d / (1 + d)
}

// contextSpan is how many latest n-gram novelties are averaged.
const contextSpan = 16

// contextDecay is the number of events over which the peak of the smoothed
// novelties decays towards their running mean, so that an early burst does
// not mask later changes for ever.
const contextDecay = 2048.0

// contextGain scales how far beyond the peak a smoothed novelty lies
// before it is mapped to [0, 1].
const contextGain = 30.0

// smooth returns the mean of the latest contextSpan novelties.
func (m *contextModel) smooth(x float64) float64 {
	if len(m.last) < contextSpan {
		m.last = append(m.last, x)
	} else {
		m.sum -= m.last[m.next]
		m.last[m.next] = x
		m.next = (m.next + 1) % contextSpan
	}
	m.sum += x
	return clamp01(m.sum / float64(len(m.last)))
}

// contextSymbol returns v's level among Config.Levels equal-frequency
// levels of the baseline, times three, plus the direction of its change.
func (s *Stream) contextSymbol(v float64) byte {
	sorted := s.hist.sorted
	_, _, spread := s.hist.rangeOf()
	l := 0
	for k := 1; k < s.cfg.Levels; k++ {
		if v > quantileSorted(sorted, float64(k)/float64(s.cfg.Levels)) {
			l = k
		}
	}
	dir := 0
	if m := &s.ctx; m.have {
		switch d := v - m.prev; {
		case d > 0.05*spread:
			dir = 2
		case d < -0.05*spread:
			dir = 1
		}
	}
	return byte(3*l + dir)
}

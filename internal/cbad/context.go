package cbad

import (
	"math"
	"slices"
)

// maxContextGrams bounds the distinct symbol n-grams a stream counts: at
// most 24 KB of keys and counts per metric stream at the default levels
// and order (65,536 cost up to 384 KB, for 0.1 to 0.2 more NAB points).
const maxContextGrams = 1 << 12

// contextWarmup is how many n-grams must be counted before the context
// novelty scores anything.
const contextWarmup = 512

// contextModel counts the n-grams of a metric stream's recent symbols (a
// value's level among the baseline's equal-frequency levels and the
// direction of its change), so that a shape made of familiar values, such
// as a flat segment or a broken daily cycle, still shows as new.
type contextModel struct {
	// recent holds the latest symbols as the digits of a number in base
	// 3*Config.Levels, the newest lowest; nrecent is how many (at most
	// Config.ContextOrder).
	recent  uint64
	nrecent int
	grams   gramCounts
	total   float64
	prev    float64
	have    bool
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
	sym := s.contextSymbol(v)
	m.prev, m.have = v, true
	n, base := s.cfg.ContextOrder, uint64(3*s.cfg.Levels)
	span := uint64(1) // base^n: at most 192^8, below 2^61
	for range n {
		span *= base
	}
	m.recent = (m.recent*base + uint64(sym)) % span
	m.nrecent = min(m.nrecent+1, n)
	if m.nrecent < n {
		return 0
	}
	key := m.recent // the n-gram, its oldest symbol the highest digit
	i, found := m.grams.find(key)
	c := 0.0
	if found {
		c = m.grams.at(i)
	}
	score := 0.0
	if m.total >= contextWarmup {
		score = math.Log((m.total+1)/(c+0.5)) / math.Log((m.total+1)/0.5)
	}
	switch {
	case found:
		m.grams.incr(i)
		m.total++
	case m.grams.len() < maxContextGrams:
		m.grams.insert(i, key, 1)
		m.total++
	}
	return m.beyond(m.smooth(clamp01(score)))
}

func (m *contextModel) sizeBytes() int { return m.grams.sizeBytes() + 8*cap(m.last) }

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
	_, _, spread := s.hist.rangeOf()
	l := 0
	for k := 1; k < s.cfg.Levels; k++ {
		if v > s.hist.quantile(float64(k)/float64(s.cfg.Levels)) {
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

// gramCounts counts n-grams exactly in little memory. The keys are held
// ascending in groups by their high 32 bits (his, each group starting at
// starts in lows), so that each key costs its low 32 bits and its count:
// keys below 2^37, as those of 8 symbols among 24 are, fall in at most 32
// groups. A key is found by binary search in his and then in its group.
// Counts are whole numbers held as uint16 (counts) while all are below
// 2^16, then as uint32 (counts32), then as float64 (wide), where they stay
// exact up to 2^53: exactly one of the three is in use, counts when none is
// set.
type gramCounts struct {
	his      []uint32
	starts   []uint16 // maxContextGrams fits
	lows     []uint32
	counts   []uint16
	counts32 []uint32
	wide     []float64
}

func (g *gramCounts) len() int { return len(g.lows) }

// group returns where the group of key's high bits is among the groups, or
// would be, and whether it is there.
func (g *gramCounts) group(key uint64) (int, bool) {
	return slices.BinarySearch(g.his, uint32(key>>32))
}

// bounds returns the range of lows the k-th group takes.
func (g *gramCounts) bounds(k int) (from, to int) {
	if k == len(g.his) {
		return len(g.lows), len(g.lows)
	}
	from, to = int(g.starts[k]), len(g.lows)
	if k+1 < len(g.starts) {
		to = int(g.starts[k+1])
	}
	return from, to
}

// find returns where key is among the keys, or would be, and whether it is
// there.
func (g *gramCounts) find(key uint64) (int, bool) {
	k, ok := g.group(key)
	from, to := g.bounds(k)
	if !ok {
		return from, false
	}
	j, found := slices.BinarySearch(g.lows[from:to], uint32(key))
	return from + j, found
}

// key returns the key at i, in the k-th group.
func (g *gramCounts) key(k, i int) uint64 { return uint64(g.his[k])<<32 | uint64(g.lows[i]) }

// at returns the i-th key's count.
func (g *gramCounts) at(i int) float64 {
	switch {
	case g.wide != nil:
		return g.wide[i]
	case g.counts32 != nil:
		return float64(g.counts32[i])
	}
	return float64(g.counts[i])
}

// incr adds one to the i-th key's count.
func (g *gramCounts) incr(i int) {
	g.fit(g.at(i) + 1)
	switch {
	case g.wide != nil:
		g.wide[i]++
	case g.counts32 != nil:
		g.counts32[i]++
	default:
		g.counts[i]++
	}
}

// insert puts key, which find placed at i, there with a count of c.
func (g *gramCounts) insert(i int, key uint64, c float64) {
	k, ok := g.group(key)
	if !ok {
		g.his = slices.Insert(g.his, k, uint32(key>>32))
		g.starts = slices.Insert(g.starts, k, uint16(i))
	}
	for j := k + 1; j < len(g.starts); j++ {
		g.starts[j]++
	}
	if len(g.lows) == cap(g.lows) {
		g.grow(len(g.lows) + 1)
	}
	g.lows = slices.Insert(g.lows, i, uint32(key))
	g.fit(c)
	switch {
	case g.wide != nil:
		g.wide = slices.Insert(g.wide, i, c)
	case g.counts32 != nil:
		g.counts32 = slices.Insert(g.counts32, i, uint32(c))
	default:
		g.counts = slices.Insert(g.counts, i, uint16(c))
	}
}

// grow makes room for at least n keys, doubling up to maxContextGrams.
func (g *gramCounts) grow(n int) {
	c := max(n, min(2*cap(g.lows), maxContextGrams), 16)
	g.lows = moved[uint32](g.lows, c)
	switch {
	case g.wide != nil:
		g.wide = moved[float64](g.wide, c)
	case g.counts32 != nil:
		g.counts32 = moved[uint32](g.counts32, c)
	default:
		g.counts = moved[uint16](g.counts, c)
	}
}

// fit moves the counts to a wider type if c does not fit theirs.
func (g *gramCounts) fit(c float64) {
	if g.wide == nil && g.counts32 == nil && c > math.MaxUint16 {
		g.counts32, g.counts = moved[uint32](g.counts, cap(g.lows)), nil
	}
	if g.counts32 != nil && c > math.MaxUint32 {
		g.wide, g.counts32 = moved[float64](g.counts32, cap(g.lows)), nil
	}
}

// moved returns from's values as a new slice of capacity c.
func moved[T, F uint16 | uint32 | float64](from []F, c int) []T {
	out := make([]T, len(from), c)
	for i, v := range from {
		out[i] = T(v)
	}
	return out
}

func (g *gramCounts) sizeBytes() int {
	return 4*cap(g.his) + 2*cap(g.starts) + 4*cap(g.lows) + 2*cap(g.counts) + 4*cap(g.counts32) + 8*cap(g.wide)
}

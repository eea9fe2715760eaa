package cbad

import (
	"hash/fnv"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/driftlock/driftlock/internal/event"
)

// scratchPool holds judgement buffers. Everything in a scratch is rebuilt
// by each judgement, so streams share them instead of each keeping its own
// (tens of kilobytes per stream).
var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// scratch holds a judgement's reusable buffers.
type scratch struct {
	mix    []byte
	blocks []int // block starts (item indices) of baseline then window
	ids    []int
	q      [maxFeatures]quantizer
	vals   []float64
	// itemID holds the token ids of each pool item, tokens per item; the
	// tokens' names are in distinct; counts counts tokens of one side.
	tokens   int
	itemID   []int32
	distinct []string
	counts   []int32
	// lineIDs are the pool's distinct line ids, tokenOf the token of each
	// line id (-1 for a line not in the pool).
	lineIDs []uint32
	tokenOf []int32
	// total holds the token counts of the whole pool; base those of the
	// baseline side being written.
	total, base []int32
	// sizes caches the compressed sizes of what the current judgement
	// compressed (empty between judgements); cached is the bytes of its keys.
	sizes  map[string]int
	cached int
}

// poolItem returns the i-th event of baseline then window.
func (s *Stream) poolItem(i int) *feats {
	if i < s.base.len() {
		return s.base.at(i)
	}
	return &s.window.at(i - s.base.len()).feats
}

// prepare readies the pool (baseline then window) for writing sides: each
// pool item becomes tokens (sc.tokens per item) whose names are in
// sc.distinct. A log line or span is one token, its canonical line; a metric
// event is a value token (level and change symbols) plus a level token per
// further feature.
func (s *Stream) prepare() {
	if s.kind == event.TypeMetric {
		s.prepareMetrics()
		return
	}
	sc := s.sc
	n := s.base.len() + s.window.len()
	sc.tokenOf = slices.Grow(sc.tokenOf[:0], len(s.lineTab))[:len(s.lineTab)]
	for i := range sc.tokenOf {
		sc.tokenOf[i] = -1
	}
	sc.lineIDs = sc.lineIDs[:0]
	for i := 0; i < n; i++ {
		if l := s.poolItem(i).ref; sc.tokenOf[l] < 0 {
			sc.tokenOf[l] = 0
			sc.lineIDs = append(sc.lineIDs, l)
		}
	}
	slices.SortFunc(sc.lineIDs, func(a, b uint32) int { return strings.Compare(s.lineTab[a].line, s.lineTab[b].line) })
	sc.distinct = sc.distinct[:0]
	for tok, l := range sc.lineIDs {
		sc.tokenOf[l] = int32(tok)
		sc.distinct = append(sc.distinct, s.lineTab[l].line)
	}
	sc.tokens, sc.itemID = 1, sc.itemID[:0]
	for i := 0; i < n; i++ {
		sc.itemID = append(sc.itemID, sc.tokenOf[s.poolItem(i).ref])
	}
	sc.counts = slices.Grow(sc.counts[:0], len(sc.distinct))[:len(sc.distinct)]
}

// prepareMetrics symbolises the pool's values against the pooled
// distribution, so that every split of the pool is symbolised alike.
func (s *Stream) prepareMetrics() {
	sc := s.sc
	n := s.base.len() + s.window.len()
	nv := int(s.poolItem(n - 1).nv)
	for f := 0; f < nv; f++ {
		sc.vals = sc.vals[:0]
		for i := 0; i < n; i++ {
			sc.vals = append(sc.vals, s.feature(s.poolItem(i), f))
		}
		sc.q[f].fit(sc.vals, s.cfg.Levels)
	}
	levels := s.cfg.Levels + 2*tailSymbols + 1
	sc.distinct = metricTokenNames(sc.distinct[:0], levels, nv)
	sc.tokens, sc.itemID = nv, sc.itemID[:0]
	prev := s.poolItem(0).v
	for i := 0; i < n; i++ {
		it := s.poolItem(i)
		v := it.v
		sc.itemID = append(sc.itemID, int32(sc.q[0].level(v))*numDeltas+int32(sc.q[0].delta(v-prev)))
		prev = v
		for f := 1; f < nv; f++ {
			sc.itemID = append(sc.itemID, int32(levels*numDeltas+(f-1)*levels)+int32(sc.q[f].level(s.feature(it, f))))
		}
	}
	sc.counts = slices.Grow(sc.counts[:0], len(sc.distinct))[:len(sc.distinct)]
}

// numDeltas is the number of change symbols (see quantizer.delta).
const numDeltas = 9

// metricTokenNames appends the names of the metric tokens: value level and
// change pairs, then the levels of each further feature. A name is a
// readable prefix and eight letters derived from the token id, so that two
// tokens share no run a compressor could match: a value at another level
// costs as much as a new message shape.
func metricTokenNames(dst []string, levels, nv int) []string {
	n := levels*numDeltas + (nv-1)*levels
	for id := range n {
		x := uint64(id+1) * 0x9E3779B97F4A7C15
		x ^= x >> 31
		x *= 0xBF58476D1CE4E5B9
		x ^= x >> 29
		var w [8]byte
		for k := range w {
			w[k] = 'a' + byte(x%26)
			x /= 26
		}
		dst = append(dst, "v"+string(w[:]))
	}
	return dst
}

// writeSide appends the canonical form of the items in the given blocks to
// dst: a table of the distinct tokens, in a fixed order, each with a
// logarithmic class of its count scaled to WindowSize events. The
// compressor thus sees which message shapes (or value symbols) occur and
// how often, not the random interleaving of a busy service; a new shape, a
// shift in shares or in level moves the table away from the baseline's.
func (s *Stream) writeSide(dst []byte, blocks []int) []byte {
	sc := s.sc
	clear(sc.counts)
	items := 0
	for _, b := range blocks {
		lo, hi := s.blockItems(b)
		items += hi - lo
		for _, id := range sc.itemID[lo*sc.tokens : hi*sc.tokens] {
			sc.counts[id]++
		}
	}
	return s.appendTable(dst, sc.counts, items)
}

// appendTable appends the table of the token counts of a side of items
// events (see writeSide).
func (s *Stream) appendTable(dst []byte, counts []int32, items int) []byte {
	scale := float64(s.cfg.WindowSize) / float64(max(items, 1))
	for id, c := range counts {
		if c == 0 {
			continue
		}
		dst = append(dst, s.sc.distinct[id]...)
		dst = append(dst, ' ', byte('a'+bits.Len(uint(math.Round(float64(c)*scale)))/2), '\n')
	}
	return dst
}

// countPool sets sc.total to the token counts of the whole pool.
func (s *Stream) countPool() {
	sc := s.sc
	sc.total = slices.Grow(sc.total[:0], len(sc.counts))[:len(sc.counts)]
	clear(sc.total)
	for _, id := range sc.itemID {
		sc.total[id]++
	}
}

// writeSides writes into sc.mix what writeSide writes for the blocks
// sc.ids[:nbBlocks] and then for the rest, and returns where the second
// side starts. The window side is counted and the baseline's counts are
// the pool's less the window's, which halves the counting.
func (s *Stream) writeSides(nbBlocks int) (cut int) {
	sc := s.sc
	clear(sc.counts)
	items := 0
	switch {
	case s.cfg.BlockSize == 1 && sc.tokens == 1:
		for _, b := range sc.ids[nbBlocks:] {
			sc.counts[sc.itemID[b]]++
		}
		items = len(sc.ids) - nbBlocks
	default:
		for _, b := range sc.ids[nbBlocks:] {
			lo, hi := s.blockItems(b)
			items += hi - lo
			for _, id := range sc.itemID[lo*sc.tokens : hi*sc.tokens] {
				sc.counts[id]++
			}
		}
	}
	sc.base = slices.Grow(sc.base[:0], len(sc.counts))[:len(sc.counts)]
	for id, c := range sc.counts {
		sc.base[id] = sc.total[id] - c
	}
	sc.mix = s.appendTable(sc.mix[:0], sc.base, s.base.len()+s.window.len()-items)
	cut = len(sc.mix)
	sc.mix = s.appendTable(sc.mix, sc.counts, items)
	return cut
}

// blockItems returns the pool items [lo, hi) of block b.
func (s *Stream) blockItems(b int) (lo, hi int) {
	sc := s.sc
	lo, hi = sc.blocks[b], s.base.len()+s.window.len()
	if b+1 < len(sc.blocks) {
		hi = sc.blocks[b+1]
	}
	if lo < s.base.len() {
		hi = min(hi, s.base.len())
	}
	return lo, hi
}

// ncd returns the normalised compression distance between buf[:cut] and
// buf[cut:], and the compressed sizes of both parts.
func (s *Stream) ncd(buf []byte, cut int) (d float64, cb, cw int) {
	cb, cw = s.size(buf[:cut]), s.size(buf[cut:])
	cbw := s.size(buf)
	lo, hi := min(cb, cw), max(cb, cw)
	if hi == 0 {
		return 0, cb, cw
	}
	return float64(cbw-lo) / float64(hi), cb, cw
}

// judge measures the window against the baseline and tests significance.
func (s *Stream) judge() *Judgement {
	s.sc = scratchPool.Get().(*scratch)
	sc := s.sc
	if sc.sizes == nil {
		sc.sizes = make(map[string]int)
	}
	sc.cached = 0
	defer func() {
		clear(sc.sizes)
		scratchPool.Put(sc)
		s.sc = nil
	}()
	s.prepare()
	nbBlocks := s.makeBlocks()
	sc.ids = sc.ids[:0]
	for i := range len(sc.blocks) {
		sc.ids = append(sc.ids, i)
	}
	s.countPool()
	cut := s.writeSides(nbBlocks)
	obs, cb, cw := s.ncd(sc.mix, cut)
	j := &Judgement{
		Seq:    s.seq,
		Events: s.window.len(),
		Scores: Scores{
			NCD:             obs,
			BaselineRatio:   ratio(cut, cb),
			WindowRatio:     ratio(len(sc.mix)-cut, cw),
			BaselineEntropy: byteEntropy(sc.mix[:cut]),
			WindowEntropy:   byteEntropy(sc.mix[cut:]),
		},
	}
	first, last := s.window.at(0), s.window.at(s.window.len()-1)
	j.Start, j.End = time.Unix(0, first.ts).UTC(), time.Unix(0, last.ts).UTC()
	j.FirstOffset, j.LastOffset = first.offset, last.offset
	need := s.effectNeeded()
	p, meanPerm, runs := s.permutationTest(obs, nbBlocks, need)
	j.Scores.ExpectedNCD, j.Scores.PValue, j.Scores.Confidence = meanPerm, p, 1-p
	j.Scores.Permutations = runs
	s.recordEffect(obs - meanPerm)
	j.Anomalous = obs-meanPerm >= need && j.Scores.Confidence >= s.cfg.Threshold
	if j.Anomalous {
		s.explain(j)
	}
	return j
}

// effectHistory is the number of past effects a stream keeps to calibrate
// what effect is large for it; minHistory must be seen before any anomaly.
const (
	effectHistory = 16
	minHistory    = 4
	// minRuns is the fewest permutations before the effect may stop a test.
	minRuns = 20
)

// effectNeeded returns the effect (NCD above its permutation mean) a
// window needs to matter: at least MinEffect and beyond the stream's own
// recent effects by three median absolute deviations, so that a stream
// whose content always churns (a window unlike the last one is its normal)
// is judged against its own churn. Before minHistory judgements it is
// +Inf: nothing is raised while the stream's churn is unknown.
func (s *Stream) effectNeeded() float64 {
	if len(s.effects) < minHistory {
		return math.Inf(1)
	}
	med, mad := medianMAD(s.effects, &s.sc.vals)
	return max(s.cfg.MinEffect, med+3*mad)
}

// recordEffect adds effect to the stream's recent effects.
func (s *Stream) recordEffect(effect float64) {
	h := s.effects
	if len(h) == effectHistory {
		h = append(h[:0], h[1:]...)
	}
	s.effects = append(h, effect)
}

// medianMAD returns the median and the median absolute deviation of xs.
func medianMAD(xs []float64, scratch *[]float64) (med, mad float64) {
	buf := append((*scratch)[:0], xs...)
	slices.Sort(buf)
	med = quantileSorted(buf, 0.5)
	for i, x := range xs {
		buf[i] = math.Abs(x - med)
	}
	slices.Sort(buf)
	mad = quantileSorted(buf, 0.5)
	*scratch = buf
	return med, mad
}

// makeBlocks splits baseline and window into blocks of BlockSize items and
// returns the number of baseline blocks.
func (s *Stream) makeBlocks() int {
	sc := s.sc
	nb, n, bs := s.base.len(), s.base.len()+s.window.len(), s.cfg.BlockSize
	sc.blocks = sc.blocks[:0]
	for i := 0; i < nb; i += bs {
		sc.blocks = append(sc.blocks, i)
	}
	nbBlocks := len(sc.blocks)
	for i := nb; i < n; i += bs {
		sc.blocks = append(sc.blocks, i)
	}
	return nbBlocks
}

// permutationTest compares the observed NCD with NCDs of random splits of
// the pooled baseline and window blocks into a baseline-sized and a
// window-sized part. It stops after StopAfter splits reached the observed
// NCD (Besag–Clifford), once the threshold can no longer be reached, or,
// after minRuns, once the effect is under half of need (the window cannot
// matter whatever the p-value), and
// returns p = (1 + #{permuted >= observed}) / (1 + permutations run) and the
// mean permuted NCD.
func (s *Stream) permutationTest(obs float64, nbBlocks int, need float64) (p, mean float64, runs int) {
	nwBlocks := len(s.sc.blocks) - nbBlocks
	rng := newDraws(uint64(s.cfg.Seed)^keyHash(s.key), uint64(s.seq)*0x9E3779B97F4A7C15+1)
	order := identity(nbBlocks + nwBlocks)
	maxK := (1-s.cfg.Threshold)*float64(1+s.cfg.Permutations) - 1
	k := 0
	var sum float64
	for runs < s.cfg.Permutations {
		v := s.permutedNCD(rng, order, nbBlocks, nwBlocks)
		runs++
		sum += v
		if v >= obs {
			k++
		}
		if k >= s.cfg.StopAfter || float64(k) > maxK {
			break
		}
		if runs >= minRuns && obs-sum/float64(runs) < need/2 {
			break
		}
	}
	return float64(1+k) / float64(1+runs), sum / float64(runs), runs
}

// permutedNCD draws nwBlocks of the pooled blocks as the window and returns
// the NCD of the two parts. (Sides are count tables, so the order of the
// drawn blocks does not matter.)
func (s *Stream) permutedNCD(rng *draws, order []int, nbBlocks, nwBlocks int) float64 {
	sc := s.sc
	total := nbBlocks + nwBlocks
	sc.ids = append(sc.ids[:0], order...)
	for i := total - 1; i >= total-nwBlocks; i-- {
		j := rng.intN(i + 1)
		sc.ids[i], sc.ids[j] = sc.ids[j], sc.ids[i]
	}
	cut := s.writeSides(nbBlocks)
	d, _, _ := s.ncd(sc.mix, cut)
	return d
}

func keyHash(key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return h.Sum64()
}

func ratio(raw, compressed int) float64 {
	if compressed == 0 {
		return 0
	}
	return float64(raw) / float64(compressed)
}

// byteEntropy returns the Shannon entropy of b's bytes in bits per byte.
func byteEntropy(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	var counts [256]int
	for _, c := range b {
		counts[c]++
	}
	var h float64
	n := float64(len(b))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

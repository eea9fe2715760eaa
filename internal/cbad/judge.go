package cbad

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/driftlock/driftlock/internal/event"
)

// scratch holds a stream's reusable judgement buffers.
type scratch struct {
	enc    []byte
	ends   []int // ends[i] is the end of pool item i in enc
	mix    []byte
	blocks []int // block starts (item indices) of baseline then window
	ids    []int
	q      [maxFeatures]quantizer
	vals   []float64
}

func (sc *scratch) sizeBytes() int {
	n := cap(sc.enc) + cap(sc.mix) + 8*(cap(sc.ends)+cap(sc.blocks)+cap(sc.ids)+cap(sc.vals))
	for i := range sc.q {
		n += 8 * (cap(sc.q[i].cuts) + cap(sc.q[i].scratch))
	}
	return n
}

// poolItem returns the i-th item of baseline then window.
func (s *Stream) poolItem(i int) *item {
	if i < s.base.n {
		return s.base.at(i)
	}
	return s.window.at(i - s.base.n)
}

// encode writes the symbols of baseline then window into sc.enc.
func (s *Stream) encode() {
	sc := &s.sc
	n := s.base.n + s.window.n
	sc.enc, sc.ends = sc.enc[:0], sc.ends[:0]
	if s.kind != event.TypeMetric {
		for i := 0; i < n; i++ {
			sc.enc = append(sc.enc, s.poolItem(i).line...)
			sc.enc = append(sc.enc, '\n')
			sc.ends = append(sc.ends, len(sc.enc))
		}
		return
	}
	nv := int(s.poolItem(n - 1).nv)
	for f := 0; f < nv; f++ {
		sc.vals = sc.vals[:0]
		for i := 0; i < n; i++ {
			sc.vals = append(sc.vals, s.poolItem(i).vals[f])
		}
		sc.q[f].fit(sc.vals, s.cfg.Levels)
	}
	prev := s.poolItem(0).vals[0]
	for i := 0; i < n; i++ {
		it := s.poolItem(i)
		sc.enc = append(sc.enc, sc.q[0].level(it.vals[0]), 200+sc.q[0].delta(it.vals[0]-prev))
		prev = it.vals[0]
		for f := 1; f < min(int(it.nv), nv); f++ {
			sc.enc = append(sc.enc, byte(70*f)+sc.q[f].level(it.vals[f]))
		}
		sc.ends = append(sc.ends, len(sc.enc))
	}
}

// itemStart returns where pool item i begins in sc.enc.
func (sc *scratch) itemStart(i int) int {
	if i == 0 {
		return 0
	}
	return sc.ends[i-1]
}

// ncd returns the normalised compression distance between buf[:cut] and
// buf[cut:], and the compressed sizes of both parts.
func (s *Stream) ncd(buf []byte, cut int) (d float64, cb, cw int) {
	cb, cw = s.comp.size(buf[:cut]), s.comp.size(buf[cut:])
	cbw := s.comp.size(buf)
	lo, hi := min(cb, cw), max(cb, cw)
	if hi == 0 {
		return 0, cb, cw
	}
	return float64(cbw-lo) / float64(hi), cb, cw
}

// judge measures the window against the baseline and tests significance.
func (s *Stream) judge() *Judgement {
	s.encode()
	sc := &s.sc
	nb := s.base.n
	cut := sc.ends[nb-1]
	obs, cb, cw := s.ncd(sc.enc, cut)
	p, meanPerm := s.permutationTest(obs)
	first, last := s.window.at(0), s.window.at(s.window.n-1)
	j := &Judgement{
		Seq:         s.seq,
		Start:       time.Unix(0, first.ts).UTC(),
		End:         time.Unix(0, last.ts).UTC(),
		Events:      s.window.n,
		FirstOffset: first.offset,
		LastOffset:  last.offset,
		Scores: Scores{
			NCD:             obs,
			ExpectedNCD:     meanPerm,
			PValue:          p,
			Confidence:      1 - p,
			BaselineRatio:   ratio(cut, cb),
			WindowRatio:     ratio(len(sc.enc)-cut, cw),
			BaselineEntropy: byteEntropy(sc.enc[:cut]),
			WindowEntropy:   byteEntropy(sc.enc[cut:]),
		},
	}
	j.Anomalous = j.Scores.Confidence >= s.cfg.Threshold && obs-meanPerm >= s.cfg.MinEffect
	if j.Anomalous {
		s.explain(j)
	}
	return j
}

// permutationTest compares the observed NCD with NCDs of random splits of
// the pooled baseline and window blocks into a baseline-sized and a
// window-sized part. It stops after StopAfter splits reached the observed
// NCD (Besag–Clifford) or once the threshold can no longer be reached, and
// returns p = (1 + #{permuted >= observed}) / (1 + permutations run) and the
// mean permuted NCD.
func (s *Stream) permutationTest(obs float64) (p, mean float64) {
	sc := &s.sc
	nb, n := s.base.n, s.base.n+s.window.n
	bs := s.cfg.BlockSize
	sc.blocks = sc.blocks[:0]
	for i := 0; i < nb; i += bs {
		sc.blocks = append(sc.blocks, i)
	}
	nbBlocks := len(sc.blocks)
	for i := nb; i < n; i += bs {
		sc.blocks = append(sc.blocks, i)
	}
	nwBlocks := len(sc.blocks) - nbBlocks
	rng := rand.New(rand.NewPCG(uint64(s.cfg.Seed)^keyHash(s.key), uint64(s.seq)*0x9E3779B97F4A7C15+1))
	maxK := (1-s.cfg.Threshold)*float64(1+s.cfg.Permutations) - 1
	k, runs := 0, 0
	var sum float64
	for runs < s.cfg.Permutations {
		v := s.permutedNCD(rng, nbBlocks, nwBlocks, nb)
		runs++
		sum += v
		if v >= obs {
			k++
		}
		if k >= s.cfg.StopAfter || float64(k) > maxK {
			break
		}
	}
	return float64(1+k) / float64(1+runs), sum / float64(runs)
}

// permutedNCD draws nwBlocks of the pooled blocks as the window, keeps both
// parts in time order and returns their NCD.
func (s *Stream) permutedNCD(rng *rand.Rand, nbBlocks, nwBlocks, nb int) float64 {
	sc := &s.sc
	total := nbBlocks + nwBlocks
	sc.ids = sc.ids[:0]
	for i := 0; i < total; i++ {
		sc.ids = append(sc.ids, i)
	}
	for i := total - 1; i >= total-nwBlocks; i-- {
		j := rng.IntN(i + 1)
		sc.ids[i], sc.ids[j] = sc.ids[j], sc.ids[i]
	}
	slices.Sort(sc.ids[:total-nwBlocks])
	slices.Sort(sc.ids[total-nwBlocks:])
	sc.mix = sc.mix[:0]
	cut := 0
	for i, id := range sc.ids {
		if i == total-nwBlocks {
			cut = len(sc.mix)
		}
		lo, hi := s.blockBytes(id, nbBlocks, nb)
		sc.mix = append(sc.mix, sc.enc[lo:hi]...)
	}
	d, _, _ := s.ncd(sc.mix, cut)
	return d
}

// blockBytes returns the byte range of block id in sc.enc.
func (s *Stream) blockBytes(id, nbBlocks, nb int) (lo, hi int) {
	sc := &s.sc
	startItem := sc.blocks[id]
	endItem := s.base.n + s.window.n
	if id+1 < len(sc.blocks) {
		endItem = sc.blocks[id+1]
	}
	if id == nbBlocks-1 {
		endItem = nb
	}
	return sc.itemStart(startItem), sc.ends[endItem-1]
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

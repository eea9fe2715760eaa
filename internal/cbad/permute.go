package cbad

import (
	"math/bits"
	"math/rand/v2"
	"sync"

	"github.com/driftlock/driftlock/internal/event"
)

// The cost savers of a judgement: compressed sizes cached by content, the
// starting order of the permutations, and the draws of the shuffle. None
// changes what a judgement computes.

// maxCachedBytes bounds the bytes of the sides whose compressed sizes one
// judgement keeps.
const maxCachedBytes = 8 << 20

// size returns the compressed size of b. The permutations of a judgement
// of a log or span stream often draw sides whose count tables are the same
// bytes (the classes are logarithmic; 90% of the bytes for a steady
// service), so their sizes are cached by content for the judgement: the
// result is what compressing b gives, only cheaper. A metric stream's
// tables repeat far less (6–12% of the bytes): copying each new one into
// the cache cost more than the compressions it saved, so they are not
// cached.
func (s *Stream) size(b []byte) int {
	sc := s.sc
	if s.kind == event.TypeMetric {
		return s.comp.size(b)
	}
	if n, ok := sc.sizes[string(b)]; ok {
		return n
	}
	n := s.comp.size(b)
	if sc.cached+len(b) <= maxCachedBytes {
		sc.sizes[string(b)] = n
		sc.cached += len(b)
	}
	return n
}

// identityInts holds 0, 1, 2, ... for all streams to copy from; it is
// replaced, never changed, when a longer one is needed.
var (
	identityMu   sync.Mutex
	identityInts []int
)

// identity returns 0, 1, ..., n-1, which the caller must not change.
func identity(n int) []int {
	identityMu.Lock()
	defer identityMu.Unlock()
	if len(identityInts) < n {
		ints := make([]int, n)
		for i := range ints {
			ints[i] = i
		}
		identityInts = ints
	}
	return identityInts[:n]
}

// draws is a rand.Rand over a PCG source whose IntN is computed here
// from the PCG itself, without the call through rand.Source: the same
// numbers (TestDrawsMatchRand), at less cost per draw.
type draws struct {
	pcg *rand.PCG
	r   *rand.Rand
}

func newDraws(seed1, seed2 uint64) *draws {
	pcg := rand.NewPCG(seed1, seed2)
	return &draws{pcg: pcg, r: rand.New(pcg)}
}

// is32bit is math/rand/v2's condition for drawing 32-bit numbers.
const is32bit = ^uint(0)>>32 == 0

// intN returns what rand.Rand.IntN(n) returns (see its uint64n).
func (d *draws) intN(n int) int {
	if is32bit || n <= 0 {
		return d.r.IntN(n)
	}
	un := uint64(n)
	if un&(un-1) == 0 {
		return int(d.pcg.Uint64() & (un - 1))
	}
	hi, lo := bits.Mul64(d.pcg.Uint64(), un)
	if lo < un {
		thresh := -un % un
		for lo < thresh {
			hi, lo = bits.Mul64(d.pcg.Uint64(), un)
		}
	}
	return int(hi)
}

package cbad

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/driftlock/driftlock/internal/event"
)

// maxSummary bounds an evidence summary in bytes.
const maxSummary = 160

// maxEvidence is the most evidence events of a judgement.
const maxEvidence = 10

// maxCandidates bounds the distinct lines whose conditional compressed size
// is measured for evidence.
const maxCandidates = 32

// explain fills the explanation and evidence of an anomalous judgement.
func (s *Stream) explain(j *Judgement) {
	var sentences []string
	if s.kind == event.TypeMetric {
		s.refresh()
		sentences = s.metricSentences()
		s.metricEvidence(j)
	} else {
		sentences = s.lineSentences()
		s.lineEvidence(j)
	}
	sentences = append(sentences, fmt.Sprintf(
		"The window compresses unlike its baseline (NCD %.3f, confidence %.3f).", j.Scores.NCD, j.Scores.Confidence))
	j.Explanation = strings.Join(sentences, " ")
}

// lineSentences describes new message shapes and severity shifts.
func (s *Stream) lineSentences() []string {
	var out []string
	novel, example := 0, ""
	var winSev, baseSev [numSev]int
	for i := 0; i < s.window.len(); i++ {
		it := s.window.at(i)
		winSev[it.sev]++
		if ls := s.lineTab[it.ref]; ls.base == 0 {
			novel++
			if example == "" {
				example = ls.line
			}
		}
	}
	for i := 0; i < s.base.len(); i++ {
		baseSev[s.base.at(i).sev]++
	}
	if novel > 0 {
		out = append(out, fmt.Sprintf("%d of %d %s in this window have a message shape not seen in the baseline, e.g. '%s'.",
			novel, s.window.len(), s.noun(), truncate(example, 120)))
	}
	for c := sevWarn; c < numSev; c++ {
		bw, ww := pct(baseSev[c], s.base.len()), pct(winSev[c], s.window.len())
		if ww > 2*bw && ww-bw >= 0.5 {
			out = append(out, fmt.Sprintf("%s lines rose from %.1f%% to %.1f%%.", sevNames[c], bw, ww))
		}
	}
	return out
}

func (s *Stream) noun() string {
	if s.kind == event.TypeSpan {
		return "spans"
	}
	return "log lines"
}

func pct(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return 100 * float64(k) / float64(n)
}

// lineEvidence scores the window's distinct canonical lines by their
// conditional compressed size given the baseline, per byte of the line;
// each line stands for its first event in the window.
func (s *Stream) lineEvidence(j *Judgement) {
	sc := s.sc
	nbBlocks := (s.base.len() + s.cfg.BlockSize - 1) / s.cfg.BlockSize
	sc.ids = sc.ids[:0]
	for i := range nbBlocks {
		sc.ids = append(sc.ids, i)
	}
	mix := s.writeSide(sc.mix[:0], sc.ids)
	cut := len(mix)
	cBase := s.comp.size(mix)
	type cand struct {
		line  uint32
		count int32
		first int
	}
	var cands []cand
	seen := make(map[uint32]bool)
	for i := 0; i < s.window.len(); i++ {
		l := s.window.at(i).ref
		if !seen[l] {
			seen[l] = true
			cands = append(cands, cand{l, s.lineTab[l].base, i})
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return int(a.count - b.count) })
	cands = cands[:min(len(cands), maxCandidates)]
	score := make(map[uint32]float64, len(cands))
	for _, c := range cands {
		line := s.lineText(c.line)
		mix = append(mix[:cut], line...)
		mix = append(mix, '\n')
		cond := s.comp.size(mix) - cBase
		score[c.line] = clamp01(float64(cond) / float64(len(line)+1))
	}
	sc.mix = mix
	lines := make([]scored, len(cands))
	for k, c := range cands {
		lines[k] = scored{c.first, score[c.line]}
	}
	slices.SortStableFunc(lines, func(a, b scored) int { return a.idx - b.idx })
	s.pickEvidence(j, lines, s.windowSummary)
}

// metricEvidence scores the window's events by their novelty against the
// baseline's distribution.
func (s *Stream) metricEvidence(j *Judgement) {
	all := make([]scored, 0, s.window.len())
	for i := 0; i < s.window.len(); i++ {
		all = append(all, scored{i, s.valueNovelty(s.window.at(i).v)})
	}
	s.pickEvidence(j, all, func(i int) string { return s.metricSummary(s.window.at(i)) })
}

// scored is a window event (its index) and its evidence score.
type scored struct {
	idx   int
	score float64
}

// pickEvidence keeps the highest-scoring of the window events all (in
// window order), at least half the top score, earliest first among equals;
// summary describes the i-th event of the window.
func (s *Stream) pickEvidence(j *Judgement, all []scored, summary func(i int) string) {
	slices.SortStableFunc(all, func(a, b scored) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	if len(all) == 0 || all[0].score <= 0 {
		return
	}
	floor := all[0].score / 2
	for _, e := range all[:min(len(all), maxEvidence)] {
		if e.score < floor {
			break
		}
		it := s.window.at(e.idx)
		j.Evidence = append(j.Evidence, Evidence{
			Offset:    it.offset,
			Timestamp: time.Unix(0, it.ts).UTC(),
			Summary:   summary(e.idx),
			Score:     e.score,
		})
	}
}

// summary describes the newest event it for people: a metric event by its
// value, a log record or span by sum, the summary made of it when it
// arrived.
func (s *Stream) summary(it *item, sum string) string {
	if s.kind == event.TypeMetric {
		return s.metricSummary(it)
	}
	return sum
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

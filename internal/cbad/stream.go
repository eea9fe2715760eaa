package cbad

import (
	"fmt"
	"math"
	"time"
	"unsafe"

	"github.com/driftlock/driftlock/internal/event"
)

// Stream is the scoring state of one stream: its current window, its
// baseline, and the events that left the window since the last judgement.
//
// Baseline policy: an event that leaves the window joins the baseline at the
// next judgement, unless it was part of a window judged anomalous. So an
// anomaly does not teach the baseline and stays visible for as long as it
// lasts, up to AdaptAfter consecutive anomalous judgements; after that the
// baseline takes every event in again and the lasting change becomes the new
// normal. A Stream is not safe for concurrent use; distinct Streams are.
type Stream struct {
	key  string
	cfg  Config
	comp compressor
	kind event.Type

	canon   *canonicalizer
	window  ring[item]
	base    ring[feats]
	pending []feats
	// lineIDs and lineTab intern canonical lines (see internLine): an id
	// per distinct line held, its stats at lineTab[id] (nil for a free id;
	// id 0 is never used). freeIDs are the free ids, the latest freed last.
	lineIDs map[string]uint32
	lineTab []*lineStat
	freeIDs []uint32
	// extra holds the further features of the metric events that have them
	// (see feats.ref); freeExtra is its free slots, the latest freed last.
	extra     [][maxFeatures - 1]float64
	freeExtra []uint32
	// pushed is the number of events pushed; the window's i-th event is
	// event pushed - window.len() + i.
	pushed int64
	// firsts holds, for each canonical line of the window's events, where
	// the line stands in the window (see windowLine).
	firsts map[uint32]windowLine

	sinceJudge int
	seq        int64
	anomRun    int
	sumPrev    float64
	sumHave    bool
	// dict holds recent distinct lines, newline-separated.
	dict []byte
	// seenTotal is the sum of the lines' seen counts.
	seenTotal float64
	// once is the number of lines whose seen count is 1.
	once float64
	// sevSeen counts the records of each severity class (long memory, like
	// the lines'), sevTotal their sum.
	sevSeen  [numSev]float64
	sevTotal float64
	// effects are the effects of the latest judgements, oldest first.
	effects []float64

	ref    refStats
	hist   valueHistory
	onset  onsetState
	ctx    contextModel
	season seasonModel
	// sc is the judgement's buffers while it runs (see scratchPool).
	sc *scratch
}

// lineStat is an interned canonical line and its counts in the baseline
// (base) and in the window and pending events (live).
type lineStat struct {
	line       string
	base, live int32
	// seen is the line's long-memory count (see Config.Memory).
	seen float64
}

// NewStream returns the empty state of the stream named key.
func NewStream(key string, cfg Config) (*Stream, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new stream %q: %w", key, err)
	}
	return &Stream{
		key:     key,
		cfg:     cfg,
		comp:    newCompressor(cfg.Compressor),
		canon:   newCanonicalizer(cfg.MaxAttrValues),
		window:  newRing[item](cfg.WindowSize),
		base:    newRing[feats](cfg.baselineSize()),
		lineIDs: make(map[string]uint32),
		hist:    newValueHistory(cfg.WindowSize + cfg.baselineSize()),
	}, nil
}

// Key returns the stream key.
func (s *Stream) Key() string { return s.key }

// Push adds the event at the given offset to the stream. Every event is
// scored and may raise an event anomaly (see decideEvent); every HopSize
// events, once the window and the baseline are full, the result also
// carries a judgement of the window. Bad events are rejected with an error
// and leave the stream unchanged.
func (s *Stream) Push(ev event.Decoded, offset int64) (Result, error) {
	it, sum, err := s.itemOf(ev, offset)
	if err != nil {
		return Result{}, fmt.Errorf("stream %q offset %d: %w", s.key, offset, err)
	}
	res := Result{Score: s.eventScore(&it)}
	if old, evicted := s.window.push(it); evicted {
		s.leaveWindow(&old)
		s.pending = append(s.pending, old.feats)
	}
	s.pushed++
	if it.nv == 0 {
		s.enterWindow(it.ref, sum)
	}
	if closing, opening := s.decideEvent(res.Score, sum); closing != nil || opening != nil {
		res.Events = appendNonNil(res.Events, closing, opening)
	}
	s.sinceJudge++
	if !s.base.full() {
		s.commitPending(true)
		return res, nil
	}
	if !s.window.full() || s.sinceJudge < s.cfg.HopSize {
		return res, nil
	}
	j := s.judge()
	s.sinceJudge = 0
	s.seq++
	if j.Anomalous {
		s.anomRun++
		for i := 0; i < s.window.len(); i++ {
			s.window.at(i).flagged = true
		}
		j.Incident = s.joinIncident(j.FirstOffset, j.LastOffset)
	} else {
		s.anomRun = 0
	}
	s.commitPending(s.anomRun >= s.cfg.AdaptAfter)
	res.Judgement = j
	return res, nil
}

// commitPending moves the events that left the window into the baseline,
// dropping those seen in an anomalous window unless all is set.
func (s *Stream) commitPending(all bool) {
	if len(s.pending) == 0 {
		return
	}
	for i := range s.pending {
		it := s.pending[i]
		if it.nv == 0 {
			s.lineTab[it.ref].live--
		}
		if it.flagged && !all {
			s.drop(&it)
			continue
		}
		it.flagged = false
		if it.nv == 0 {
			s.lineTab[it.ref].base++
		}
		if old, evicted := s.base.push(it); evicted {
			if old.nv == 0 {
				s.lineTab[old.ref].base--
			}
			s.drop(&old)
		}
	}
	s.pending = s.pending[:0]
	s.ref.stale = true
}

// SizeBytes approximates the memory the stream retains: its events, line
// table, kept summaries and models (not the judgement buffers, which
// streams share).
func (s *Stream) SizeBytes() int {
	n := int(unsafe.Sizeof(*s)) + len(s.key) + cap(s.dict) + 8*cap(s.effects)
	n += s.window.sizeBytes() + s.base.sizeBytes() + cap(s.pending)*int(unsafe.Sizeof(feats{}))
	n += s.linesSize() + s.firstsSize() + 8*(maxFeatures-1)*cap(s.extra) + 4*cap(s.freeExtra)
	n += s.onset.sizeBytes()
	n += s.ctx.sizeBytes()
	n += s.hist.sizeBytes()
	n += s.season.sizeBytes()
	return n + s.canon.sizeBytes() + s.ref.sizeBytes()
}

// sizeBytes approximates the memory the onset state retains beyond itself.
func (o *onsetState) sizeBytes() int {
	n := 16*cap(o.shapes) + evidenceSize(o.burst)
	if m := o.recent; m != nil {
		n += int(unsafe.Sizeof(*m)) + 8*(cap(m.vals)+cap(m.idx))
	}
	if t := o.trigger; t != nil {
		n += int(unsafe.Sizeof(*t)) + len(t.Explanation) + evidenceSize(t.Evidence) + cap(t.Series)*int(unsafe.Sizeof(Point{}))
	}
	return n
}

func evidenceSize(ev []Evidence) int {
	n := cap(ev) * int(unsafe.Sizeof(Evidence{}))
	for _, e := range ev {
		n += len(e.Summary)
	}
	return n
}

// itemOf turns a decoded event into an item and, for a log record or span,
// a short human description of it (see summary).
func (s *Stream) itemOf(ev event.Decoded, offset int64) (it item, sum string, err error) {
	if s.kind == "" {
		s.kind = ev.Type
	} else if ev.Type != s.kind {
		return item{}, "", fmt.Errorf("stream holds %s events, got a %s event", s.kind, ev.Type)
	}
	it = item{offset: offset, ts: ev.Time.UnixNano()}
	switch {
	case ev.Type == event.TypeLog && ev.Log != nil:
		sum = s.logItem(ev.Log, &it)
	case ev.Type == event.TypeSpan && ev.Span != nil:
		sum = s.spanItem(ev.Span, &it)
	case ev.Type == event.TypeMetric && ev.Metric != nil:
		err = s.metricItem(ev.Metric, &it)
	default:
		err = fmt.Errorf("%s event without its data", ev.Type)
	}
	return it, sum, err
}

func (s *Stream) logItem(d *event.LogData, it *item) string {
	sev := severityName(d.Severity, d.SeverityNumber)
	body := bodyText(d.Body)
	it.sev = sevClass(sev, d.SeverityNumber)
	it.ref = s.internLine(s.canon.log(sev, body, d.Attributes))
	return truncate(sev+" "+body, maxSummary)
}

func (s *Stream) spanItem(d *event.SpanData, it *item) string {
	it.ref = s.internLine(s.canon.span(d.Name, d.Kind, d.StatusCode, d.DurationNanos, d.Attributes))
	if d.StatusCode == "STATUS_CODE_ERROR" || d.StatusCode == "Error" || d.StatusCode == "ERROR" {
		it.sev = sevError
	}
	return truncate(fmt.Sprintf("span %s %s %s %s", d.Name, d.Kind, d.StatusCode,
		time.Duration(d.DurationNanos)), maxSummary)
}

func (s *Stream) metricItem(d *event.MetricData, it *item) error {
	vals, n, err := metricFeatures(d, &s.sumPrev, &s.sumHave)
	if err != nil {
		return err
	}
	for _, v := range vals[:n] {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("metric %q: value %v is not finite", d.Name, v)
		}
	}
	it.v, it.nv = vals[0], uint8(n)
	if n > 1 {
		it.ref = s.newExtra([maxFeatures - 1]float64(vals[1:]))
	}
	return nil
}

func appendNonNil(dst []*EventAnomaly, eas ...*EventAnomaly) []*EventAnomaly {
	for _, ea := range eas {
		if ea != nil {
			dst = append(dst, ea)
		}
	}
	return dst
}

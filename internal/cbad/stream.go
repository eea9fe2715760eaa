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
	window  ring
	base    ring
	pending []item
	// lines interns canonical lines and counts them in the baseline (base)
	// and in the window and pending events (live).
	lines map[string]*lineStat

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
		key:    key,
		cfg:    cfg,
		comp:   newCompressor(cfg.Compressor),
		canon:  newCanonicalizer(cfg.MaxAttrValues),
		window: newRing(cfg.WindowSize),
		base:   newRing(cfg.baselineSize()),
		lines:  make(map[string]*lineStat),
		hist:   newValueHistory(cfg.WindowSize + cfg.baselineSize()),
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
	it, err := s.itemOf(ev, offset)
	if err != nil {
		return Result{}, fmt.Errorf("stream %q offset %d: %w", s.key, offset, err)
	}
	res := Result{Score: s.eventScore(&it)}
	if old, evicted := s.window.push(it); evicted {
		s.pending = append(s.pending, old)
	}
	if closing, opening := s.decideEvent(res.Score); closing != nil || opening != nil {
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
		for i := 0; i < s.window.n; i++ {
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
		s.pending[i] = item{}
		if it.line != "" {
			s.lines[it.line].live--
		}
		if it.flagged && !all {
			s.release(it.line)
			continue
		}
		it.summary, it.flagged = "", false
		if it.line != "" {
			s.lines[it.line].base++
		}
		if old, evicted := s.base.push(it); evicted && old.line != "" {
			s.lines[old.line].base--
			s.release(old.line)
		}
	}
	s.pending = s.pending[:0]
	s.ref.stale = true
}

// release forgets an interned line no event holds and the long memory has
// forgotten.
func (s *Stream) release(line string) {
	if line == "" {
		return
	}
	if ls := s.lines[line]; ls.base <= 0 && ls.live <= 0 && ls.seen < 0.5 {
		delete(s.lines, line)
	}
}

// internLine returns the shared copy of a canonical line and counts it live.
func (s *Stream) internLine(b []byte) string {
	if ls, ok := s.lines[string(b)]; ok {
		ls.live++
		return ls.line
	}
	line := string(b)
	s.lines[line] = &lineStat{line: line, live: 1}
	return line
}

// SizeBytes approximates the memory the stream retains.
func (s *Stream) SizeBytes() int {
	n := int(unsafe.Sizeof(*s)) + len(s.key) + cap(s.dict)
	n += s.window.sizeBytes() + s.base.sizeBytes() + cap(s.pending)*int(unsafe.Sizeof(item{}))
	for line := range s.lines {
		n += len(line) + 48
	}
	n += s.ctx.sizeBytes()
	n += s.hist.sizeBytes()
	n += s.season.sizeBytes()
	return n + s.canon.sizeBytes() + s.ref.sizeBytes()
}

// itemOf turns a decoded event into an item.
func (s *Stream) itemOf(ev event.Decoded, offset int64) (item, error) {
	if s.kind == "" {
		s.kind = ev.Type
	} else if ev.Type != s.kind {
		return item{}, fmt.Errorf("stream holds %s events, got a %s event", s.kind, ev.Type)
	}
	it := item{offset: offset, ts: ev.Time.UnixNano()}
	switch {
	case ev.Type == event.TypeLog && ev.Log != nil:
		s.logItem(ev.Log, &it)
	case ev.Type == event.TypeSpan && ev.Span != nil:
		s.spanItem(ev.Span, &it)
	case ev.Type == event.TypeMetric && ev.Metric != nil:
		return it, s.metricItem(ev.Metric, &it)
	default:
		return it, fmt.Errorf("%s event without its data", ev.Type)
	}
	return it, nil
}

func (s *Stream) logItem(d *event.LogData, it *item) {
	sev := severityName(d.Severity, d.SeverityNumber)
	body := bodyText(d.Body)
	it.sev = sevClass(sev, d.SeverityNumber)
	it.line = s.internLine(s.canon.log(sev, body, d.Attributes))
	it.summary = truncate(sev+" "+body, maxSummary)
}

func (s *Stream) spanItem(d *event.SpanData, it *item) {
	it.line = s.internLine(s.canon.span(d.Name, d.Kind, d.StatusCode, d.DurationNanos, d.Attributes))
	if d.StatusCode == "STATUS_CODE_ERROR" || d.StatusCode == "Error" || d.StatusCode == "ERROR" {
		it.sev = sevError
	}
	it.summary = truncate(fmt.Sprintf("span %s %s %s %s", d.Name, d.Kind, d.StatusCode,
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
	it.vals, it.nv = vals, uint8(n)
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

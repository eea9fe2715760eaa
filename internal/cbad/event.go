package cbad

import (
	"fmt"
	"slices"
	"time"

	"github.com/driftlock/driftlock/internal/event"
)

// EventAnomaly is an event, or the onset of a burst or shift, that the
// stream's per-event scores raised.
type EventAnomaly struct {
	// Offset and Timestamp are the triggering event's.
	Offset    int64
	Timestamp time.Time
	// Start, End, FirstOffset and Events describe the span the decision
	// looked at: the latest HopSize events, ending at the triggering one
	// (for a closing record: the incident, from the trigger to its last
	// elevated event).
	Start, End  time.Time
	FirstOffset int64
	Events      int
	// Score is the triggering event's score in [0, 1]; Confidence is the
	// same score (the event anomaly's counterpart of 1 - p-value).
	Score, Confidence float64
	// Incident is the offset of the first event of the incident the
	// anomaly belongs to.
	Incident int64
	// Explanation is sentences a person can act on.
	Explanation string
	// Evidence starts at the triggering event.
	Evidence []Evidence
	// Series is a metric stream's latest values up to the triggering
	// event (at most maxSeries), the triggering one marked.
	Series []Point
	// Closing is set on the record that closes an incident of more than
	// one elevated event (an event scoring at least EventThreshold): its
	// span starts at the triggering event, and its evidence lists the
	// incident's elevated events in order (at most maxIncidentEvidence).
	Closing bool
}

// Point is one value of a metric stream's series.
type Point struct {
	Offset    int64
	Timestamp time.Time
	Value     float64
	Anomalous bool
}

// maxSeries bounds the values an event anomaly carries for a chart.
const maxSeries = 256

// maxIncidentEvidence bounds the elevated events a closing record lists.
const maxIncidentEvidence = 32

// onsetRatio is how much rarer than the recent events the triggering event
// must be: its tail (1 - score) at most onsetRatio times the smallest tail
// of the previous HopSize events, so that an anomaly marks where a change
// starts rather than every event of it.
const onsetRatio = 0.9

// onsetState is the stream state behind event anomalies: how many events
// it has seen, the largest score of the latest HopSize events, and the
// stream's current incident. It depends only on the stream's events, so
// replays decide alike.
type onsetState struct {
	events int64
	recent *slidingMax
	// incident is the offset of the latest incident's first event, until
	// the offset of its latest elevated event or anomalous window; known
	// is false before the stream's first incident, open while an event
	// anomaly's incident takes in elevated events.
	incident, until int64
	known, open     bool
	// trigger is the event anomaly that opened the incident (nil when a
	// window opened it); burst its elevated events, at most
	// maxIncidentEvidence, and elevated how many there were.
	trigger  *EventAnomaly
	burst    []Evidence
	elevated int
	// triggerLine and triggerSev are the canonical line and severity class
	// of the log line or span that opened the incident; shapes the distinct
	// canonical lines of its elevated events (at most maxIncidentEvidence).
	triggerLine string
	triggerSev  uint8
	shapes      []string
	// firstEvents and lastEvents are events when the trigger and the
	// latest elevated event came, lastTS the latter's time.
	firstEvents, lastEvents int64
	lastTS                  time.Time
	// reason is which score of a metric event was the largest; lineNew
	// whether a log line's shape was never seen (both of the latest event).
	reason  uint8
	lineNew bool
	// sevRise is set when a log line scored by the rarity of its severity.
	sevRise bool
	// lineBits is the latest log line's surprisal, usualBits the 99th
	// percentile of the surprisals of the usualN lines before it that it
	// was measured against.
	lineBits, usualBits float64
	usualN              int
}

// Which score of a metric event was the largest.
const (
	reasonValue uint8 = iota
	reasonSeason
	reasonContext
)

// decideEvent applies the onset rule to the event just pushed (the
// window's newest item) with score x, and returns an event anomaly when it
// fires. An event fires when the stream is warm (EventWarmup events
// seen), its score reaches EventThreshold and is clearly beyond every
// score of the previous HopSize events (for a metric with a daily cycle,
// of the previous day and a quarter, so that what recurs every day, such
// as a nightly job's spike, is not raised each day; the quarter allows for
// a cycle's events not being exactly a day apart); it then closes the current
// incident, if any, and opens its own. Other elevated log lines and spans
// within the current incident's span extend it; an incident closes once
// HopSize events pass without one.
//
// sum is the summary of the event (see summary).
func (s *Stream) decideEvent(x float64, sum string) (closing, opening *EventAnomaly) {
	o := &s.onset
	if o.recent == nil {
		o.recent = newSlidingMax(s.cfg.HopSize)
	}
	if p := s.season.period; p > 0 {
		// A metric with a daily cycle: what recurs every day is not news.
		o.recent.n = max(o.recent.n, p+p/4)
	}
	prev, ok := o.recent.max()
	o.events++
	if o.events > int64(s.cfg.EventWarmup) {
		// Scores of a stream's first events, measured against almost no
		// history, say nothing about its later ones.
		o.recent.push(x)
	}
	it := s.window.at(s.window.len() - 1)
	span := min(s.window.len(), s.cfg.HopSize)
	first := s.window.at(s.window.len() - span)
	fires := o.events > int64(s.cfg.EventWarmup) && x >= s.cfg.EventThreshold && (!ok || 1-x <= onsetRatio*(1-prev))
	// A stronger onset of a log line or span ends the current incident and
	// opens its own, unless its shape is already one of the incident's (the
	// second line of a new shape is rarer than its first, yet the same
	// burst); a metric incident holds its HopSize events.
	if o.open && (first.offset > o.until || (fires && s.kind != event.TypeMetric && !o.hasShape(s.lineName(it)))) {
		closing = s.closeIncident()
	}
	if o.open {
		// A log line or span at the threshold, or like the one that opened
		// the incident, extends it; a metric incident lasts the HopSize
		// events after its onset (a shifted level stays beyond the range
		// of the latest values for a while, and is the same change).
		if s.kind != event.TypeMetric && (x >= s.cfg.EventThreshold || o.likeTrigger(s.lineName(it), it.sev)) {
			s.extendIncident(it, x, sum)
		}
		return closing, nil
	}
	if !fires {
		return closing, nil
	}
	ea := &EventAnomaly{
		Offset: it.offset, Timestamp: time.Unix(0, it.ts).UTC(),
		Start: time.Unix(0, first.ts).UTC(), End: time.Unix(0, it.ts).UTC(), FirstOffset: first.offset, Events: span,
		Score: x, Confidence: x, Incident: it.offset,
	}
	ea.Evidence = []Evidence{{Offset: it.offset, Timestamp: ea.Timestamp, Summary: s.summary(it, sum), Score: x}}
	ea.Explanation = s.explainEvent(it, x, prev, sum)
	if s.kind == event.TypeMetric {
		ea.Series = s.series(maxSeries)
	}
	// The incident keeps the opening record without its chart, which the
	// closing record does not carry.
	trigger := *ea
	trigger.Series = nil
	*o = onsetState{events: o.events, recent: o.recent, incident: it.offset, known: true, open: true, trigger: &trigger,
		firstEvents: o.events, triggerLine: s.lineName(it), triggerSev: it.sev}
	s.extendIncident(it, x, sum)
	return closing, ea
}

// likeTrigger reports whether a log line or span of canonical line line and
// severity class sev is like the one that opened the incident: the same
// message shape, or the same severity at WARN or above. Such lines stop
// scoring high once the burst has shown a few of them, yet they are the
// burst going on.
func (o *onsetState) likeTrigger(line string, sev uint8) bool {
	if o.trigger == nil {
		return false
	}
	return line == o.triggerLine || (sev >= sevWarn && sev == o.triggerSev)
}

// hasShape reports whether line is the shape of one of the current
// incident's elevated events.
func (o *onsetState) hasShape(line string) bool {
	return line != "" && slices.Contains(o.shapes, line)
}

// extendIncident counts the elevated event it, of score x and summary sum,
// into the current incident.
func (s *Stream) extendIncident(it *item, x float64, sum string) {
	o := &s.onset
	o.until, o.lastEvents, o.lastTS = max(o.until, it.offset), o.events, time.Unix(0, it.ts).UTC()
	o.elevated++
	if line := s.lineName(it); line != "" && len(o.shapes) < maxIncidentEvidence && !o.hasShape(line) {
		o.shapes = append(o.shapes, line)
	}
	if o.trigger != nil && len(o.burst) < maxIncidentEvidence {
		o.burst = append(o.burst, Evidence{Offset: it.offset, Timestamp: time.Unix(0, it.ts).UTC(), Summary: s.summary(it, sum), Score: x})
	}
}

// closeIncident ends the current incident. When an event anomaly opened
// it and more elevated events followed, it returns the closing record:
// how long the incident lasted and its elevated events in order.
func (s *Stream) closeIncident() *EventAnomaly {
	o := &s.onset
	o.open = false
	t := o.trigger
	if t == nil || o.elevated < 2 {
		return nil
	}
	c := &EventAnomaly{
		Offset: t.Offset, Timestamp: t.Timestamp, Start: t.Timestamp, End: o.lastTS, FirstOffset: t.Offset,
		Events: int(o.lastEvents - o.firstEvents + 1), Score: t.Score, Confidence: t.Confidence,
		Incident: o.incident, Evidence: o.burst, Closing: true,
	}
	c.Explanation = fmt.Sprintf("The incident that began with: %s It lasted %d of the stream's events and %s, %d of them unusual; the first %d are listed in order.",
		t.Explanation, c.Events, o.lastTS.Sub(t.Timestamp), o.elevated, len(o.burst))
	o.trigger, o.burst = nil, nil
	return c
}

// joinIncident returns the incident an anomalous window [first, last]
// belongs to: the latest one, open or closed, when the window overlaps its
// span, else a new one starting at first. A window does not open an
// incident for event anomalies: events after it still raise their own.
func (s *Stream) joinIncident(first, last int64) int64 {
	o := &s.onset
	if !o.known || first > o.until {
		*o = onsetState{events: o.events, recent: o.recent, incident: first, known: true}
	}
	o.until = max(o.until, last)
	return o.incident
}

// series returns the latest n values of the window, the newest marked.
func (s *Stream) series(n int) []Point {
	n = min(n, s.window.len())
	out := make([]Point, 0, n)
	for i := s.window.len() - n; i < s.window.len(); i++ {
		it := s.window.at(i)
		out = append(out, Point{Offset: it.offset, Timestamp: time.Unix(0, it.ts).UTC(), Value: it.v})
	}
	out[len(out)-1].Anomalous = true
	return out
}

// explainEvent says why the event at it, of score x and summary sum, was
// raised when the previous events scored at most prev.
func (s *Stream) explainEvent(it *item, x, prev float64, sum string) string {
	var what string
	switch {
	case s.kind == event.TypeMetric:
		what = s.explainValue(it)
	case s.onset.sevRise:
		what = fmt.Sprintf("A %s at a severity this stream rarely logs: '%s'.", s.nounOne(), truncate(sum, 120))
	case s.onset.lineNew:
		what = fmt.Sprintf("A %s of a shape this stream has not shown before: '%s'.", s.nounOne(), truncate(sum, 120))
	default:
		what = fmt.Sprintf("A %s of a shape this stream rarely shows: '%s'.", s.nounOne(), truncate(sum, 120))
	}
	if s.kind != event.TypeMetric && !s.onset.sevRise {
		what += fmt.Sprintf(" Its surprisal is %.1f bits; 99%% of the stream's latest %d %ss had at most %.1f.",
			s.onset.lineBits, s.onset.usualN, s.nounOne(), s.onset.usualBits)
	}
	n := min(s.onset.recent.n, s.onset.recent.seen-1)
	if n <= 0 {
		return what + fmt.Sprintf(" Its score %.3f is the first the stream scored after its warm-up of %d events.", x, s.cfg.EventWarmup)
	}
	return what + fmt.Sprintf(" Its score %.3f is beyond every score of the stream's previous %d events (at most %.3f); later events like it belong to the same incident.",
		x, n, prev)
}

func (s *Stream) nounOne() string {
	if s.kind == event.TypeSpan {
		return "span"
	}
	return "log line"
}

// explainValue describes a metric value against the stream's recent values.
func (s *Stream) explainValue(it *item) string {
	v := it.v
	name := s.metricName()
	lo, hi, _ := s.hist.rangeOf()
	switch s.onset.reason {
	case reasonSeason:
		return fmt.Sprintf("%s = %s departs from its usual value at this time of day.", name, formatValue(v))
	case reasonContext:
		return fmt.Sprintf("%s = %s ends a sequence of values unlike the stream's usual pattern (within its range %s to %s).",
			name, formatValue(v), formatValue(lo), formatValue(hi))
	}
	return fmt.Sprintf("%s = %s lies outside its range over the latest %d values (%s to %s, 1st to 99th percentile).",
		name, formatValue(v), s.hist.n(), formatValue(lo), formatValue(hi))
}

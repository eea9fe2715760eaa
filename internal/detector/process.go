package detector

import (
	"fmt"
	"time"

	"github.com/driftlock/driftlock/internal/anomaly"
	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/event"
)

// Processor is the detector's work on one partition of otlp-events,
// everything but Kafka: the partition's stream table, the scoring core's
// decisions and the anomaly records they become. The service runs one per
// assigned partition and `driftlock eval` pushes labelled data through the
// same code, so what eval measures is what the service publishes.
type Processor struct {
	partition int
	streams   *streamTable
	records   recordBuilder
}

// Output is what pushing one event yields.
type Output struct {
	// Score is the event's own anomaly score in [0, 1].
	Score float64
	// Judged is set when the event completed a window judgement.
	Judged bool
	// Anomalies are the records to publish, in order.
	Anomalies []anomaly.Anomaly
	// Created is set when the event started a new stream, Evicted when that
	// dropped the least recently seen one (detector.max_streams).
	Created, Evicted bool
}

// NewProcessor returns the processor of partition p under the detector
// settings d; records name the detector build version and are stamped
// detected_at by clock.
func NewProcessor(d config.Detector, p int, version string, clock func() time.Time) (*Processor, error) {
	scoring := d.Scoring()
	if err := scoring.Validate(); err != nil {
		return nil, fmt.Errorf("detector scoring settings: %w", err)
	}
	return newProcessor(p, newStreamTable(d.MaxStreams, scoring, newCBADScorer), newRecordBuilder(d, version, clock)), nil
}

func newProcessor(p int, streams *streamTable, b recordBuilder) *Processor {
	return &Processor{partition: p, streams: streams, records: b}
}

// Push scores the event at offset of the stream named key. The event's data
// is decoded once, here, and the scoring core takes the decoded event.
func (p *Processor) Push(key string, ev event.Event, offset int64) (Output, error) {
	service, signal, metric, err := event.ParseStreamKey(key)
	if err != nil {
		return Output{}, err
	}
	d, err := event.DecodeData(ev)
	if err != nil {
		return Output{}, err
	}
	return p.push(streamID{key: key, service: service, signal: signal, metric: metric}, d, offset)
}

// push scores the decoded event d at offset of stream id.
func (p *Processor) push(id streamID, d event.Decoded, offset int64) (Output, error) {
	held := p.streams.len()
	st, evicted, err := p.streams.get(id)
	if err != nil {
		return Output{}, err
	}
	out := Output{Created: p.streams.len() > held || evicted, Evicted: evicted}
	res, err := st.scorer.Push(d, offset)
	if err != nil {
		return out, err
	}
	out.Score, out.Judged = res.Score, res.Judgement != nil
	for _, ea := range res.Events {
		out.Anomalies = append(out.Anomalies, p.records.event(id, p.partition, offset, ea))
	}
	if j := res.Judgement; j != nil && j.Anomalous {
		out.Anomalies = append(out.Anomalies, p.records.window(id, p.partition, j))
	}
	return out, nil
}

// Streams is the number of streams held.
func (p *Processor) Streams() int { return p.streams.len() }

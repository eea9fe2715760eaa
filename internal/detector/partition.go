package detector

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/cbad"
)

// partitionState is everything the detector knows about one partition of
// the events topic: the streams' windows after the records before next.
// It is a pure function of the partition's records [first retained, next).
type partitionState struct {
	partition int
	streams   *streamTable
	next      int64 // offset of the next record to process; -1 before the first
}

// runner processes one assigned partition for one generation.
type runner struct {
	s        *Service
	st       *partitionState
	liveFrom int64 // records before it are replayed, not published
	skip     idSet // ids already on the anomalies topic
	track    *tracker
	pub      *publisher
	label    string
	logged   map[string]bool // invalid reasons already logged
	// committed is the last offset committed; guarded by generation.mu.
	committed int64
}

// loop reads the partition from the state's next offset (or its first
// retained offset) until ctx ends, handing each record to handle.
func (r *runner) loop(ctx context.Context) error {
	start := r.st.next
	if start < 0 {
		start = kafka.FirstOffset
	}
	rd := r.s.newPartitionReader(r.st.partition)
	defer rd.Close()
	if err := rd.SetOffset(start); err != nil {
		return err
	}
	for {
		msg, err := rd.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.s.log.Warn("fetch failed; retrying", "partition", r.st.partition, "error", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
			continue
		}
		if err := r.handle(ctx, msg); err != nil {
			return nil // ctx ended while the publish queue was full
		}
	}
}

// handle scores one record and queues what it yields.
func (r *runner) handle(ctx context.Context, msg kafka.Message) error {
	m := r.s.metrics
	live := msg.Offset >= r.liveFrom
	if !live {
		m.replayed.Inc()
	}
	if msg.HighWaterMark > 0 {
		m.lag.WithLabelValues(r.label).Set(float64(msg.HighWaterMark - msg.Offset - 1))
	}
	defer func() { r.st.next = msg.Offset + 1; r.track.processed(msg.Offset) }()
	ev, id, err := decodeRecord(msg)
	if err != nil {
		return r.invalid(ctx, msg, err, live)
	}
	st, err := r.stream(id, live)
	if err != nil {
		return r.invalid(ctx, msg, &invalidError{reason: reasonRejected, err: err}, live)
	}
	began := time.Now()
	res, err := st.scorer.Push(ev, msg.Offset)
	if err != nil {
		return r.invalid(ctx, msg, &invalidError{reason: reasonRejected, err: err}, live)
	}
	if !live {
		return nil
	}
	m.events.WithLabelValues(string(id.signal)).Inc()
	if res.Judgement == nil {
		return nil
	}
	m.judgements.Inc()
	m.judgementDuration.Observe(time.Since(began).Seconds())
	if !res.Judgement.Anomalous {
		return nil
	}
	return r.anomalous(ctx, msg.Offset, id, res.Judgement)
}

// stream returns the stream of id, counting streams created and evicted.
func (r *runner) stream(id streamID, live bool) (*stream, error) {
	held := r.st.streams.len()
	st, evicted, err := r.st.streams.get(id)
	if err != nil {
		return nil, err
	}
	r.s.metrics.streams.Add(float64(r.st.streams.len() - held))
	if evicted && live {
		r.s.metrics.evictions.Inc()
	}
	return st, nil
}

// anomalous publishes the anomaly of judgement j unless it is already on
// the anomalies topic.
func (r *runner) anomalous(ctx context.Context, offset int64, id streamID, j *cbad.Judgement) error {
	a := r.s.buildAnomaly(id, r.st.partition, j)
	if _, dup := r.skip[a.ID]; dup {
		r.s.metrics.suppressed.Inc()
		return nil
	}
	value, err := json.Marshal(a)
	if err != nil {
		r.s.log.Error("cannot encode anomaly; dropped", "stream", id.key, "partition", r.st.partition,
			"last_offset", j.LastOffset, "error", err)
		return nil
	}
	r.s.metrics.anomalies.WithLabelValues(string(id.signal)).Inc()
	msg := kafka.Message{Key: []byte(id.key), Value: value, Headers: anomalyHeaders(id)}
	return r.pub.enqueue(ctx, offset, outgoing{msg: msg})
}

// invalid counts, logs (once per reason and partition) and dead-letters a
// record that cannot be scored. Replayed records were handled by the
// partition's previous owner and are only skipped.
func (r *runner) invalid(ctx context.Context, msg kafka.Message, err error, live bool) error {
	if !live {
		return nil
	}
	reason := reasonBadData
	var ie *invalidError
	if errors.As(err, &ie) {
		reason = ie.reason
	}
	r.s.metrics.invalid.WithLabelValues(reason).Inc()
	if !r.logged[reason] {
		r.logged[reason] = true
		r.s.log.Warn("skipping invalid record (logged once per reason and partition)", "reason", reason,
			"partition", msg.Partition, "offset", msg.Offset, "error", err)
	}
	if r.s.cfg.Kafka.DeadLetterTopic == "" {
		return nil
	}
	return r.pub.enqueue(ctx, msg.Offset, outgoing{dead: true, msg: deadLetter(msg, reason, err)})
}

func anomalyHeaders(id streamID) []kafka.Header {
	return []kafka.Header{
		{Key: "content-type", Value: []byte("application/json")},
		{Key: "service.name", Value: []byte(id.service)},
		{Key: "driftlock-signal", Value: []byte(id.signal)},
	}
}

func partitionLabel(p int) string { return strconv.Itoa(p) }

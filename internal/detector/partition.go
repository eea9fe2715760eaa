package detector

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/anomaly"
	"github.com/driftlock/driftlock/internal/event"
)

// partitionState is everything the detector knows about one partition of
// the events topic: the streams' windows after the records before next.
// It is a pure function of the partition's records [first retained, next).
type partitionState struct {
	partition int
	proc      *Processor
	next      int64 // offset of the next record to process; -1 before the first
	// ck writes the partition's checkpoints; nil when they are off.
	ck *checkpointer
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
	// loggedEviction is set once an eviction was logged.
	loggedEviction bool
	// lag and events are the partition's lag gauge and its events counter
	// of each signal, looked up once rather than per record.
	lag    prometheus.Gauge
	events map[event.Type]prometheus.Counter
	// committed is the last offset committed; guarded by generation.mu.
	committed int64
}

// loop reads the partition from the state's next offset (or its first
// retained offset) until ctx ends, handing each record to handle.
func (r *runner) loop(ctx context.Context) error {
	r.lag = r.s.metrics.lag.WithLabelValues(r.label)
	r.events = make(map[event.Type]prometheus.Counter, 3)
	f := r.s.newFetcher(r.st.partition, r.st.next)
	defer f.close()
	for {
		msg, err := f.next(ctx)
		if err != nil {
			return nil // ctx ended
		}
		if err := r.handle(ctx, msg); err != nil {
			return nil // ctx ended while the publish queue was full
		}
		if r.st.ck != nil {
			r.st.ck.after(r.st)
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
		r.lag.Set(float64(msg.HighWaterMark - msg.Offset - 1))
	}
	defer func() { r.st.next = msg.Offset + 1; r.track.processed(msg.Offset) }()
	ev, id, err := decodeRecord(msg)
	if err != nil {
		return r.invalid(ctx, msg, err, live)
	}
	began := time.Now()
	out, err := r.st.proc.push(id, ev, msg.Offset)
	if out.Created {
		m.streams.Inc()
	}
	if out.Evicted {
		m.streams.Dec()
		if live {
			r.evicted(id)
		}
	}
	if err != nil {
		return r.invalid(ctx, msg, &invalidError{reason: reasonRejected, err: err}, live)
	}
	if !live {
		return nil
	}
	events, ok := r.events[id.signal]
	if !ok {
		events = m.events.WithLabelValues(string(id.signal))
		r.events[id.signal] = events
	}
	events.Inc()
	if out.Judged {
		m.judgements.Inc()
		m.judgementDuration.Observe(time.Since(began).Seconds())
	}
	for _, a := range out.Anomalies {
		if err := r.publish(ctx, msg.Offset, id, a); err != nil {
			return err
		}
	}
	return nil
}

// publish queues anomaly a, derived from the record at offset, unless it
// is already on the anomalies topic.
func (r *runner) publish(ctx context.Context, offset int64, id streamID, a anomaly.Anomaly) error {
	if _, dup := r.skip[a.ID]; dup {
		r.s.metrics.suppressed.Inc()
		return nil
	}
	value, err := json.Marshal(a)
	if err != nil {
		r.s.log.Error("cannot encode anomaly; dropped", "stream", id.key, "partition", r.st.partition,
			"id", a.ID, "error", err)
		return nil
	}
	r.s.metrics.anomalies.WithLabelValues(string(id.signal), a.Kind).Inc()
	msg := kafka.Message{Key: []byte(id.key), Value: value, Headers: anomalyHeaders(id)}
	return r.pub.enqueue(ctx, offset, outgoing{msg: msg})
}

// evicted counts the stream dropped to make room for stream id, and logs
// the first of the partition's generation.
func (r *runner) evicted(id streamID) {
	r.s.metrics.evictions.Inc()
	if r.loggedEviction {
		return
	}
	r.loggedEviction = true
	r.s.log.Warn("partition holds detector.max_streams streams; dropped the least recently seen for a new one (logged once per partition)",
		"partition", r.st.partition, "max_streams", r.s.cfg.Detector.MaxStreams, "stream", id.key)
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

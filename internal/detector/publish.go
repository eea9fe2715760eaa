package detector

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// tracker follows which offsets of one partition are fully processed: the
// record was scored and every record derived from it (anomaly or dead
// letter) was acknowledged. It hands out the offset that may be committed.
//
// Invariant: records are processed in offset order and derived records are
// acknowledged in the order they were enqueued, so every record before the
// oldest unacknowledged one is done. The commit offset (the next offset to
// read) is therefore the offset of the oldest record with an unacknowledged
// derived record, or one past the last processed record when none is
// pending: the highest contiguous fully-processed offset plus one.
type tracker struct {
	mu      sync.Mutex
	next    int64   // one past the last processed record; -1 before the first
	pending []int64 // offsets of records with a derived record in flight, oldest first
}

// newTracker starts a tracker whose next unprocessed offset is next (-1
// when unknown).
func newTracker(next int64) *tracker { return &tracker{next: next} }

// restart sets the next unprocessed offset of a tracker that has seen no
// record yet: the state was restored from a checkpoint standing before next.
func (t *tracker) restart(next int64) {
	t.mu.Lock()
	t.next = next
	t.mu.Unlock()
}

// enqueued notes that the record at offset produced a record to publish.
func (t *tracker) enqueued(offset int64) {
	t.mu.Lock()
	t.pending = append(t.pending, offset)
	t.mu.Unlock()
}

// processed notes that the record at offset has been handled.
func (t *tracker) processed(offset int64) {
	t.mu.Lock()
	t.next = offset + 1
	t.mu.Unlock()
}

// acked notes that the n oldest derived records were acknowledged.
func (t *tracker) acked(n int) {
	t.mu.Lock()
	t.pending = append(t.pending[:0], t.pending[n:]...)
	t.mu.Unlock()
}

// committable returns the offset that may be committed, -1 if none yet, and
// whether nothing is in flight.
func (t *tracker) committable() (offset int64, idle bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.pending) > 0 {
		return t.pending[0], false
	}
	return t.next, true
}

// messageWriter is the part of *kafka.Writer the publisher uses.
type messageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// writeCloser is the part of *kafka.Writer the Service uses.
type writeCloser interface {
	messageWriter
	Close() error
}

// outgoing is a record derived from an input record, bound for the
// anomalies topic or (dead) for the dead-letter topic.
type outgoing struct {
	dead bool
	msg  kafka.Message
}

// publisher writes one partition's derived records in order, in batches of
// what is queued, retrying with backoff until they are acknowledged. The
// queue is bounded: a full queue blocks the partition's reader.
type publisher struct {
	anomalies messageWriter
	dead      messageWriter
	track     *tracker
	m         *metrics
	log       *slog.Logger
	in        chan outgoing
	done      chan struct{}
}

const (
	publishQueue      = 256
	publishBackoffMin = 100 * time.Millisecond
	publishBackoffMax = 5 * time.Second
)

func newPublisher(anomalies, dead messageWriter, track *tracker, m *metrics, log *slog.Logger) *publisher {
	return &publisher{anomalies: anomalies, dead: dead, track: track, m: m, log: log,
		in: make(chan outgoing, publishQueue), done: make(chan struct{})}
}

// enqueue queues o, derived from the record at offset, and blocks while the
// queue is full; it fails only when ctx ends while the queue is full. (A
// queue with room always takes o, even when ctx has ended: a select on both
// would pick at random, and the partition's state would then depend on the
// timing of a rebalance.)
func (p *publisher) enqueue(ctx context.Context, offset int64, o outgoing) error {
	p.track.enqueued(offset)
	select {
	case p.in <- o:
		return nil
	default:
	}
	select {
	case p.in <- o:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run publishes until the queue is closed and drained, or ctx ends.
func (p *publisher) run(ctx context.Context) {
	defer close(p.done)
	batch := make([]outgoing, 0, publishQueue)
	for {
		select {
		case o, ok := <-p.in:
			if !ok {
				return
			}
			batch = append(batch[:0], o)
		case <-ctx.Done():
			return
		}
		batch = p.fill(batch)
		if !p.write(ctx, batch) {
			return
		}
		p.track.acked(len(batch))
	}
}

// fill adds what is queued without waiting.
func (p *publisher) fill(batch []outgoing) []outgoing {
	for len(batch) < cap(batch) {
		select {
		case o, ok := <-p.in:
			if !ok {
				return batch
			}
			batch = append(batch, o)
		default:
			return batch
		}
	}
	return batch
}

// write writes batch, retrying what failed until everything is
// acknowledged or ctx ends. Messages a batch did write are not written again,
// so a retry duplicates a record only when the broker stored it but its
// acknowledgement was lost; readers can drop such copies by id.
func (p *publisher) write(ctx context.Context, batch []outgoing) bool {
	var anomalies, dead []kafka.Message
	for _, o := range batch {
		if o.dead {
			dead = append(dead, o.msg)
		} else {
			anomalies = append(anomalies, o.msg)
		}
	}
	if p.dead == nil {
		dead = nil
	}
	b := newBackoff(publishBackoffMin, publishBackoffMax)
	for {
		var err error
		anomalies, err = p.writeSome(ctx, p.anomalies, anomalies, p.m.publishedAnomalies.Add)
		if err == nil {
			dead, err = p.writeSome(ctx, p.dead, dead, p.m.deadLetters.Add)
		}
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		p.m.publishErrors.Inc()
		p.log.Warn("publish failed; retrying", "records", len(anomalies)+len(dead), "backoff", b.next, "error", err)
		if !b.wait(ctx) {
			return false
		}
	}
}

// writeSome writes msgs and returns the ones that still need writing.
func (p *publisher) writeSome(ctx context.Context, w messageWriter, msgs []kafka.Message, count func(float64)) ([]kafka.Message, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	err := w.WriteMessages(ctx, msgs...)
	if err == nil {
		count(float64(len(msgs)))
		return nil, nil
	}
	var werrs kafka.WriteErrors
	if !errors.As(err, &werrs) || len(werrs) != len(msgs) {
		return msgs, err
	}
	failed := msgs[:0:0]
	for i, e := range werrs {
		if e != nil {
			failed = append(failed, msgs[i])
		}
	}
	count(float64(len(msgs) - len(failed)))
	return failed, err
}

package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// Delivery of a batch: retriable failures are retried with a backoff
// between these bounds until the batch's delivery deadline, which is
// deliveryTimeouts write timeouts after its linger time. A request
// waits one write timeout, so every request of a batch has been answered
// before the batch's last attempt ends; until then its bytes stay counted.
const (
	retryBackoffMin  = 50 * time.Millisecond
	retryBackoffMax  = time.Second
	deliveryTimeouts = 2
)

// errExpired: a batch reached its delivery deadline before being sent,
// because the partition's earlier batches took that long.
var errExpired = errors.New("batch not sent before its delivery deadline")

// errAbandoned: every request of a batch stopped waiting for it.
var errAbandoned = errors.New("batch abandoned by all its requests")

// send delivers b to l's partition and tells its requests how it went.
// When Kafka refuses the batch as too large, its records are sent again
// one by one and only those refused alone are rejected.
func (p *producer) send(l *lane, b *recordBatch) {
	p.m.kafkaBatchRecords.Observe(float64(b.records))
	deadline := b.opened.Add(p.cfg.linger + deliveryTimeouts*p.cfg.writeTimeout)
	err := p.deliver(l, b, deadline)
	switch {
	case errors.Is(err, kafka.MessageSizeTooLarge) && b.records > 1:
		p.split(l, b, deadline)
	case errors.Is(err, kafka.MessageSizeTooLarge):
		_ = b.eachRecord(func(_ int, r *decodedRecord) { b.owners[0].req.reject(refusedRejection(r)) })
		b.done(nil)
	default:
		b.done(err)
	}
	p.batches.Put(b)
}

// abandoned reports whether every request with records in b stopped
// waiting for it. A batch without owners (one record of a split) is not.
func (b *recordBatch) abandoned() bool {
	for _, o := range b.owners {
		if !o.req.gone.Load() {
			return false
		}
	}
	return len(b.owners) > 0
}

// done tells each request of b that b is done.
func (b *recordBatch) done(err error) {
	for _, o := range b.owners {
		o.req.batchDone(err)
	}
}

// deliver sends b until Kafka acknowledges it, refuses it for good, the
// deadline passes or every request of b stopped waiting.
func (p *producer) deliver(l *lane, b *recordBatch, deadline time.Time) error {
	payload, err := b.finish(time.Now().UnixMilli(), p.codec)
	if err != nil {
		return fmt.Errorf("compress batch: %w", err)
	}
	var s batchSeq
	for backoff := retryBackoffMin; ; backoff = min(2*backoff, retryBackoffMax) {
		if !time.Now().Before(deadline) {
			l.gaveUp(&s)
			return errExpired
		}
		if b.abandoned() {
			l.gaveUp(&s)
			return errAbandoned
		}
		err := p.attempt(l, payload, b.records, &s, earliest(time.Now().Add(p.cfg.writeTimeout), deadline))
		if err == nil {
			return nil
		}
		for _, o := range b.owners {
			o.req.attemptFailed(err)
		}
		if !retriable(err) && !sequenceReset(err) {
			l.gaveUp(&s)
			return err
		}
		if !p.sleep(backoff, deadline) {
			l.gaveUp(&s)
			return err
		}
	}
}

// sleep waits d unless that passes the deadline or the producer is
// aborted; it reports whether to try again.
func (p *producer) sleep(d time.Duration, deadline time.Time) bool {
	if time.Now().Add(d).After(deadline) {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.ctx.Done():
		return false
	}
}

// retriable reports whether a produce may succeed when tried again:
// Kafka's temporary errors, and every failure to get an answer (broker
// down, connection lost, timeout) unless the producer was aborted.
func retriable(err error) bool {
	var kerr kafka.Error
	if errors.As(err, &kerr) {
		return kerr.Temporary()
	}
	return !errors.Is(err, context.Canceled)
}

// leaderError reports whether Kafka's answer err says that the partition
// count or its leaders changed.
func leaderError(err error) bool {
	var kerr kafka.Error
	return errors.As(err, &kerr) && (kerr == kafka.NotLeaderForPartition ||
		kerr == kafka.UnknownTopicOrPartition || kerr == kafka.LeaderNotAvailable)
}

// split sends the records of b, which Kafka refused as too large, one by
// one, and rejects those refused again.
func (p *producer) split(l *lane, b *recordBatch, deadline time.Time) {
	run, left := 0, b.owners[0].n
	single := p.newBatch()
	err := b.eachRecord(func(_ int, r *decodedRecord) {
		if left == 0 {
			run++
			left = b.owners[run].n
		}
		left--
		req := b.owners[run].req
		single.reset()
		single.add(string(r.key), r.value, &r.headers)
		switch err := p.deliver(l, single, deadline); {
		case err == nil:
		case errors.Is(err, kafka.MessageSizeTooLarge):
			req.reject(refusedRejection(r))
		default:
			req.fail(err)
		}
	})
	p.batches.Put(single)
	b.done(err)
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

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
// deliveryTimeouts write timeouts after its linger time (both on the
// producer's clock). A request
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

// launch makes the first attempt to deliver b: its produce request is
// written on the lane's connection and its answer left to the lane's
// reader. Nothing else may be in flight unless mayPipeline. When b cannot
// be written (given up, or no connection to the leader), it is delivered
// here, one attempt at a time.
func (p *producer) launch(l *lane, pl *pipeline, b *recordBatch) {
	p.m.kafkaBatchRecords.Observe(float64(b.records))
	f := &flight{b: b, deadline: b.opened.Add(p.cfg.linger + deliveryTimeouts*p.cfg.writeTimeout)}
	payload, err := b.finish(time.Now().UnixMilli(), p.codec)
	if err != nil {
		p.end(l, f, fmt.Errorf("compress batch: %w", err))
		return
	}
	f.payload = payload
	left := f.deadline.Sub(p.cfg.clock.Now())
	switch {
	case left <= 0:
		p.end(l, f, errExpired)
		return
	case !p.beginAttempt(b):
		p.end(l, f, errAbandoned)
		return
	}
	// The attempt waits on the network: its deadline is on the wall clock.
	f.until = time.Now().Add(min(p.cfg.writeTimeout, left))
	if out, _, _ := pl.state(); out > 0 {
		f.pc = l.conn.pc // mayPipeline: the connection of those in flight
	} else {
		ctx, cancel := context.WithDeadline(p.ctx, f.until)
		f.pc, err = p.laneConn(ctx, l)
		cancel()
		if err != nil {
			p.parts.forget()
			f.err = notSent{err}
			p.end(l, f, p.deliver(l, f, true))
			return
		}
	}
	if err := p.stamp(l, f, f.until); err != nil {
		f.err = err
		p.end(l, f, p.deliver(l, f, true))
		return
	}
	if f.id, err = p.writeProduce(f.pc, l, payload, f.until); err != nil {
		f.err = err
		pl.loseConn(f.pc)
	}
	pl.push(f)
}

// recover waits until no request of the pipeline is in flight, then
// delivers the batches Kafka did not take, oldest first, one attempt at a
// time.
func (p *producer) recover(l *lane, pl *pipeline) {
	for out, _, _ := pl.state(); out > 0; out, _, _ = pl.state() {
		<-l.wake // the reader signals each answer
	}
	failed, lost := pl.takeFailed()
	if lost != nil {
		if l.conn.pc == lost {
			l.conn.close()
		}
		p.parts.forget()
	}
	for i, f := range failed {
		if i == 0 && f.pc == l.conn.pc {
			p.afterAnswer(l, f.pc, f.err) // a leader that moved is asked for again
		}
		l.noteAnswer(f, f.err)
		p.end(l, f, p.deliver(l, f, true))
	}
}

// end tells the requests of f's batch how its delivery went. When Kafka
// refused the batch as too large, its records are sent again one by one
// and only those refused alone are rejected.
func (p *producer) end(l *lane, f *flight, err error) {
	b := f.b
	switch {
	case errors.Is(err, kafka.MessageSizeTooLarge) && b.records > 1:
		p.split(l, b, f.deadline)
	case errors.Is(err, kafka.MessageSizeTooLarge):
		_ = b.eachRecord(func(_ int, r *decodedRecord) { b.owners[0].req.reject(refusedRejection(r)) })
		b.done(nil)
	default:
		b.done(err)
	}
	// Its requests know how it went: it is no longer in doubt.
	p.settle(b)
	p.batches.Put(b)
}

// A batch is in doubt from the start of an attempt to send it until Kafka
// answered that attempt, or, when the attempt may have been written without
// an answer (batchSeq.unsure), until a later attempt learns its fate or the
// batch is given up. A request that stops waiting first waits until none of
// its batches is in doubt, so that it is never told to send again records
// that are on the topic: it is answered as the batches went after all.

// beginAttempt puts b in doubt for an attempt, unless every request of b
// stopped waiting and b is not in doubt already (then b is given up).
func (p *producer) beginAttempt(b *recordBatch) bool {
	p.attemptMu.Lock()
	defer p.attemptMu.Unlock()
	if b.inDoubt {
		return true
	}
	if b.abandoned() {
		return false
	}
	b.inDoubt = true
	for _, o := range b.owners {
		o.req.inDoubt++
	}
	return true
}

// settle takes b out of doubt: Kafka answered whether it wrote it.
func (p *producer) settle(b *recordBatch) {
	p.attemptMu.Lock()
	if b.inDoubt {
		b.inDoubt = false
		for _, o := range b.owners {
			o.req.inDoubt--
		}
	}
	p.attemptMu.Unlock()
	p.attemptEnded.Broadcast()
}

// givenUp reports whether b will not be tried again: every request of b
// stopped waiting and b is not in doubt.
func (p *producer) givenUp(b *recordBatch) bool {
	p.attemptMu.Lock()
	defer p.attemptMu.Unlock()
	return !b.inDoubt && b.abandoned()
}

// markGone marks r as no longer waiting for its batches, at once: its
// client went away and will not be answered.
func (p *producer) markGone(r *request) {
	p.attemptMu.Lock()
	r.gone = true
	p.attemptMu.Unlock()
}

// stopWaiting marks r as no longer waiting for its batches, once none of
// them is in doubt, and reports whether they were all done after all. A
// batch given up because r stopped waiting (errAbandoned, which can end
// it between the two) does not count as done: r is answered as timed out.
func (p *producer) stopWaiting(r *request) bool {
	p.attemptMu.Lock()
	r.gone = true
	for r.inDoubt > 0 {
		p.attemptEnded.Wait()
	}
	p.attemptMu.Unlock()
	select {
	case <-r.done:
		r.mu.Lock()
		defer r.mu.Unlock()
		return !errors.Is(r.err, errAbandoned)
	default:
		return false
	}
}

// abandoned reports whether every request with records in b stopped
// waiting for it. A batch without owners (one record of a split) is not.
// The caller holds producer.attemptMu.
func (b *recordBatch) abandoned() bool {
	for _, o := range b.owners {
		if !o.req.gone {
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

// deliver sends f's batch, one attempt at a time, until Kafka
// acknowledges it, refuses it for good, its deadline (on the producer's
// clock) passes or every request of it stopped waiting. When sent, f.err
// is the outcome of an attempt already made.
func (p *producer) deliver(l *lane, f *flight, sent bool) error {
	for backoff := retryBackoffMin; ; {
		if !sent {
			left := f.deadline.Sub(p.cfg.clock.Now())
			if left <= 0 {
				l.gaveUp(f)
				return errExpired
			}
			if !p.beginAttempt(f.b) {
				l.gaveUp(f)
				return errAbandoned
			}
			// The attempt waits on the network: its deadline is on the wall clock.
			f.err = p.attempt(l, f, time.Now().Add(min(p.cfg.writeTimeout, left)))
		}
		err, behind := f.err, f.behind
		sent, f.behind = false, false
		if err == nil || errors.Is(err, kafka.DuplicateSequenceNumber) {
			return nil // settled by end, once b's requests know
		}
		if !f.s.unsure {
			p.settle(f.b) // not written
		}
		for _, o := range f.b.owners {
			o.req.attemptFailed(err)
		}
		switch {
		case !retriable(err) && !sequenceReset(err):
			l.gaveUp(f)
			return err
		case behind:
			// At once: what failed the batch before it (refused as out of
			// sequence after it, or the same cause) was waited out there.
			continue
		case !p.sleep(f.b, backoff, f.deadline):
			l.gaveUp(f)
			return err
		}
		backoff = min(2*backoff, retryBackoffMax)
	}
}

// sleep waits d before b is tried again unless that passes the deadline or
// the producer is aborted; it reports whether to try again. It looks every
// retryBackoffMin whether b's requests all stopped waiting, so that an
// abandoned batch does not hold its partition's later batches back for
// the rest of its backoff.
func (p *producer) sleep(b *recordBatch, d time.Duration, deadline time.Time) bool {
	now := p.cfg.clock.Now()
	until := now.Add(d)
	if until.After(deadline) {
		return false
	}
	tick := make(chan struct{}, 1)
	wake := func() {
		select {
		case tick <- struct{}{}:
		default:
		}
	}
	a := &alarm{clock: p.cfg.clock, wake: wake}
	defer a.stop()
	for now.Before(until) {
		a.set(now, earliest(now.Add(retryBackoffMin), until))
		select {
		case <-tick:
		case <-p.ctx.Done():
			return false
		}
		if p.givenUp(b) {
			return true // the next round gives it up
		}
		now = p.cfg.clock.Now()
	}
	return true
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
	single := &flight{b: p.newBatch(), deadline: deadline}
	err := b.eachRecord(func(_ int, r *decodedRecord) {
		if left == 0 {
			run++
			left = b.owners[run].n
		}
		left--
		req := b.owners[run].req
		single.b.reset()
		single.b.add(string(r.key), r.value, &r.headers)
		payload, err := single.b.finish(time.Now().UnixMilli(), p.codec)
		if err == nil {
			single.payload, single.s = payload, batchSeq{}
			err = p.deliver(l, single, false)
		}
		switch {
		case err == nil:
		case errors.Is(err, kafka.MessageSizeTooLarge):
			req.reject(refusedRejection(r))
		default:
			req.fail(err)
		}
	})
	p.batches.Put(single.b)
	b.done(err)
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/rawproduce"
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

// send delivers b to partition and tells its requests how it went. When
// Kafka refuses the batch as too large, its records are sent again one by
// one and only those refused alone are rejected.
func (p *producer) send(partition int, b *recordBatch) {
	p.m.kafkaBatchRecords.Observe(float64(b.records))
	deadline := b.opened.Add(p.cfg.linger + deliveryTimeouts*p.cfg.writeTimeout)
	answered, err := p.deliver(partition, b, deadline)
	switch {
	case errors.Is(err, kafka.MessageSizeTooLarge) && b.records > 1:
		p.split(partition, b, deadline)
	case errors.Is(err, kafka.MessageSizeTooLarge):
		_ = b.eachRecord(func(_ int, r *decodedRecord) { b.owners[0].req.reject(refusedRejection(r)) })
		b.done(nil)
	default:
		b.done(err)
	}
	if answered {
		p.batches.Put(b)
	}
}

// done tells each request of b that b is done.
func (b *recordBatch) done(err error) {
	for _, o := range b.owners {
		o.req.batchDone(err)
	}
}

// deliver sends b until Kafka acknowledges it, refuses it for good, or the
// deadline passes. answered is false when an attempt ended without
// Kafka's answer: kafka-go may then still be reading b's bytes, which must
// not be reused.
func (p *producer) deliver(partition int, b *recordBatch, deadline time.Time) (answered bool, err error) {
	payload, err := b.finish(time.Now().UnixMilli(), p.codec)
	if err != nil {
		return true, fmt.Errorf("compress batch: %w", err)
	}
	answered = true
	for backoff := retryBackoffMin; ; backoff = min(2*backoff, retryBackoffMax) {
		if !time.Now().Before(deadline) {
			return answered, errExpired
		}
		ctx, cancel := context.WithDeadline(p.ctx, earliest(time.Now().Add(p.cfg.writeTimeout), deadline))
		resp, err := p.client.RawProduce(ctx, &kafka.RawProduceRequest{
			Topic:        p.cfg.topic,
			Partition:    partition,
			RequiredAcks: kafka.RequireAll,
			RawRecords:   protocol.RawRecordSet{Reader: bytes.NewReader(payload)},
		})
		cancel()
		if err != nil {
			answered = false
		} else {
			err = resp.Error
		}
		if err == nil || !retriable(err) {
			return answered, err
		}
		if leaderMoved(err) {
			p.parts.forget()
		}
		if !p.sleep(backoff, deadline) {
			return answered, err
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

// leaderMoved reports whether err says the partition count or leaders
// may have changed. kafka-go's transport refreshes its own view of the
// leaders every few seconds; the partition count is asked for again.
func leaderMoved(err error) bool {
	var routing *rawproduce.Error
	return errors.As(err, &routing) || errors.Is(err, kafka.NotLeaderForPartition) ||
		errors.Is(err, kafka.UnknownTopicOrPartition) || errors.Is(err, kafka.LeaderNotAvailable)
}

// split sends the records of b, which Kafka refused as too large, one by
// one, and rejects those refused again.
func (p *producer) split(partition int, b *recordBatch, deadline time.Time) {
	run, left := 0, b.owners[0].n
	single, reusable := p.newBatch(), true
	err := b.eachRecord(func(_ int, r *decodedRecord) {
		if left == 0 {
			run++
			left = b.owners[run].n
		}
		left--
		req := b.owners[run].req
		single.reset()
		single.add(string(r.key), r.value, &r.headers)
		answered, err := p.deliver(partition, single, deadline)
		switch {
		case err == nil:
		case errors.Is(err, kafka.MessageSizeTooLarge):
			req.reject(refusedRejection(r))
		default:
			req.fail(err)
		}
		if reusable = answered; !answered {
			single = p.newBatch()
		}
	})
	if reusable {
		p.batches.Put(single)
	}
	b.done(err)
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/produce"
	"github.com/segmentio/kafka-go/protocol/rawproduce"
)

// laneIdle is how long a lane's sender goroutine and its connection stay
// after the lane's last batch, as long as kafka-go's transport keeps idle
// connections (kafkabus).
const laneIdle = 30 * time.Second

// dialFunc opens a set-up connection to a broker (kafkabus.Bus.DialBroker).
type dialFunc func(ctx context.Context, addr string) (*protocol.Conn, error)

// laneConn is a lane's connection to its partition's leader. Only the
// goroutine serving the lane uses it: a produce request is written and
// its answer read by the goroutine that sends the batch, with no hand-off
// to a connection goroutine and back.
type laneConn struct {
	addr  string
	pc    *protocol.Conn
	abort func() bool // stops the watch that breaks pc when the producer is aborted
}

func (c *laneConn) close() {
	if c.pc != nil {
		c.abort()
		c.pc.Close()
		*c = laneConn{}
	}
}

// produceOn sends payload, a finished record set, to l's partition on
// l's connection (opened or moved to the partition's leader first) and
// returns Kafka's answer for the partition. The payload is not read
// after produceOn returns. When the leader could not be reached, the
// cached leaders are dropped; when it says it no longer leads the
// partition, they are asked of it again.
func (p *producer) produceOn(l *lane, payload []byte, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(p.ctx, deadline)
	defer cancel()
	pc, err := p.laneConn(ctx, l)
	if err != nil {
		p.parts.forget()
		return notSent{err}
	}
	if err := pc.SetDeadline(deadline); err != nil {
		l.conn.close()
		return notSent{err}
	}
	if err := p.ctx.Err(); err != nil { // aborted before the deadline was set
		return notSent{err}
	}
	msg, err := pc.RoundTrip(&rawproduce.Request{
		Acks:    int16(kafka.RequireAll),
		Timeout: int32(max(time.Until(deadline).Milliseconds(), 1)),
		Topics: []rawproduce.RequestTopic{{Topic: p.cfg.topic, Partitions: []rawproduce.RequestPartition{{
			Partition: int32(l.partition),
			RecordSet: protocol.RawRecordSet{Reader: bytes.NewReader(payload)},
		}}}},
	})
	if err != nil {
		l.conn.close() // a request may be half written or its answer unread
		p.parts.forget()
		if p.ctx.Err() != nil {
			return p.ctx.Err()
		}
		return err
	}
	err = partitionError(msg.(*produce.Response), p.cfg.topic, l.partition)
	if leaderError(err) && !p.parts.refresh(pc) {
		l.conn.close()
		p.parts.forget()
	}
	return err
}

// notSent is a failure to produce before the request was written (no
// connection to the leader): Kafka cannot have written the batch.
type notSent struct{ err error }

func (e notSent) Error() string { return e.err.Error() }
func (e notSent) Unwrap() error { return e.err }

// laneConn returns l's connection to its partition's leader, dialling it
// when there is none or the leader moved.
func (p *producer) laneConn(ctx context.Context, l *lane) (*protocol.Conn, error) {
	addr, err := p.parts.leader(ctx, l.partition)
	if err != nil {
		return nil, err
	}
	if l.conn.pc != nil && l.conn.addr == addr {
		return l.conn.pc, nil
	}
	l.conn.close()
	pc, err := p.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	abort := context.AfterFunc(p.ctx, func() { _ = pc.SetDeadline(time.Unix(1, 0)) })
	l.conn = laneConn{addr: addr, pc: pc, abort: abort}
	return pc, nil
}

// partitionError is the error Kafka gave for the partition, nil when it
// took the records.
func partitionError(res *produce.Response, topic string, partition int) error {
	for _, t := range res.Topics {
		for _, pr := range t.Partitions {
			if t.Topic != topic || int(pr.Partition) != partition {
				continue
			}
			switch {
			case pr.ErrorCode == 0:
				return nil
			case pr.ErrorMessage != "":
				return fmt.Errorf("%w: %s", kafka.Error(pr.ErrorCode), pr.ErrorMessage)
			default:
				return kafka.Error(pr.ErrorCode)
			}
		}
	}
	return errors.New("produce response without the partition")
}

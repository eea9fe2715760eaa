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

	"github.com/driftlock/driftlock/internal/kafkabus"
)

// laneIdle is how long a lane's sender goroutine and its connection stay
// after the lane's last batch, as long as kafka-go's transport keeps idle
// connections (kafkabus).
const laneIdle = 30 * time.Second

// dialFunc opens a set-up connection to a broker (kafkabus.Bus.DialBroker).
type dialFunc func(ctx context.Context, addr string) (*kafkabus.BrokerConn, error)

// laneConn is a lane's connection to its partition's leader. The lane's
// sender writes produce requests on it; their answers are read by the
// lane's reader (pipeline.go), or by the sender when nothing else is in
// flight.
type laneConn struct {
	addr  string
	pc    *kafkabus.BrokerConn
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
// returns Kafka's answer for the partition, with nothing else in flight on
// the connection. The payload is not read after produceOn returns. When
// the leader could not be reached, the cached leaders are dropped; when it
// says it no longer leads the partition, they are asked of it again.
func (p *producer) produceOn(l *lane, payload []byte, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(p.ctx, deadline)
	defer cancel()
	pc, err := p.laneConn(ctx, l)
	if err != nil {
		p.parts.forget()
		return notSent{err}
	}
	id, err := p.writeProduce(pc, l, payload, deadline)
	if err == nil {
		err = p.produceAnswer(pc, l, id, deadline)
	}
	p.afterAnswer(l, pc, err)
	return err
}

// writeProduce writes the produce request of payload for l's partition on
// pc, the write and Kafka's wait for the replicas bounded by deadline, and
// returns its correlation id; notSent when nothing was written.
func (p *producer) writeProduce(pc *kafkabus.BrokerConn, l *lane, payload []byte, deadline time.Time) (int32, error) {
	if err := pc.SetWriteDeadline(deadline); err != nil {
		return 0, notSent{err}
	}
	if err := p.ctx.Err(); err != nil { // aborted before the deadline was set
		return 0, notSent{err}
	}
	return pc.WriteRequest(&rawproduce.Request{
		Acks:    int16(kafka.RequireAll),
		Timeout: int32(max(time.Until(deadline).Milliseconds(), 1)),
		Topics: []rawproduce.RequestTopic{{Topic: p.cfg.topic, Partitions: []rawproduce.RequestPartition{{
			Partition: int32(l.partition),
			RecordSet: protocol.RawRecordSet{Reader: bytes.NewReader(payload)},
		}}}},
	})
}

// produceAnswer reads the answer to produce request id on pc, waiting
// until deadline, and returns Kafka's error for l's partition, nil when it
// took the records.
func (p *producer) produceAnswer(pc *kafkabus.BrokerConn, l *lane, id int32, deadline time.Time) error {
	if err := pc.SetReadDeadline(deadline); err != nil {
		return err
	}
	if err := p.ctx.Err(); err != nil { // aborted before the deadline was set
		return err
	}
	msg, err := pc.ReadResponse(protocol.Produce, id)
	if err != nil {
		if p.ctx.Err() != nil {
			return p.ctx.Err()
		}
		return err
	}
	return partitionError(msg.(*produce.Response), p.cfg.topic, l.partition)
}

// afterAnswer keeps l's connection and the cached leaders in step with
// err, the outcome of produce requests on pc, once none is in flight on
// it: a connection that failed is closed (a request may be half written
// or its answer unread) and the leaders asked again; when the leader says
// it no longer leads the partition, they are asked of it.
func (p *producer) afterAnswer(l *lane, pc *kafkabus.BrokerConn, err error) {
	switch {
	case err == nil:
	case !isKafkaAnswer(err):
		if l.conn.pc == pc {
			l.conn.close()
		}
		p.parts.forget()
	case leaderError(err) && (l.conn.pc != pc || !p.refreshOn(pc)):
		l.conn.close()
		p.parts.forget()
	}
}

// refreshOn asks the broker on pc, with nothing in flight on it, for the
// partitions' leaders (partitionCounter.refresh).
func (p *producer) refreshOn(pc *kafkabus.BrokerConn) bool {
	if pc.SetDeadline(time.Now().Add(p.cfg.writeTimeout)) != nil || p.ctx.Err() != nil {
		return false
	}
	return p.parts.refresh(pc)
}

// notSent is a failure to produce before the request was written (no
// connection to the leader): Kafka cannot have written the batch.
type notSent struct{ err error }

func (e notSent) Error() string { return e.err.Error() }
func (e notSent) Unwrap() error { return e.err }

// laneConn returns l's connection to its partition's leader, dialling it
// when there is none or the leader moved.
func (p *producer) laneConn(ctx context.Context, l *lane) (*kafkabus.BrokerConn, error) {
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

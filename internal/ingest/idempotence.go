package ingest

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol/initproducerid"
)

// Idempotent produce. The producer asks Kafka for a producer id
// (InitProducerId) and writes it, its epoch and a per-partition sequence
// number into every record batch. A partition's leader keeps the sequence
// of the last batches of each producer and answers a batch it already
// wrote as a duplicate instead of appending it again, so a batch sent
// again after a lost acknowledgement is written once.
//
// Each lane counts the sequence of its partition under the identity it
// took. A batch keeps the identity and base sequence it was first sent
// with on every retry; the lane's sequence advances only when Kafka
// acknowledged the batch (or answered that it had it already). Only the
// lane's sender touches that state, and one batch per partition is in
// flight, so a partition's batches are written in sequence order.
//
// When Kafka answers OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID
// (it has not written the batch), or a batch is given up without knowing
// whether Kafka wrote it, the lane's sequence cannot go on. As Kafka's Java
// producer does, the epoch is then bumped (a new producer id is asked for
// once the epoch is exhausted) and sequences start again from 0: the lane
// sends its unacknowledged batch first, then the later ones, in order.
// Other lanes take the new epoch, from sequence 0, with their next batch.

// producerIdentity is a producer id and epoch. Lanes compare identities
// by pointer: each bump makes a new one.
type producerIdentity struct {
	id    int64
	epoch int16
}

// laneSeq is a lane's place in its partition's sequence.
type laneSeq struct {
	ident *producerIdentity // nil until the lane's first batch
	valid bool              // next is known; else the lane needs a new epoch
	next  int32             // base sequence of the lane's next batch
}

// batchSeq is what deliver knows about the attempts of one batch.
type batchSeq struct {
	stamped bool // the payload carries the lane's identity and sequence
	unsure  bool // an attempt may have been written without an answer
}

// transactionTimeoutMS is sent in InitProducerId as Kafka's Java producer
// sends its default; brokers ignore it without a transactional id.
const transactionTimeoutMS = 60000

// nextSequence is seq advanced by n records, wrapping to 0 past
// math.MaxInt32 as Kafka does.
func nextSequence(seq int32, n int) int32 {
	return int32((int64(seq) + int64(n)) % (math.MaxInt32 + 1))
}

// stampProducer writes the producer id, epoch and base sequence into the
// batch header of payload, a finished record set, and its CRC again.
func stampProducer(payload []byte, id producerIdentity, seq int32) {
	be := binary.BigEndian
	be.PutUint64(payload[offProducerID:], uint64(id.id))
	be.PutUint16(payload[offProducerID+8:], uint16(id.epoch))
	be.PutUint32(payload[offProducerID+10:], uint32(seq))
	be.PutUint32(payload[offCRC:], crc32.Checksum(payload[offAttributes:], castagnoli))
}

// stamp gives payload, a batch of l not yet stamped, the lane's identity
// and next sequence, taking a new identity first when the lane needs one.
func (p *producer) stamp(l *lane, payload []byte, deadline time.Time) error {
	if err := p.claimIdentity(l, deadline); err != nil {
		return err
	}
	stampProducer(payload, *l.seq.ident, l.seq.next)
	return nil
}

// claimIdentity makes l's identity the producer's current one: kept as it
// is while the lane's sequence is valid, else adopted from sequence 0. A
// lane that must give up the current identity bumps its epoch.
func (p *producer) claimIdentity(l *lane, deadline time.Time) error {
	cur := p.ident.Load()
	if cur != nil && cur == l.seq.ident && l.seq.valid {
		return nil
	}
	if cur == nil || cur == l.seq.ident {
		p.identMu.Lock()
		defer p.identMu.Unlock()
		if cur = p.ident.Load(); cur == nil || cur == l.seq.ident {
			next, err := p.newIdentity(l, cur, deadline)
			if err != nil {
				return err
			}
			p.ident.Store(next)
			cur = next
		}
	}
	l.seq = laneSeq{ident: cur, valid: true}
	return nil
}

// newIdentity is old with its epoch bumped, or a producer id from Kafka
// when there is none yet or the epoch is exhausted.
func (p *producer) newIdentity(l *lane, old *producerIdentity, deadline time.Time) (*producerIdentity, error) {
	if old != nil && old.epoch < math.MaxInt16 {
		p.m.producerResets.Inc()
		return &producerIdentity{id: old.id, epoch: old.epoch + 1}, nil
	}
	ctx, cancel := context.WithDeadline(p.ctx, deadline)
	defer cancel()
	pc, err := p.laneConn(ctx, l)
	if err != nil {
		p.parts.forget()
		return nil, err
	}
	if err := pc.SetDeadline(deadline); err != nil {
		l.conn.close()
		return nil, err
	}
	msg, err := pc.RoundTrip(&initproducerid.Request{
		TransactionTimeoutMs: transactionTimeoutMS, ProducerID: -1, ProducerEpoch: -1})
	if err != nil {
		l.conn.close()
		if p.ctx.Err() != nil {
			return nil, p.ctx.Err()
		}
		return nil, err
	}
	res := msg.(*initproducerid.Response)
	if res.ErrorCode != 0 {
		return nil, kafka.Error(res.ErrorCode)
	}
	if old != nil {
		p.m.producerResets.Inc()
	}
	return &producerIdentity{id: res.ProducerID, epoch: res.ProducerEpoch}, nil
}

// mayHaveAppended reports whether Kafka may have written a batch whose
// produce failed with err: the request was sent and no answer came
// (connection lost, timeout), or
// one that can follow an append (the request timed out waiting for the
// replicas, too few replicas after the append). Other answers refuse the
// batch before writing it.
func mayHaveAppended(err error) bool {
	if errors.As(err, new(notSent)) {
		return false
	}
	var kerr kafka.Error
	if !errors.As(err, &kerr) {
		return true
	}
	return kerr == kafka.RequestTimedOut || kerr == kafka.NotEnoughReplicasAfterAppend || kerr == kafka.NetworkException
}

// sequenceReset reports whether Kafka's answer err says that it did not
// write the batch because it does not follow the producer's sequence.
func sequenceReset(err error) bool {
	return errors.Is(err, kafka.OutOfOrderSequenceNumber) || errors.Is(err, kafka.UnknownProducerId)
}

// attempt sends b's payload once, stamped first when it is not yet, and
// keeps l's sequence in step with Kafka's answer.
func (p *producer) attempt(l *lane, payload []byte, records int, s *batchSeq, deadline time.Time) error {
	if !s.stamped {
		if err := p.stamp(l, payload, deadline); err != nil {
			return err
		}
		s.stamped = true
	}
	err := p.produceOn(l, payload, deadline)
	switch {
	case err == nil || errors.Is(err, kafka.DuplicateSequenceNumber):
		l.seq.next = nextSequence(l.seq.next, records)
		return nil
	case sequenceReset(err):
		// Not written: sent again, first of its partition, under a new epoch.
		l.seq.valid = false
		*s = batchSeq{}
	case mayHaveAppended(err):
		s.unsure = true
	}
	return err
}

// gaveUp notes that l's batch is given up: when Kafka may have written it,
// the lane's sequence is no longer known.
func (l *lane) gaveUp(s *batchSeq) {
	if s.stamped && s.unsure {
		l.seq.valid = false
	}
}

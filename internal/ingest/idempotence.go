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
// took, and gives each batch the next sequence numbers when it is first
// sent. A batch keeps its identity and base sequence on every retry while
// they still follow the partition's (pipeline.go tells how batches in
// flight after a failed one are sent again). Only the lane's sender
// touches that state.
//
// When Kafka answers OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID
// for a batch (it has not written it), or a batch is given up while a
// later one was stamped or without knowing whether Kafka wrote it, the
// lane's sequence cannot go on. As Kafka's Java producer does, the epoch
// is then bumped (a new producer id is asked for once the epoch is
// exhausted) and sequences start again from 0: the lane sends its
// unacknowledged batches again first, in order, those Kafka cannot have
// written stamped anew. Other lanes take the new epoch, from sequence 0,
// with their next batch sent while none of theirs is in flight.

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
	stamped bool              // the payload carries ident and seq
	unsure  bool              // an attempt may have been written without an answer
	ident   *producerIdentity // the identity it was stamped with
	seq     int32             // its base sequence
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

// stamp gives f's payload, not yet stamped, the lane's identity and next
// sequence numbers, taking a new identity first when the lane needs one.
func (p *producer) stamp(l *lane, f *flight, deadline time.Time) error {
	if err := p.claimIdentity(l, deadline); err != nil {
		return err
	}
	stampProducer(f.payload, *l.seq.ident, l.seq.next)
	f.s = batchSeq{stamped: true, ident: l.seq.ident, seq: l.seq.next}
	l.seq.next = nextSequence(l.seq.next, f.b.records)
	return nil
}

// mayPipeline reports whether l's next batch may be stamped and sent
// while others are in flight: under the identity and sequence of those.
func (p *producer) mayPipeline(l *lane) bool {
	return l.seq.valid && l.seq.ident == p.ident.Load() && l.conn.pc != nil
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

// attempt sends f's payload once, with nothing else in flight on the
// lane's connection, stamped first when it is not (or no longer follows
// the lane's sequence and Kafka cannot have written it), and keeps l's
// sequence in step with Kafka's answer.
func (p *producer) attempt(l *lane, f *flight, deadline time.Time) error {
	if f.s.stamped && !f.s.unsure && (!l.seq.valid || f.s.ident != l.seq.ident) {
		f.s = batchSeq{}
	}
	if !f.s.stamped {
		if err := p.stamp(l, f, deadline); err != nil {
			return err
		}
	}
	err := p.produceOn(l, f.payload, deadline)
	l.noteAnswer(f, err)
	return err
}

// noteAnswer keeps l's sequence in step with err, Kafka's answer to an
// attempt to send f (or the failure to get one).
func (l *lane) noteAnswer(f *flight, err error) {
	switch {
	case err == nil || errors.Is(err, kafka.DuplicateSequenceNumber):
	case sequenceReset(err) && f.behind:
		// Not written because the batch before it was not: sent again
		// with its sequence once that one is.
	case sequenceReset(err):
		// Not written: sent again, first of its partition, under a new epoch.
		if f.s.ident == l.seq.ident {
			l.seq.valid = false
		}
		f.s = batchSeq{}
	case mayHaveAppended(err):
		f.s.unsure = true
	}
}

// gaveUp notes that f will not be sent again. Its sequence numbers are
// reused when Kafka cannot have written it and no later batch took
// sequence numbers after it; otherwise the lane's sequence is no longer
// known.
func (l *lane) gaveUp(f *flight) {
	s := &f.s
	if !s.stamped || !l.seq.valid || s.ident != l.seq.ident {
		return
	}
	if !s.unsure && l.seq.next == nextSequence(s.seq, f.b.records) {
		l.seq.next = s.seq
		return
	}
	l.seq.valid = false
}

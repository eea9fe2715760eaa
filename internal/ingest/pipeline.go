package ingest

import (
	"errors"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/kafkabus"
)

// maxInFlight is how many produce requests a partition may have in flight
// on its connection: Kafka's own producer allows five with idempotence,
// the most for which a broker keeps each producer's batches in order (it
// remembers the last five batches of a producer per partition).
const maxInFlight = 5

// Pipelining. A lane's sender writes the produce request of each batch on
// the partition's connection as soon as the batch is sealed, up to
// maxInFlight requests ahead of their answers; the lane's reader goroutine
// reads the answers in order and ends each batch Kafka took. Kafka handles
// a connection's requests in the order they came, and the sequence numbers
// stamped in order let it refuse a batch whose predecessor it did not
// write (OUT_OF_ORDER_SEQUENCE_NUMBER), so the partition's records stay in
// order.
//
// When an answer is an error, or none comes, the sender stops writing new
// requests, waits until every request in flight was answered, and then
// delivers the batches that were not taken again one at a time, oldest
// first (deliver), as with one request in flight: a batch that failed
// behind another (refused only because the one before it was not written,
// or for the same cause) keeps its sequence and is sent again at once
// after that one; a batch whose sequence no longer follows is stamped
// again when Kafka cannot have written it. Then it pipelines again.

// flight is a batch being delivered and its first attempt, written in the
// pipeline.
type flight struct {
	b        *recordBatch
	payload  []byte    // the finished record set
	s        batchSeq  // its sequence, and whether an attempt may be on the topic
	deadline time.Time // of its delivery, on the producer's clock
	pc       *kafkabus.BrokerConn
	id       int32     // correlation id of the request in the pipeline
	until    time.Time // when its answer is given up (wall clock)
	err      error     // the outcome of the attempt in the pipeline
	behind   bool      // an earlier batch of the pipeline failed before it was answered
}

// pipeline is a lane's requests in flight and what the reader learnt of
// them. The sender owns everything else of the lane.
type pipeline struct {
	sent   chan *flight // written, in order, to the reader
	mu     sync.Mutex
	out    int                  // written and not yet answered or given up
	failed []*flight            // answered with an error or not at all, in order
	lost   *kafkabus.BrokerConn // a connection whose answers can no longer be read
}

func newPipeline(inFlight int) *pipeline {
	return &pipeline{sent: make(chan *flight, inFlight)}
}

// state reports the requests in flight, whether a batch failed (the sender
// then delivers the failed ones before writing more) and the connection
// lost, if any.
func (pl *pipeline) state() (out int, failed bool, lost *kafkabus.BrokerConn) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.out, len(pl.failed) > 0, pl.lost
}

// push hands f, written on f.pc (or failed to be with f.err set), to the
// reader.
func (pl *pipeline) push(f *flight) {
	pl.mu.Lock()
	pl.out++
	pl.mu.Unlock()
	pl.sent <- f
}

// loseConn notes that pc's answers can no longer be read.
func (pl *pipeline) loseConn(pc *kafkabus.BrokerConn) {
	pl.mu.Lock()
	pl.lost = pc
	pl.mu.Unlock()
	pc.Close() // a request being written stops too
}

// takeFailed returns the failed batches, oldest first, once none is in
// flight, and starts the pipeline afresh.
func (pl *pipeline) takeFailed() ([]*flight, *kafkabus.BrokerConn) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	failed, lost := pl.failed, pl.lost
	pl.failed, pl.lost = nil, nil
	return failed, lost
}

// errAnswerLost: the connection failed while the answer to an earlier
// request on it was read, so Kafka's answer to this one is unknown.
var errAnswerLost = errors.New("connection to the leader lost before the answer")

// read is the lane's reader: it reads the answer to each request in the
// pipeline, in order, ends each batch Kafka took, and sets the others
// aside for the sender, which it wakes.
func (p *producer) read(l *lane, pl *pipeline) {
	defer p.senders.Done()
	for f := range pl.sent {
		if f.err == nil {
			pl.mu.Lock()
			lost := pl.lost == f.pc
			pl.mu.Unlock()
			if lost {
				f.err = errAnswerLost
			} else if f.err = p.produceAnswer(f.pc, l, f.id, f.until); f.err != nil && !isKafkaAnswer(f.err) {
				pl.loseConn(f.pc)
			}
		}
		took := f.err == nil || errors.Is(f.err, kafka.DuplicateSequenceNumber)
		pl.mu.Lock()
		if !took {
			f.behind = len(pl.failed) > 0
			pl.failed = append(pl.failed, f)
		}
		pl.out--
		pl.mu.Unlock()
		if took {
			p.end(l, f, nil)
		}
		l.signal()
	}
}

// isKafkaAnswer reports whether err is Kafka's answer for the partition,
// read whole, rather than a failure to read one.
func isKafkaAnswer(err error) bool {
	var kerr kafka.Error
	return errors.As(err, &kerr)
}

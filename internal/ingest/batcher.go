package ingest

import (
	"errors"
	"sync"
	"time"

	"github.com/driftlock/driftlock/internal/otlpconv"
)

// errClosed: a request came after the producer was closed (the service is
// shutting down); the client sends it again, to another replica or later.
var errClosed = failure(reasonNotReady, errors.New("kafka producer closed: ingest is shutting down"))

// lane holds the batches of one partition. Requests add records to the
// open batch; a batch is sealed when it is full (kafka.batch_size records,
// or the byte cap) or has waited kafka.batch_timeout_ms. One sender
// goroutine serves the lane while it holds records, and for the idle
// time after, and writes its sealed batches one after the other on the
// lane's connection, up to maxInFlight ahead of their answers, which a
// reader goroutine reads (pipeline.go); the partition's records keep their
// order.
type lane struct {
	partition int
	mu        sync.Mutex
	open      *recordBatch
	sealed    []*recordBatch // waiting to be sent, oldest first
	serving   bool           // a sender goroutine owns the lane
	wake      chan struct{}  // capacity 1: a batch was opened or sealed
	shape     recordShape    // of the last record added
	conn      laneConn       // used by the sender only; handed on under mu
	seq       laneSeq        // used by the sender only
}

// lane returns partition i's lane, adding lanes when the topic grew.
func (p *producer) lane(i int) *lane {
	if lanes := *p.lanes.Load(); i < len(lanes) {
		return lanes[i]
	}
	p.growMu.Lock()
	defer p.growMu.Unlock()
	lanes := *p.lanes.Load()
	for j := len(lanes); j <= i; j++ {
		lanes = append(lanes, &lane{partition: j, wake: make(chan struct{}, 1)})
	}
	p.lanes.Store(&lanes)
	return lanes[i]
}

// enqueue adds recs, all of which fit a batch alone, to the open batches
// of their partitions. Consecutive records of one partition are added
// under one lock.
func (p *producer) enqueue(req *request, recs []otlpconv.Record, partitions int) error {
	p.state.RLock()
	defer p.state.RUnlock()
	if p.closed {
		return errClosed
	}
	lastKey, last := "", -1
	partition := func(r *otlpconv.Record) int {
		if last < 0 || r.Key != lastKey {
			lastKey, last = r.Key, partitionOf(r.Key, partitions)
		}
		return last
	}
	for start := 0; start < len(recs); {
		part, end := partition(&recs[start]), start+1
		for end < len(recs) && partition(&recs[end]) == part {
			end++
		}
		p.addRun(p.lane(part), req, recs[start:end])
		start = end
	}
	return nil
}

// addRun adds records of one partition to its open batch, sealing batches
// as they fill, and makes sure a sender serves the lane.
func (p *producer) addRun(l *lane, req *request, recs []otlpconv.Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range recs {
		r := &recs[i]
		if !l.shape.matches(r) {
			h := recordHeaderValues(r)
			l.shape.set(r.Key, &h)
		}
		if b := l.open; b != nil && b.size()+b.encodedSize(&l.shape, r.Value) > p.batchBytes {
			l.seal()
		}
		if l.open == nil {
			l.open = p.newBatch()
			l.open.opened = p.cfg.clock.Now()
			l.signal()
		}
		l.open.addShaped(&l.shape, r.Value)
		l.open.own(req)
		if l.open.records >= p.cfg.batchRecords {
			l.seal()
		}
	}
	if !l.serving {
		l.serving = true
		p.senders.Add(1)
		go p.serve(l)
	}
}

// seal moves the open batch to the queue and wakes the sender; l.mu held.
func (l *lane) seal() {
	l.sealed = append(l.sealed, l.open)
	l.open = nil
	l.signal()
}

func (l *lane) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (p *producer) newBatch() *recordBatch {
	b, _ := p.batches.Get().(*recordBatch)
	if b == nil {
		b = &recordBatch{}
	}
	b.reset()
	return b
}

// serve sends the lane's batches until it has held none for the idle time
// or the producer closes, with a reader goroutine for their answers.
func (p *producer) serve(l *lane) {
	defer p.senders.Done()
	pl := newPipeline(p.cfg.inFlight)
	p.senders.Add(1)
	go p.read(l, pl)
	defer close(pl.sent)
	a := &alarm{clock: p.cfg.clock, wake: l.signal}
	for {
		b, failed := p.next(l, a, pl)
		switch {
		case failed:
			p.recover(l, pl)
		case b == nil:
			return
		default:
			p.launch(l, pl, b)
		}
	}
}

// next returns the lane's next batch to send once it may go (fewer than
// producerConfig.inFlight requests in flight and, with any, mayPipeline), waiting for
// the open batch to fill or to reach its linger time, or for a batch to
// come while the lane is idle. It reports instead when a batch in flight
// failed. It returns nil, the lane unserved and its connection closed,
// once nothing was in flight or to send for the idle time, or the
// producer closes and nothing is left.
func (p *producer) next(l *lane, a *alarm, pl *pipeline) (*recordBatch, bool) {
	var idleUntil time.Time
	for {
		out, failed, lost := pl.state()
		if failed {
			return nil, true
		}
		mayGo := out == 0 || out < p.cfg.inFlight && lost == nil && p.mayPipeline(l)
		l.mu.Lock()
		now := p.cfg.clock.Now()
		var until time.Time
		switch {
		case len(l.sealed) > 0:
			if mayGo {
				b := l.sealed[0]
				l.sealed[0] = nil
				l.sealed = l.sealed[1:]
				l.mu.Unlock()
				return b, false
			}
		case l.open != nil:
			if until = l.open.opened.Add(p.cfg.linger); !now.Before(until) || p.isClosing() {
				l.seal()
				l.mu.Unlock()
				continue
			}
		case out > 0:
			// Only answers to wait for: the reader signals each.
		default:
			if idleUntil.IsZero() {
				idleUntil = now.Add(p.cfg.idle)
			}
			if until = idleUntil; !now.Before(until) || p.isClosing() {
				conn := l.conn
				l.conn, l.serving = laneConn{}, false
				l.mu.Unlock()
				conn.close()
				return nil, false
			}
		}
		l.mu.Unlock()
		if !until.IsZero() {
			a.set(now, until)
		}
		closing := p.closing
		if p.isClosing() {
			closing = nil // acted on above: what is left is to wait
		}
		select {
		case <-l.wake:
		case <-closing:
		}
		a.stop()
	}
}

func (p *producer) isClosing() bool {
	select {
	case <-p.closing:
		return true
	default:
		return false
	}
}

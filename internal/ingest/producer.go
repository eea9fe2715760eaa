package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"

	"github.com/driftlock/driftlock/internal/otlpconv"
)

// errOverloaded: the in-flight byte budget is spent. The client sends the
// same data again later.
var errOverloaded = failure(reasonOverloaded, errors.New("too much data waiting for kafka, retry later"))

// errNoAck: Kafka did not acknowledge every record of a request within the
// write timeout. Some of them may have been written.
var errNoAck = errors.New("no acknowledgement")

// byteSemaphore bounds the bytes of events waiting for Kafka. It never
// blocks: a request that does not fit is turned away, so memory stays
// bounded however many clients push.
type byteSemaphore struct {
	mu    sync.Mutex
	used  int64
	limit int64
	gauge interface{ Set(float64) }
}

// tryAcquire takes n bytes if they fit. A request larger than the whole
// budget is let through when nothing else is in flight, so that it is not
// refused forever.
func (s *byteSemaphore) tryAcquire(n int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used+n > s.limit && s.used > 0 {
		return false
	}
	s.used += n
	s.gauge.Set(float64(s.used))
	return true
}

func (s *byteSemaphore) release(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used -= n
	s.gauge.Set(float64(s.used))
}

// producerConfig is what the producer needs from the service's settings.
type producerConfig struct {
	topic        string
	batchRecords int           // kafka.batch_size
	linger       time.Duration // kafka.batch_timeout_ms
	compression  string        // kafka.compression
	writeTimeout time.Duration // ingest.write_timeout_ms
	maxBytes     int           // largest record (key, value and headers)
	inflight     int64         // ingest.max_inflight_bytes
	idle         time.Duration // a lane's sender and connection stay this long unused
	inFlight     int           // produce requests in flight per partition; 0: maxInFlight
	clock        Clock         // of the producer's timers and the partition count's cache; nil: the wall clock
}

// producer writes the records of export requests to the events topic and
// tells each request when Kafka has acknowledged all of its records.
// Records are partitioned by key (murmur2, as kafka.Murmur2Balancer) and
// encoded at once into the open record batch of their partition, shared by
// concurrent requests (batcher.go); finished batches go to the partition's
// leader as kafka-go protocol produce requests on the partition's own
// connection (laneconn.go), up to maxInFlight at once (pipeline.go).
// Batches carry a producer id and sequence numbers (idempotence.go), so
// that a batch sent again after a lost acknowledgement is written once and
// each partition's records are written in the order they came.
//
// A request that stops waiting (timeout, client gone) leaves its records in
// their batches. A batch is no longer tried once every request with records
// in it stopped waiting: those clients were told to send again, and a late
// write would put the records on the topic twice. Their bytes stay counted
// in the in-flight budget until every batch holding them is done, so that
// clients retrying through an outage cannot pile up unbounded batches.
type producer struct {
	cfg        producerConfig
	dial       dialFunc
	codec      compress.Codec // nil for none
	batchBytes int            // cap of a batch, header included
	parts      *partitionCounter
	sem        *byteSemaphore
	m          *metrics

	lanes   atomic.Pointer[[]*lane] // by partition; only grows
	growMu  sync.Mutex
	state   sync.RWMutex // held for reading while a request enqueues
	closed  bool
	closing chan struct{} // closed by close: send what is open now
	ctx     context.Context
	cancel  context.CancelFunc // aborts produce calls when close gives up
	senders sync.WaitGroup     // one per lane being served
	batches sync.Pool
	// attemptMu guards the batches' and requests' doubt (see beginAttempt)
	// and the requests' gone; attemptEnded is signalled when a batch
	// leaves doubt.
	attemptMu    sync.Mutex
	attemptEnded *sync.Cond
	ident        atomic.Pointer[producerIdentity] // current; nil before the first batch
	identMu      sync.Mutex                       // held while a new identity is made
	closeErr     error
	once         sync.Once
}

// newProducer builds a producer for cfg.topic that learns the partitions'
// leaders through client and sends to them on connections from dial.
func newProducer(cfg producerConfig, client *kafka.Client, dial dialFunc, m *metrics) (*producer, error) {
	if cfg.clock == nil {
		cfg.clock = realClock{}
	}
	if cfg.inFlight <= 0 || cfg.inFlight > maxInFlight {
		cfg.inFlight = maxInFlight
	}
	var c compress.Compression
	if cfg.compression != "" {
		if err := c.UnmarshalText([]byte(cfg.compression)); err != nil {
			return nil, fmt.Errorf("kafka.compression: %w", err)
		}
	}
	p := &producer{
		cfg:   cfg,
		dial:  dial,
		codec: c.Codec(),
		// A batch holds at least one record of maxBytes and, with the
		// record batch header, stays below the topic's max.message.bytes.
		batchBytes: cfg.maxBytes + batchOverhead/2,
		parts:      &partitionCounter{client: client, topic: cfg.topic, ttl: metadataTTL, clock: cfg.clock},
		sem:        &byteSemaphore{limit: cfg.inflight, gauge: m.inflightBytes},
		m:          m,
		closing:    make(chan struct{}),
	}
	p.attemptEnded = sync.NewCond(&p.attemptMu)
	p.ctx, p.cancel = context.WithCancel(context.Background())
	empty := []*lane{}
	p.lanes.Store(&empty)
	return p, nil
}

// request is one produce call's share of the batches: it is done when
// every batch holding one of its records is done.
type request struct {
	pending atomic.Int32 // batches not done yet, plus one while enqueuing
	gone    bool         // the caller stopped waiting (guarded by producer.attemptMu)
	// inDoubt counts the batches holding records of r that are in doubt
	// (see beginAttempt; guarded by producer.attemptMu).
	inDoubt  int
	bytes    int64
	sem      *byteSemaphore
	done     chan struct{}
	mu       sync.Mutex
	err      error
	lastErr  error // of the last failed attempt to send a batch of r
	rejected []otlpconv.Rejection
}

// batchDone notes the end of one batch holding records of r; err is the
// batch's failure, if any.
func (r *request) batchDone(err error) {
	if err != nil {
		r.fail(err)
	}
	if r.pending.Add(-1) == 0 {
		r.sem.release(r.bytes)
		close(r.done)
	}
}

func (r *request) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
}

// attemptFailed notes the failure of one attempt to send a batch holding
// records of r, which may be tried again.
func (r *request) attemptFailed(err error) {
	r.mu.Lock()
	r.lastErr = err
	r.mu.Unlock()
}

// timedOut is r's error when Kafka did not acknowledge it within d: it
// names the last failure seen, so that the cause (the topic missing, a
// broker refusing) is told and counted rather than the timeout alone.
func (r *request) timedOut(d time.Duration) error {
	r.mu.Lock()
	last := r.lastErr
	r.mu.Unlock()
	if last == nil {
		return fmt.Errorf("%w within %s", errNoAck, d)
	}
	return fmt.Errorf("%w within %s (last error: %w)", errNoAck, d, last)
}

func (r *request) reject(rej otlpconv.Rejection) {
	r.mu.Lock()
	r.rejected = append(r.rejected, rej)
	r.mu.Unlock()
}

// produce writes recs. It returns the records refused as too large (a
// permanent rejection); any other failure is a retryable export error
// (errOverloaded, kafkaFailure, errClosed): the client must send the whole
// request again.
// The records are copied into the batches: recs may be reused once
// produce returns, whatever the outcome.
func (p *producer) produce(ctx context.Context, recs []otlpconv.Record) ([]otlpconv.Rejection, error) {
	recs, rejected := p.admit(recs)
	if len(recs) == 0 {
		return rejected, nil
	}
	start := time.Now()
	tooLarge, err := p.write(ctx, recs)
	p.m.writeDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		var known *exportError // overloaded, or closed: not Kafka's failure
		if errors.As(err, &known) {
			return nil, err
		}
		err = kafkaFailure(err)
		if ctx.Err() == nil { // not the client giving up
			p.m.kafkaErrors.WithLabelValues(reasonOf(err).String()).Inc()
		}
		return nil, err
	}
	return append(rejected, tooLarge...), nil
}

// admit sets aside the records that cannot fit in a produce batch. recs
// is returned as it is when all fit.
func (p *producer) admit(recs []otlpconv.Record) ([]otlpconv.Record, []otlpconv.Rejection) {
	var kept []otlpconv.Record
	var rejected []otlpconv.Rejection
	for i := range recs {
		r := &recs[i]
		size := recordSize(r)
		switch {
		case size > p.cfg.maxBytes:
			if kept == nil {
				kept = append(make([]otlpconv.Record, 0, len(recs)), recs[:i]...)
			}
			rejected = append(rejected, tooLargeRejection(r, size, p.cfg.maxBytes))
		case kept != nil:
			kept = append(kept, *r)
		}
	}
	if kept == nil && rejected == nil {
		return recs, nil
	}
	return kept, rejected
}

// write enqueues recs within the in-flight budget and waits for Kafka's
// acknowledgement of all of them, ctx's end or the write timeout,
// whichever is first.
func (p *producer) write(ctx context.Context, recs []otlpconv.Record) ([]otlpconv.Rejection, error) {
	timeout, timer := after(p.cfg.clock, p.cfg.writeTimeout)
	defer timer.Stop()
	partitions, err := p.partitions(ctx)
	if err != nil {
		return nil, err
	}
	var n int64
	for i := range recs {
		n += int64(len(recs[i].Value) + len(recs[i].Key))
	}
	if !p.sem.tryAcquire(n) {
		return nil, errOverloaded
	}
	req := &request{bytes: n, sem: p.sem, done: make(chan struct{})}
	req.pending.Store(1)
	req.batchDone(p.enqueue(req, recs, partitions))
	select {
	case <-req.done:
		return req.rejected, req.err
	case <-timeout:
		if p.stopWaiting(req) {
			return req.rejected, req.err
		}
		return nil, req.timedOut(p.cfg.writeTimeout)
	case <-ctx.Done():
		p.markGone(req)
		return nil, ctx.Err()
	}
}

// partitions is the events topic's partition count, asked for within the
// write timeout when the cached one is stale.
func (p *producer) partitions(ctx context.Context) (int, error) {
	if n, ok := p.parts.cached(); ok {
		return n, nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.writeTimeout)
	defer cancel()
	return p.parts.count(ctx)
}

// close sends what the batches hold and waits for every batch to be done.
// When ctx ends first, the produce calls in progress are abandoned.
func (p *producer) close(ctx context.Context) error {
	p.once.Do(func() {
		p.state.Lock()
		p.closed = true
		close(p.closing)
		p.state.Unlock()
		done := make(chan struct{})
		go func() {
			p.senders.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			p.closeErr = fmt.Errorf("kafka writes still pending: %w", ctx.Err())
			p.cancel()
			<-done
		}
		p.cancel()
	})
	return p.closeErr
}

func tooLargeRejection(r *otlpconv.Record, size, limit int) otlpconv.Rejection {
	return otlpconv.Rejection{Reason: "too_large", Items: 1, Message: fmt.Sprintf(
		"%s record of stream %q is %d bytes with key and headers, over the limit of %d bytes", r.Type, r.Key, size, limit)}
}

func refusedRejection(r *decodedRecord) otlpconv.Rejection {
	return otlpconv.Rejection{Reason: "too_large", Items: 1, Message: fmt.Sprintf(
		"%s record of stream %q (%d bytes with key and headers) refused by kafka as too large; the topic's max.message.bytes is below ingest.max_record_bytes",
		r.headers[0], r.key, sizeWithHeaders(len(r.key), len(r.value), &r.headers))}
}

// recordSize is the bytes a record takes in a produce batch, as kafka-go
// counts them (fixed-size lengths); the record limits are in these bytes.
func recordSize(r *otlpconv.Record) int {
	h := recordHeaderValues(r)
	return sizeWithHeaders(len(r.Key), len(r.Value), &h)
}

func sizeWithHeaders(key, value int, h *headerValues) int {
	n := 4 + 1 + 1 + 8 + 4 + key + 4 + value + 1
	for i := range h.count() {
		n += 2 + len(headerKeys[i]) + 2 + len(h[i])
	}
	return n
}

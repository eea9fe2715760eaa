package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/event"
	"github.com/driftlock/driftlock/internal/otlpconv"
)

// Retryable failures of an export. Both tell the client to send the same
// data again later; neither means that nothing was written.
var (
	// errOverloaded: the in-flight byte budget is spent.
	errOverloaded = errors.New("too much data waiting for kafka, retry later")
	// errUnavailable: Kafka did not acknowledge every record in time.
	errUnavailable = errors.New("kafka unavailable")
)

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

// producer writes a request's records with the shared writer and waits for
// Kafka's acknowledgement of all of them. Concurrent requests share the
// writer's batches.
//
// A request that stops waiting (timeout, client gone) leaves its records in
// the writer's batches, which kafka-go still sends. Their bytes stay counted
// in the in-flight budget until kafka-go is done with them, so that clients
// retrying through an outage cannot pile up unbounded batches.
type producer struct {
	w        *kafka.Writer
	sem      *byteSemaphore
	timeout  time.Duration
	maxBytes int // largest record (key, value and headers) a batch can hold
	m        *metrics
	writes   sync.WaitGroup // one per WriteMessages call in progress
}

// produce writes recs. It returns the records Kafka refused as too large
// (a permanent rejection); any other failure is errOverloaded or
// errUnavailable and means the client must retry the whole request.
func (p *producer) produce(ctx context.Context, recs []otlpconv.Record) ([]otlpconv.Rejection, error) {
	msgs, rejected := p.messages(recs)
	if len(msgs) == 0 {
		return rejected, nil
	}
	start := time.Now()
	err := p.write(ctx, msgs)
	p.m.writeDuration.Observe(time.Since(start).Seconds())
	if errors.Is(err, errOverloaded) {
		return nil, err
	}
	if err == nil {
		return rejected, nil
	}
	tooLarge, err := p.splitTooLarge(ctx, msgs, err)
	if err != nil {
		if ctx.Err() == nil { // not the client giving up
			p.m.kafkaErrors.Inc()
		}
		return nil, fmt.Errorf("%w: %v", errUnavailable, err)
	}
	return append(rejected, tooLarge...), nil
}

// write hands msgs to the writer within the in-flight budget and waits for
// the acknowledgement, ctx's end or the write timeout, whichever is first.
func (p *producer) write(ctx context.Context, msgs []kafka.Message) error {
	var n int64
	for i := range msgs {
		n += int64(len(msgs[i].Value) + len(msgs[i].Key))
	}
	if !p.sem.tryAcquire(n) {
		return errOverloaded
	}
	done := make(chan error, 1)
	p.writes.Add(1)
	go func() {
		defer p.writes.Done()
		defer p.sem.release(n)
		// kafka-go bounds each attempt by the writer's WriteTimeout.
		done <- p.w.WriteMessages(context.WithoutCancel(ctx), msgs...)
	}()
	timer := time.NewTimer(p.timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		return fmt.Errorf("no acknowledgement within %s", p.timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close waits for the writes in progress and closes the writer, which
// flushes what it still holds; it gives up when ctx ends.
func (p *producer) close(ctx context.Context) error {
	done := make(chan error, 1)
	go func() {
		p.writes.Wait()
		done <- p.w.Close()
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("kafka writes still pending: %w", ctx.Err())
	}
}

// Header values shared by every message; kafka-go only reads them.
var (
	contentTypeValue = []byte(event.ContentTypeJSON)
	typeValues       = map[event.Type][]byte{event.TypeLog: []byte(event.TypeLog), event.TypeMetric: []byte(event.TypeMetric), event.TypeSpan: []byte(event.TypeSpan)}
	sourceValues     = map[string][]byte{sourceGRPC: []byte(sourceGRPC), sourceHTTP: []byte(sourceHTTP)}
)

// messages turns records into Kafka messages, setting aside those that
// cannot fit in a produce batch. Keys, headers and header values are shared
// between the messages of a request where they are equal, which saves most
// of the allocations per record.
func (p *producer) messages(recs []otlpconv.Record) ([]kafka.Message, []otlpconv.Rejection) {
	msgs := make([]kafka.Message, 0, len(recs))
	headers := make([]kafka.Header, 0, 4*len(recs))
	var rejected []otlpconv.Rejection
	var key, service []byte
	for i := range recs {
		r := &recs[i]
		if string(key) != r.Key {
			key = []byte(r.Key)
		}
		if string(service) != r.Service {
			service = []byte(r.Service)
		}
		start := len(headers)
		headers = append(headers,
			kafka.Header{Key: event.HeaderEventType, Value: headerValue(typeValues, r.Type, string(r.Type))},
			kafka.Header{Key: event.HeaderSource, Value: headerValue(sourceValues, r.Source, r.Source)},
			kafka.Header{Key: event.HeaderServiceName, Value: service},
			kafka.Header{Key: event.HeaderContentType, Value: contentTypeValue})
		m := kafka.Message{Key: key, Value: r.Value, Headers: headers[start:len(headers):len(headers)]}
		if size := recordSize(&m); size > p.maxBytes {
			headers = headers[:start]
			rejected = append(rejected, tooLargeRejection(r, size, p.maxBytes))
			continue
		}
		msgs = append(msgs, m)
	}
	return msgs, rejected
}

func headerValue[K comparable](known map[K][]byte, k K, s string) []byte {
	if v, ok := known[k]; ok {
		return v
	}
	return []byte(s)
}

// splitTooLarge looks at a failed write. Records Kafka refused as too large
// are written once more on their own (they may have shared a batch with a
// large one); those refused again are rejected. Any other error is returned.
func (p *producer) splitTooLarge(ctx context.Context, msgs []kafka.Message, err error) ([]otlpconv.Rejection, error) {
	var werrs kafka.WriteErrors
	if !errors.As(err, &werrs) {
		return nil, err
	}
	var retry []int
	for i, e := range werrs {
		switch {
		case e == nil:
		case errors.Is(e, kafka.MessageSizeTooLarge):
			retry = append(retry, i)
		default:
			return nil, e
		}
	}
	var rejected []otlpconv.Rejection
	for _, i := range retry {
		err := p.write(ctx, msgs[i:i+1])
		switch {
		case err == nil:
		case isTooLarge(err):
			rejected = append(rejected, otlpconv.Rejection{Reason: "too_large", Items: 1, Message: fmt.Sprintf(
				"%s record of stream %q (%d bytes with key and headers) refused by kafka as too large; the topic's max.message.bytes is below ingest.max_record_bytes",
				msgs[i].Headers[0].Value, msgs[i].Key, recordSize(&msgs[i]))})
		default:
			return nil, err
		}
	}
	return rejected, nil
}

// isTooLarge reports whether err is Kafka's MESSAGE_TOO_LARGE, alone or as
// the only kind of error of a write.
func isTooLarge(err error) bool {
	var werrs kafka.WriteErrors
	if !errors.As(err, &werrs) {
		return errors.Is(err, kafka.MessageSizeTooLarge)
	}
	for _, e := range werrs {
		if e != nil && !errors.Is(e, kafka.MessageSizeTooLarge) {
			return false
		}
	}
	return werrs.Count() > 0
}

func tooLargeRejection(r *otlpconv.Record, size, limit int) otlpconv.Rejection {
	return otlpconv.Rejection{Reason: "too_large", Items: 1, Message: fmt.Sprintf(
		"%s record of stream %q is %d bytes with key and headers, over the limit of %d bytes", r.Type, r.Key, size, limit)}
}

// recordSize is the bytes a message takes in a produce batch, as the
// writer counts them.
func recordSize(m *kafka.Message) int {
	n := 4 + 1 + 1 + 8 + 4 + len(m.Key) + 4 + len(m.Value) + 1
	for _, h := range m.Headers {
		n += 2 + len(h.Key) + 2 + len(h.Value)
	}
	return n
}

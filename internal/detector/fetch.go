package detector

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"
)

// fetcher reads one partition of the events topic from its leader in the
// goroutine that processes the records, one fetch response at a time, the
// response read as its records are processed. (kafka.Reader reads in a
// goroutine of its own, hands each record over through a channel and
// moves the socket's read deadline for each; the fetcher moves it every
// fetchDeadlineEvery records.)
type fetcher struct {
	dialer    *kafka.Dialer
	brokers   []string
	topic     string
	partition int
	maxWait   time.Duration
	log       *slog.Logger

	conn  *kafka.Conn
	stop  func() bool // ends the closing of conn when ctx ends
	batch *kafka.Batch
	// offset is the next offset to read, or kafka.FirstOffset until the
	// partition's first retained offset is known.
	offset int64
	// read counts the records read since the read deadline was last moved.
	read int
}

const (
	// fetchMaxBytes is the most a fetch response holds.
	fetchMaxBytes = 16 << 20
	// fetchReadTimeout bounds the wait for the rest of a response between
	// two reads of it; the deadline moves every fetchDeadlineEvery records.
	fetchReadTimeout   = 10 * time.Second
	fetchDeadlineEvery = 64
	fetchBackoffMin    = 100 * time.Millisecond
	fetchBackoffMax    = 2 * time.Second
)

// next returns the partition's next record. Failures are logged and
// retried with backoff; it returns an error only when ctx ends.
func (f *fetcher) next(ctx context.Context) (kafka.Message, error) {
	b := newBackoff(fetchBackoffMin, fetchBackoffMax)
	pause := false // the previous fetch failed
	for {
		if f.batch == nil {
			if err := f.fetch(ctx, &b, pause); err != nil {
				return kafka.Message{}, err
			}
		}
		msg, err := f.batch.ReadMessage()
		if err == nil {
			f.offset = msg.Offset + 1
			if f.read++; f.read == fetchDeadlineEvery {
				f.read = 0
				_ = f.conn.SetReadDeadline(time.Now().Add(fetchReadTimeout))
			}
			return msg, nil
		}
		_ = f.batch.Close()
		f.batch = nil
		if ctx.Err() != nil {
			return kafka.Message{}, ctx.Err()
		}
		if pause = f.failed(err); !pause {
			b.reset()
		}
	}
}

// failed handles the error that ended a fetch response and reports
// whether the next fetch should wait (backoff).
func (f *fetcher) failed(err error) bool {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, kafka.RequestTimedOut):
		return false // the end of the response, or nothing new within maxWait
	case errors.Is(err, kafka.OffsetOutOfRange):
		// Deleted before it was read, or past the end: connecting again
		// moves on to the first retained record, or waits for the record.
		f.close()
		return false
	}
	f.log.Warn("fetch failed; reconnecting", "partition", f.partition, "offset", f.offset, "error", err)
	f.close()
	return true
}

// fetch sends the next fetch request, connecting to the partition's leader
// first when needed; it waits b first when pause is set (the previous
// fetch failed), and between failed attempts to connect.
func (f *fetcher) fetch(ctx context.Context, b *backoff, pause bool) error {
	for ; ; pause = true {
		if pause && !b.wait(ctx) {
			return ctx.Err()
		}
		if f.conn != nil {
			break
		}
		err := f.connect(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		f.log.Warn("fetch: connecting to the partition's leader failed; retrying", "partition", f.partition, "error", err)
	}
	// The broker answers within maxWait; the deadline leaves room for the
	// answer to arrive.
	_ = f.conn.SetReadDeadline(time.Now().Add(f.maxWait + fetchReadTimeout))
	f.batch = f.conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: fetchMaxBytes, MaxWait: f.maxWait})
	_ = f.conn.SetReadDeadline(time.Now().Add(fetchReadTimeout))
	f.read = 0
	return nil
}

// connect dials the partition's leader through the first broker that
// answers and positions the connection at f.offset: the first retained
// offset when f.offset is kafka.FirstOffset or was deleted.
func (f *fetcher) connect(ctx context.Context) error {
	var err error
	for _, broker := range f.brokers {
		var conn *kafka.Conn
		if conn, err = f.dialer.DialLeader(ctx, "tcp", broker, f.topic, f.partition); err != nil {
			continue
		}
		var first int64
		_ = conn.SetDeadline(time.Now().Add(fetchReadTimeout))
		if first, _, err = conn.ReadOffsets(); err == nil {
			if f.offset < first {
				if f.offset != kafka.FirstOffset {
					f.log.Warn("fetch: records deleted before they were read; skipping them", "partition", f.partition,
						"from", f.offset, "to", first)
				}
				f.offset = first
			}
			_, err = conn.Seek(f.offset, kafka.SeekAbsolute)
		}
		if err != nil {
			conn.Close()
			return err
		}
		_ = conn.SetDeadline(time.Time{})
		f.conn = conn
		f.stop = context.AfterFunc(ctx, func() { conn.Close() }) // unblocks a read when ctx ends
		return nil
	}
	return err
}

// close closes the connection, if any, and the fetch response being read.
func (f *fetcher) close() {
	if f.batch != nil {
		_ = f.batch.Close()
		f.batch = nil
	}
	if f.conn != nil {
		f.stop()
		f.conn.Close()
		f.conn = nil
	}
}

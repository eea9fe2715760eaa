package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/anomaly"
)

// record is one anomaly-events record, or a marker that its partition
// has delivered all the history it held at start.
type record struct {
	partition int
	offset    int64
	value     []byte
	caughtUp  bool
}

// bounds are a partition's offsets at start: history is [first, end).
type bounds struct {
	partition  int
	first, end int64
}

// consume loads the retained history of every partition, then follows
// them live, and reads partitions added to the topic later from their
// first record. One reader per partition (every console sees every
// anomaly); one goroutine applies records in order, so store and alerts
// need no further coordination.
func (s *Service) consume(ctx context.Context) error {
	topic := s.cfg.Kafka.AnomaliesTopic
	if err := s.bus.WaitTopics(ctx, topic); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	parts, err := retry(ctx, s.log, "list partition offsets", s.partitionBounds)
	if err != nil {
		return err
	}
	committed, err := retry(ctx, s.log, "fetch committed offsets", func(ctx context.Context) (map[int]int64, error) {
		return s.committedOffsets(ctx, len(parts))
	})
	if err != nil {
		return err
	}
	s.prog.start(committed, parts)
	s.log.Info("alert progress of group", "group", s.cfg.Console.GroupID, "committed", fmt.Sprint(committed))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	recs := make(chan record, 256)
	var wg sync.WaitGroup
	for _, b := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.readPartition(ctx, b, recs)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.watchPartitions(ctx, len(parts), recs, &wg)
	}()
	err = s.apply(ctx, recs, len(parts))
	cancel()
	wg.Wait()
	return err
}

// watchPartitions looks for partitions added to the topic, every
// partition-watch interval once the history is loaded, and starts a reader
// (counted in wg) for each, from its first record: everything on a new
// partition is live.
func (s *Service) watchPartitions(ctx context.Context, known int, recs chan<- record, wg *sync.WaitGroup) {
	select {
	case <-s.rebuilt:
	case <-ctx.Done():
		return
	}
	t := time.NewTicker(s.opts.partitionWatch)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := s.bus.PartitionCount(ctx, s.cfg.Kafka.AnomaliesTopic)
		if err != nil {
			s.log.Debug("partition watch", "error", err)
			continue
		}
		for p := known; p < n; p++ {
			s.log.Info("partition added to anomaly-events; reading it", "partition", p)
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.readPartition(ctx, bounds{partition: p, first: kafka.FirstOffset, end: kafka.FirstOffset}, recs)
			}()
		}
		known = max(known, n)
	}
}

// readPartition sends the partition's records to recs: first its history,
// then a caught-up marker, then (once the history is applied) live records.
func (s *Service) readPartition(ctx context.Context, b bounds, recs chan<- record) {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: s.cfg.Kafka.Brokers, Topic: s.cfg.Kafka.AnomaliesTopic, Partition: b.partition,
		Dialer: s.bus.Dialer(), MinBytes: 1, MaxBytes: 16 << 20, MaxWait: s.opts.readerMaxWait,
	})
	defer r.Close()
	if err := r.SetOffset(b.first); err != nil {
		s.log.Error("set offset", "partition", b.partition, "error", err)
		return
	}
	caughtUp := b.first >= b.end
	if caughtUp && !s.markCaughtUp(ctx, b.partition, recs) {
		return
	}
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) {
				return
			}
			s.log.Warn("read anomaly-events", "partition", b.partition, "error", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		if !send(ctx, recs, record{partition: b.partition, offset: m.Offset, value: m.Value}) {
			return
		}
		if !caughtUp && m.Offset+1 >= b.end {
			caughtUp = true
			if !s.markCaughtUp(ctx, b.partition, recs) {
				return
			}
		}
	}
}

// markCaughtUp reports the end of the partition's history and waits until
// the whole history is applied, so live records get later sequences.
func (s *Service) markCaughtUp(ctx context.Context, partition int, recs chan<- record) bool {
	if !send(ctx, recs, record{partition: partition, caughtUp: true}) {
		return false
	}
	select {
	case <-s.rebuilt:
		return true
	case <-ctx.Done():
		return false
	}
}

func send(ctx context.Context, recs chan<- record, r record) bool {
	select {
	case recs <- r:
		return true
	case <-ctx.Done():
		return false
	}
}

// apply loads the history, sorted by time, then applies live records.
func (s *Service) apply(ctx context.Context, recs <-chan record, partitions int) error {
	h := &history{max: s.cfg.Console.MaxAnomalies}
	for waiting := partitions; waiting > 0; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case r := <-recs:
			if r.caughtUp {
				waiting--
				continue
			}
			if a, ok := s.accept(r, false); ok {
				h.add(a, s.store)
			}
		}
	}
	n := h.flush(s.store)
	close(s.rebuilt)
	s.log.Info("anomaly history loaded", "anomalies", n, "partitions", partitions)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case r := <-recs:
			if r.caughtUp {
				continue // from a partition added since: it has no history
			}
			if a, ok := s.accept(r, true); ok {
				s.store.add(a)
			}
		}
	}
}

// accept decodes a record and decides whether it is alerted: live records
// and history at or above the group's committed offset are; older history
// is only remembered as seen.
func (s *Service) accept(r record, live bool) (anomaly.Anomaly, bool) {
	a, err := anomaly.Decode(r.value)
	if err != nil {
		s.m.invalid.Inc()
		s.log.Warn("skipping invalid anomaly record", "partition", r.partition, "offset", r.offset, "error", err)
		s.prog.mark(r.partition, r.offset)
		return a, false
	}
	if !live && !s.prog.alertable(r.partition, r.offset) {
		s.fwd.MarkSeen(a)
		s.prog.mark(r.partition, r.offset)
		return a, true
	}
	s.prog.begin(r.partition, r.offset)
	s.fwd.Offer(a, func() { s.prog.finish(r.partition, r.offset) })
	return a, true
}

// history collects the retained anomalies, de-duplicated by id, so they
// can be stored in time order. It holds at most 2*max; the oldest beyond
// max are only tallied in their stream's summary.
type history struct {
	max int
	buf []anomaly.Anomaly
	ids map[string]bool
}

func (h *history) add(a anomaly.Anomaly, st *store) {
	if h.ids == nil {
		h.ids = make(map[string]bool)
	}
	if h.ids[a.ID] {
		return
	}
	h.ids[a.ID] = true
	h.buf = append(h.buf, a)
	if len(h.buf) >= 2*h.max {
		h.trim(st)
	}
}

func (h *history) trim(st *store) {
	sort.SliceStable(h.buf, func(i, j int) bool { return anomalyTime(h.buf[i]).Before(anomalyTime(h.buf[j])) })
	if drop := len(h.buf) - h.max; drop > 0 {
		for _, a := range h.buf[:drop] {
			st.tally(a)
			delete(h.ids, a.ID)
		}
		h.buf = append(h.buf[:0], h.buf[drop:]...)
	}
}

// flush stores what is held, oldest first, and returns the count.
func (h *history) flush(st *store) int {
	h.trim(st)
	for _, a := range h.buf {
		st.add(a)
	}
	n := len(h.buf)
	h.buf = nil
	return n
}

// partitionBounds lists each partition's first and end offsets.
func (s *Service) partitionBounds(ctx context.Context) ([]bounds, error) {
	topic := s.cfg.Kafka.AnomaliesTopic
	n, err := s.bus.PartitionCount(ctx, topic)
	if err != nil {
		return nil, err
	}
	var reqs []kafka.OffsetRequest
	for p := range n {
		reqs = append(reqs, kafka.FirstOffsetOf(p), kafka.LastOffsetOf(p))
	}
	resp, err := s.bus.Client().ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("list offsets: %w", err)
	}
	out := make([]bounds, 0, n)
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("list offsets of partition %d: %w", po.Partition, po.Error)
		}
		out = append(out, bounds{partition: po.Partition, first: po.FirstOffset, end: po.LastOffset})
	}
	if len(out) != n {
		return nil, fmt.Errorf("list offsets: %d of %d partitions answered", len(out), n)
	}
	return out, nil
}

// retry calls fn until it succeeds or ctx ends, backing off up to 5s.
func retry[T any](ctx context.Context, log *slog.Logger, what string, fn func(context.Context) (T, error)) (T, error) {
	wait := 100 * time.Millisecond
	for {
		v, err := fn(ctx)
		if err == nil {
			return v, nil
		}
		log.Warn("retrying", "what", what, "backoff", wait.String(), "error", err)
		select {
		case <-ctx.Done():
			return v, fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

package console

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// progress tracks, per partition, how far alerting got. The committed
// offset of a partition is the lowest offset whose alert is still in
// flight, or one past the highest offset handled when none is: every record
// below it was shown and, if due, alerted (or given up on).
type progress struct {
	mu        sync.Mutex
	initial   map[int]int64 // the group's committed offsets when the console started
	next      map[int]int64 // one past the highest offset handled
	pending   map[int]map[int64]int
	committed map[int]int64 // last offsets committed by this run
}

func newProgress() *progress {
	return &progress{next: map[int]int64{}, pending: map[int]map[int64]int{}, committed: map[int]int64{}}
}

// start takes the group's committed offsets and the partitions' bounds.
// A group that has committed before alerts, in each partition, the history
// from its committed offset on (all of it where the partition has no
// commit: it was empty then, or is new). A group that never committed
// alerts no history.
func (p *progress) start(committed map[int]int64, parts []bounds) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.initial = map[int]int64{}
	known := false
	for _, c := range committed {
		known = known || c >= 0
	}
	for _, b := range parts {
		c, ok := committed[b.partition]
		switch {
		case !known:
			c = b.end // nothing before the end is alerted
		case !ok || c < 0:
			c = b.first
		}
		p.initial[b.partition] = c
		p.next[b.partition] = c
	}
}

// alertable reports whether a history record is at or above the offset
// from which start decided to alert.
func (p *progress) alertable(partition int, offset int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.initial[partition]
	return ok && offset >= c
}

// mark records an offset handled with nothing left in flight.
func (p *progress) mark(partition int, offset int64) {
	p.mu.Lock()
	p.next[partition] = max(p.next[partition], offset+1)
	p.mu.Unlock()
}

// begin records an offset whose alert is in flight until finish.
func (p *progress) begin(partition int, offset int64) {
	p.mu.Lock()
	p.next[partition] = max(p.next[partition], offset+1)
	if p.pending[partition] == nil {
		p.pending[partition] = map[int64]int{}
	}
	p.pending[partition][offset]++
	p.mu.Unlock()
}

// finish ends what begin started.
func (p *progress) finish(partition int, offset int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pend := p.pending[partition]; pend != nil {
		if pend[offset]--; pend[offset] <= 0 {
			delete(pend, offset)
		}
	}
}

// due returns the offsets to commit that changed since the last commit.
func (p *progress) due() []kafka.OffsetCommit {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []kafka.OffsetCommit
	for part, next := range p.next {
		off := next
		for o := range p.pending[part] {
			off = min(off, o)
		}
		if last, ok := p.committed[part]; !ok || last != off {
			out = append(out, kafka.OffsetCommit{Partition: part, Offset: off})
		}
	}
	return out
}

func (p *progress) committedAt(offs []kafka.OffsetCommit) {
	p.mu.Lock()
	for _, o := range offs {
		p.committed[o.Partition] = o.Offset
	}
	p.mu.Unlock()
}

// committedOffsets reads the console group's committed offsets; -1 means none.
func (s *Service) committedOffsets(ctx context.Context, partitions int) (map[int]int64, error) {
	topic := s.cfg.Kafka.AnomaliesTopic
	ps := make([]int, partitions)
	for i := range ps {
		ps[i] = i
	}
	resp, err := s.bus.Client().OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: s.cfg.Console.GroupID, Topics: map[string][]int{topic: ps}})
	if err != nil {
		return nil, fmt.Errorf("fetch offsets of group %s: %w", s.cfg.Console.GroupID, err)
	}
	if errors.Is(resp.Error, kafka.GroupIdNotFound) {
		return map[int]int64{}, nil // a group that never committed
	}
	if resp.Error != nil {
		return nil, fmt.Errorf("fetch offsets of group %s: %w", s.cfg.Console.GroupID, resp.Error)
	}
	out := make(map[int]int64, partitions)
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("fetch offset of partition %d: %w", po.Partition, po.Error)
		}
		out[po.Partition] = po.CommittedOffset
	}
	return out, nil
}

// commitLoop commits alert progress every commit interval and once more
// when ctx ends.
func (s *Service) commitLoop(ctx context.Context) error {
	t := time.NewTicker(s.opts.commitInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.commit(fctx); err != nil {
				s.log.Warn("final commit of alert progress failed", "error", err)
			}
			return nil
		case <-t.C:
			if err := s.commit(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("commit alert progress", "error", err)
			}
		}
	}
}

// commit stores due offsets as a simple (generation -1) group commit.
func (s *Service) commit(ctx context.Context) error {
	offs := s.prog.due()
	if len(offs) == 0 {
		return nil
	}
	topic := s.cfg.Kafka.AnomaliesTopic
	resp, err := s.bus.Client().OffsetCommit(ctx, &kafka.OffsetCommitRequest{
		GroupID: s.cfg.Console.GroupID, GenerationID: -1,
		Topics: map[string][]kafka.OffsetCommit{topic: offs},
	})
	if err != nil {
		return fmt.Errorf("commit offsets of group %s: %w", s.cfg.Console.GroupID, err)
	}
	for _, pc := range resp.Topics[topic] {
		if pc.Error != nil {
			return fmt.Errorf("commit offset of partition %d: %w", pc.Partition, pc.Error)
		}
	}
	s.prog.committedAt(offs)
	s.log.Debug("committed alert progress", "offsets", fmt.Sprint(offs))
	return nil
}

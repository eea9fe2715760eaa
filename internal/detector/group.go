package detector

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// generation is this replica's share of one consumer group generation.
type generation struct {
	s       *Service
	gen     *kafka.Generation
	mu      sync.Mutex // serialises commits and guards runner.committed
	runners []*runner

	loadMu    sync.Mutex
	published map[int]idSet // loaded by the first partition that needs it
}

// startGeneration starts one goroutine per assigned partition and one
// committer, all owned by gen: they end when the generation ends.
func (s *Service) startGeneration(gen *kafka.Generation) {
	s.metrics.rebalances.Inc()
	assigned := gen.Assignments[s.cfg.Kafka.EventsTopic]
	sort.Slice(assigned, func(i, j int) bool { return assigned[i].ID < assigned[j].ID })
	s.metrics.partitionsHeld.Set(float64(len(assigned)))
	keep := make(map[int]bool, len(assigned))
	for _, pa := range assigned {
		keep[pa.ID] = true
	}
	s.dropKept(keep)
	g := &generation{s: s, gen: gen}
	for _, pa := range assigned {
		g.runners = append(g.runners, s.newRunner(pa.ID, pa.Offset))
	}
	s.log.Info("partitions assigned", "generation", gen.ID, "partitions", len(assigned))
	gen.Start(g.commitLoop)
	for _, r := range g.runners {
		gen.Start(func(ctx context.Context) { g.runPartition(ctx, r) })
	}
}

// newRunner prepares partition p, whose committed offset is committed
// (negative when the group never committed it). The state kept from the
// previous generation is reused only when it stands exactly at committed.
func (s *Service) newRunner(p int, committed int64) *runner {
	s.mu.Lock()
	st, ok := s.kept[p]
	delete(s.kept, p)
	s.mu.Unlock()
	if !ok || st.next != committed {
		if ok {
			s.metrics.streams.Sub(float64(st.proc.Streams()))
		}
		tab := newStreamTable(s.cfg.Detector.MaxStreams, s.scoring, s.newScorer)
		st = &partitionState{partition: p, proc: newProcessor(p, tab, s.records), next: -1}
	}
	track := newTracker(st.next)
	return &runner{
		s: s, st: st, liveFrom: committed, track: track, committed: committed,
		pub:    newPublisher(s.anomalies, s.deadWriter(), track, s.metrics, s.log),
		label:  partitionLabel(p),
		logged: make(map[string]bool),
	}
}

func (s *Service) deadWriter() messageWriter {
	if s.dead == nil {
		return nil
	}
	return s.dead
}

// runPartition processes one partition until the generation ends, then
// publishes what is queued (for at most timing.drain), commits, writes a
// checkpoint at the committed offset (for at most timing.drain again) and
// keeps the state for the next generation. The two bounds together stay
// below the group's rebalance timeout, so that a replica winding down a
// generation rejoins before the coordinator gives up on it.
func (g *generation) runPartition(ctx context.Context, r *runner) {
	s := g.s
	skip, ok := g.skipSet(ctx, r.st.partition)
	if !ok {
		s.keepOrDrop(r, -1, false)
		return
	}
	r.skip = skip
	if !s.restore(ctx, r) {
		s.keepOrDrop(r, -1, false)
		return
	}
	// The publisher and the checkpoint writer outlive ctx: they finish
	// their work after the generation ended, for at most timing.drain.
	pctx, stopPub := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPub()
	go r.pub.run(pctx)
	ck := r.st.ck
	if ck != nil {
		ck.start(func() int64 {
			g.mu.Lock()
			defer g.mu.Unlock()
			return r.committed
		})
		go ck.run(pctx, s)
	}
	if err := r.loop(ctx); err != nil {
		s.log.Error("partition stopped", "partition", r.st.partition, "error", err)
	}
	close(r.pub.in)
	if ck != nil {
		close(ck.jobs)
	}
	drain := time.AfterFunc(s.timing.drain, stopPub)
	<-r.pub.done
	if ck != nil {
		<-ck.done
	}
	drain.Stop()
	committed := g.commit(r)
	if ck != nil {
		ck.handOver(ctx, s, r.st, committed, s.timing.drain)
	}
	s.keepOrDrop(r, committed, true)
}

// skipSet returns the ids of anomalies already published for partition p
// after its committed offset, loading them for every partition of the
// generation on first use. It retries until ctx ends (ok false).
func (g *generation) skipSet(ctx context.Context, p int) (idSet, bool) {
	g.loadMu.Lock()
	defer g.loadMu.Unlock()
	b := retryBackoff()
	for g.published == nil {
		from := make(map[int]int64, len(g.runners))
		for _, r := range g.runners {
			from[r.st.partition] = r.liveFrom
		}
		published, err := g.s.publishedAfter(ctx, from)
		if err == nil {
			g.published = published
			break
		}
		if ctx.Err() != nil {
			return nil, false
		}
		g.s.log.Warn("reading published anomalies failed; retrying", "error", err)
		if !b.wait(ctx) {
			return nil, false
		}
	}
	return g.published[p], true
}

// commitLoop commits every partition's progress each commit interval.
func (g *generation) commitLoop(ctx context.Context) {
	t := time.NewTicker(g.s.timing.commitInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, r := range g.runners {
				g.commit(r)
			}
		}
	}
}

// commit commits r's highest contiguous fully-processed offset if it moved,
// and returns the offset committed for r so far.
func (g *generation) commit(r *runner) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	off, _ := r.track.committable()
	if off <= r.committed {
		return r.committed
	}
	topic := g.s.cfg.Kafka.EventsTopic
	if err := g.s.commits(g.gen, map[string]map[int]int64{topic: {r.st.partition: off}}); err != nil {
		g.s.metrics.commitErrors.Inc()
		g.s.log.Warn("commit failed", "partition", r.st.partition, "offset", off, "error", err)
		return r.committed
	}
	r.committed = off
	return off
}

// keepOrDrop keeps r's state for the next generation when it stands
// exactly at the committed offset, and drops it otherwise.
func (s *Service) keepOrDrop(r *runner, committed int64, graceful bool) {
	off, idle := r.track.committable()
	s.mu.Lock()
	defer s.mu.Unlock()
	if graceful && idle && off == r.st.next && off == committed && off >= 0 {
		s.kept[r.st.partition] = r.st
		return
	}
	s.metrics.streams.Sub(float64(r.st.proc.Streams()))
	s.metrics.lag.DeleteLabelValues(r.label)
}

// dropKept drops kept states of partitions not in keep (all when nil).
func (s *Service) dropKept(keep map[int]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, st := range s.kept {
		if !keep[p] {
			s.metrics.streams.Sub(float64(st.proc.Streams()))
			s.metrics.lag.DeleteLabelValues(partitionLabel(p))
			delete(s.kept, p)
		}
	}
}

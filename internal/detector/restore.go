package detector

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
)

// restored is what loadCheckpoint found for a partition.
type restored struct {
	proc *Processor // nil when no usable checkpoint stands at or before the committed offset
	next int64      // the offset proc stands before
	gen  uint64     // the generation the partition's next checkpoint takes
	// chunks are the chunk counts the two slots hold.
	chunks [2]int
}

// loadCheckpoint reads partition p's checkpoints from the state topic and
// restores the latest complete one standing at or before committed. A
// checkpoint that is torn, corrupt or written under other settings is
// logged, counted and passed over. The error is a failure to read the
// topic.
func (s *Service) loadCheckpoint(ctx context.Context, p int, committed int64) (restored, error) {
	prefix := s.statePrefix(p)
	latest := map[string][]byte{}
	err := s.scanPartition(ctx, s.cfg.Detector.StateTopic, p%s.stateParts, func(msg kafka.Message) {
		if k := string(msg.Key); len(k) > len(prefix) && k[:len(prefix)] == prefix {
			if msg.Value == nil {
				delete(latest, k[len(prefix):])
			} else {
				latest[k[len(prefix):]] = msg.Value
			}
		}
	})
	if err != nil {
		return restored{}, err
	}
	var found []manifest
	var slots []int
	out := restored{gen: 1}
	for k := range latest {
		var slot, chunk int
		if n, _ := fmt.Sscanf(k, "%d/%d", &slot, &chunk); n == 2 && (slot == 0 || slot == 1) {
			out.chunks[slot] = max(out.chunks[slot], chunk+1)
		}
	}
	for slot := range 2 {
		v, ok := latest[strconv.Itoa(slot)+"/manifest"]
		if !ok {
			continue
		}
		m, err := decodeManifest(v)
		if err != nil || m.gen%2 != uint64(slot) {
			s.rejectCheckpoint(p, slot, fmt.Errorf("bad manifest: %v", err))
			continue
		}
		out.gen = max(out.gen, m.gen+1)
		found, slots = append(found, m), append(slots, slot)
	}
	order := []int{0, 1}[:len(found)]
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(found[b].offset, found[a].offset) })
	for _, i := range order {
		m := found[i]
		if m.offset > committed {
			continue // its records are not all committed: their anomalies may be unpublished
		}
		proc, next, err := s.assemble(p, slots[i], m, latest)
		if err != nil {
			s.rejectCheckpoint(p, slots[i], err)
			continue
		}
		out.proc, out.next = proc, next
		return out, nil
	}
	return out, nil
}

// assemble checks and decodes the checkpoint of slot described by m.
func (s *Service) assemble(p, slot int, m manifest, latest map[string][]byte) (*Processor, int64, error) {
	var data []byte
	for i := range m.chunks {
		v, ok := latest[strconv.Itoa(slot)+"/"+strconv.Itoa(i)]
		if !ok {
			return nil, 0, fmt.Errorf("chunk %d of %d missing", i, m.chunks)
		}
		d := stateDecoder{b: bytes.TrimPrefix(v, []byte(chunkMagic))}
		gen, idx := d.uvarint(), d.uvarint()
		if len(d.b) == len(v) || d.err != nil || gen != m.gen || idx != uint64(i) {
			return nil, 0, fmt.Errorf("chunk %d is not of generation %d (torn write)", i, m.gen)
		}
		data = append(data, d.b...)
	}
	if sha256.Sum256(data) != m.sum {
		return nil, 0, fmt.Errorf("checksum mismatch over %d chunks (torn write)", m.chunks)
	}
	state, err := zstdDecoder.DecodeAll(data, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("decompress: %w", err)
	}
	proc, next, err := s.restoreState(p, state)
	if err == nil && next != m.offset {
		err = fmt.Errorf("state at offset %d, manifest says %d", next, m.offset)
	}
	return proc, next, err
}

func (s *Service) rejectCheckpoint(p, slot int, err error) {
	s.metrics.restores.WithLabelValues("rejected").Inc()
	s.log.Warn("checkpoint unusable; passing over it", "partition", p, "slot", slot, "error", err)
}

// prepareStateTopic creates the state topic when missing, with as many
// partitions as the events topic, and learns its partition count. It
// retries until ctx ends while Kafka fails.
func (s *Service) prepareStateTopic(ctx context.Context) error {
	if s.state == nil {
		return nil
	}
	backoff := 100 * time.Millisecond
	for {
		err := s.tryPrepareStateTopic(ctx)
		if err == nil {
			return nil
		}
		s.log.Warn("preparing the state topic failed; retrying", "topic", s.cfg.Detector.StateTopic, "error", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (s *Service) tryPrepareStateTopic(ctx context.Context) error {
	n, err := s.bus.PartitionCount(ctx, s.cfg.Kafka.EventsTopic)
	if err != nil {
		return err
	}
	if err := s.bus.EnsureCompactedTopic(ctx, s.cfg.Detector.StateTopic, n); err != nil {
		return err
	}
	parts, err := s.bus.PartitionCount(ctx, s.cfg.Detector.StateTopic)
	if err == nil && parts < 1 {
		err = fmt.Errorf("topic %s has no partitions", s.cfg.Detector.StateTopic)
	}
	s.stateParts = parts
	return err
}

// restore prepares r's checkpointer and, when r's state must be rebuilt
// and offsets were committed, restores the latest usable checkpoint at or
// before the committed offset, so that only the records after it are
// replayed. Without one the whole retained partition is replayed. It
// retries reading the state topic until ctx ends (false).
func (s *Service) restore(ctx context.Context, r *runner) bool {
	if s.state == nil {
		return true
	}
	if r.st.ck == nil {
		r.st.ck = &checkpointer{every: s.cfg.Detector.CheckpointRecords, gen: 1}
	}
	if r.st.next >= 0 || r.liveFrom <= 0 {
		return true
	}
	began := time.Now()
	p := r.st.partition
	backoff := 100 * time.Millisecond
	res, err := s.loadCheckpoint(ctx, p, r.liveFrom)
	for err != nil {
		if ctx.Err() != nil {
			return false
		}
		s.log.Warn("reading checkpoints failed; retrying", "partition", p, "error", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
		res, err = s.loadCheckpoint(ctx, p, r.liveFrom)
	}
	r.st.ck.gen, r.st.ck.chunks = res.gen, res.chunks
	if res.proc == nil {
		s.metrics.restores.WithLabelValues("none").Inc()
		return true
	}
	r.st.proc, r.st.next = res.proc, res.next
	r.track.restart(res.next)
	s.metrics.streams.Add(float64(res.proc.Streams()))
	s.metrics.restores.WithLabelValues("restored").Inc()
	s.metrics.restoreDuration.Observe(time.Since(began).Seconds())
	s.log.Info("partition state restored from checkpoint", "partition", p, "offset", res.next,
		"committed", r.liveFrom, "streams", res.proc.Streams(), "duration", time.Since(began))
	return true
}

package detector

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/varbytes"
)

// restored is what loadCheckpoint found for a partition.
type restored struct {
	proc *Processor // nil when no usable checkpoint stands at or before the committed offset
	next int64      // the offset proc stands before
	gen  uint64     // the generation the partition's next checkpoint takes
	// chunks are the chunk counts the two slots hold, offsets the offsets
	// their checkpoints stand before (-1: none; math.MaxInt64: unusable).
	chunks  [2]int
	offsets [2]int64
}

// loadCheckpoint reads partition p's checkpoints from the state topic and
// restores the latest complete one standing at or before committed. A
// checkpoint that is torn, corrupt or written under other settings is
// logged, counted and passed over. The error is a failure to read the
// topic.
//
// The state partition is read from its end backwards, in windows that
// double, until the window holds both slots' manifests and the chunks of
// the checkpoint chosen (or reaches the partition's start): the latest
// checkpoints are at the end of the log, so what is read depends on the
// size of a checkpoint, not on how much compaction left behind.
func (s *Service) loadCheckpoint(ctx context.Context, p int, committed int64) (restored, error) {
	topic, sp, prefix := s.cfg.Detector.StateTopic, p%s.stateParts, s.statePrefix(p)
	first, end, err := s.partitionBounds(ctx, topic, sp)
	if err != nil {
		return restored{}, err
	}
	latest := map[string][]byte{} // the latest value of each key read; empty for a tombstone
	for start, step := end, int64(64); ; step *= 2 {
		from := max(first, start-step)
		older := map[string][]byte{}
		err := s.scanRange(ctx, topic, sp, from, start, func(msg kafka.Message) {
			if k, ok := strings.CutPrefix(string(msg.Key), prefix); ok {
				older[k] = msg.Value
			}
		})
		if err != nil {
			return restored{}, err
		}
		for k, v := range older {
			if _, newer := latest[k]; !newer {
				latest[k] = v
			}
		}
		start = from
		if res, rejected, ok := s.pickCheckpoint(p, committed, latest, start == first); ok {
			for _, r := range rejected {
				s.rejectCheckpoint(p, r.slot, r.err)
			}
			return res, nil
		}
	}
}

// rejection is a checkpoint passed over.
type rejection struct {
	slot int
	err  error
}

// errChunkMissing marks a chunk not among the records read.
var errChunkMissing = errors.New("chunk missing")

// pickCheckpoint restores the latest usable checkpoint at or before
// committed among latest. ok is false when records older than those read
// may change the answer (all is false, and a slot's manifest or a chunk
// of the checkpoint chosen was not read yet).
func (s *Service) pickCheckpoint(p int, committed int64, latest map[string][]byte, all bool) (out restored, rejected []rejection, ok bool) {
	out.gen, out.offsets = 1, [2]int64{-1, -1}
	for k := range latest {
		var slot, chunk int
		if n, _ := fmt.Sscanf(k, "%d/%d", &slot, &chunk); n == 2 && (slot == 0 || slot == 1) {
			out.chunks[slot] = max(out.chunks[slot], chunk+1)
		}
	}
	type slotManifest struct {
		manifest
		slot int
	}
	var found []slotManifest
	for slot := range 2 {
		v := latest[strconv.Itoa(slot)+"/manifest"]
		if len(v) == 0 {
			if !all {
				return out, nil, false
			}
			continue
		}
		m, err := decodeManifest(v)
		if err != nil {
			out.offsets[slot] = math.MaxInt64
			rejected = append(rejected, rejection{slot, fmt.Errorf("bad manifest: %w", err)})
			continue
		}
		out.gen = max(out.gen, m.gen+1)
		out.offsets[slot] = m.offset
		found = append(found, slotManifest{m, slot})
	}
	slices.SortFunc(found, func(a, b slotManifest) int { return cmp.Compare(b.offset, a.offset) })
	for _, sm := range found {
		m, slot := sm.manifest, sm.slot
		if m.offset > committed {
			continue // its records are not all committed: their anomalies may be unpublished
		}
		proc, next, err := s.assemble(p, slot, m, latest)
		if errors.Is(err, errChunkMissing) && !all {
			return out, nil, false
		}
		if err != nil {
			out.offsets[slot] = math.MaxInt64
			rejected = append(rejected, rejection{slot, err})
			continue
		}
		out.proc, out.next = proc, next
		return out, rejected, true
	}
	return out, rejected, true
}

// assemble checks and decodes the checkpoint of slot described by m.
func (s *Service) assemble(p, slot int, m manifest, latest map[string][]byte) (*Processor, int64, error) {
	var data []byte
	for i := range m.chunks {
		v := latest[strconv.Itoa(slot)+"/"+strconv.Itoa(i)]
		if len(v) == 0 {
			return nil, 0, fmt.Errorf("%w: %d of %d", errChunkMissing, i, m.chunks)
		}
		rest, ok := bytes.CutPrefix(v, []byte(chunkMagic))
		d := varbytes.NewReader(rest)
		gen, idx := d.Uvarint(), d.Uvarint()
		if !ok || d.Err() != nil || gen != m.gen || idx != uint64(i) {
			return nil, 0, fmt.Errorf("chunk %d is not of generation %d (torn write)", i, m.gen)
		}
		data = append(data, d.Rest()...)
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
	b := retryBackoff()
	for {
		err := s.tryPrepareStateTopic(ctx)
		if err == nil {
			return nil
		}
		s.log.Warn("preparing the state topic failed; retrying", "topic", s.cfg.Detector.StateTopic, "error", err)
		if !b.wait(ctx) {
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		}
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
		r.st.ck = &checkpointer{every: s.cfg.Detector.CheckpointRecords, gen: 1, offsets: [2]int64{-1, -1}}
	}
	if r.st.next >= 0 || r.liveFrom <= 0 {
		return true
	}
	began := time.Now()
	p := r.st.partition
	b := retryBackoff()
	res, err := s.loadCheckpoint(ctx, p, r.liveFrom)
	for err != nil {
		if ctx.Err() != nil {
			return false
		}
		s.log.Warn("reading checkpoints failed; retrying", "partition", p, "error", err)
		if !b.wait(ctx) {
			return false
		}
		res, err = s.loadCheckpoint(ctx, p, r.liveFrom)
	}
	r.st.ck.gen, r.st.ck.chunks, r.st.ck.offsets = res.gen, res.chunks, res.offsets
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

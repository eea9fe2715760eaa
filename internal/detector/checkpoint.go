package detector

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/varbytes"
)

// Checkpoints: every detector.checkpoint_records records, a partition's
// state (see appendState) is compressed and written to the compacted state
// topic, split into chunks of at most checkpointChunk bytes, then a
// manifest that names the offset it stands before, its generation, chunk
// count and SHA-256. Of the partition's two slots, a checkpoint goes into
// the one holding the older checkpoint, unless the newer one still stands
// beyond the committed offset (or is torn): then it replaces that one. So
// the slot not being written always holds a complete checkpoint at or
// before the committed offset, once one was written. A crash while writing
// leaves a slot whose chunks do not match its manifest (other generation
// or checksum); restore then uses the other slot. Keys, all on state
// partition p%n of n:
//
//	<group>/<events topic>/<p>/<slot>/<chunk>     chunk i of the slot
//	<group>/<events topic>/<p>/<slot>/manifest    written after its chunks
//
// A checkpoint is a pure function of the records before its offset, so any
// replica may write it, and restoring one and replaying the records after
// it rebuilds exactly the state a full replay would.

const (
	chunkMagic    = "DLC1"
	manifestMagic = "DLM1"
	// defaultCheckpointChunk bounds a chunk well below Kafka's default
	// message size limit of 1 MB.
	defaultCheckpointChunk = 512 << 10
)

var zstdEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
var zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(4<<30))

// statePrefix is the key prefix of partition p's checkpoints.
func (s *Service) statePrefix(p int) string {
	return s.cfg.Detector.GroupID + "/" + s.cfg.Kafka.EventsTopic + "/" + strconv.Itoa(p) + "/"
}

// statePartitioner sends a checkpoint record to state partition p%n, p
// being the events partition its key names.
type statePartitioner struct{}

func (statePartitioner) Balance(msg kafka.Message, partitions ...int) int {
	parts := strings.Split(string(msg.Key), "/")
	p := 0
	if len(parts) >= 3 {
		p, _ = strconv.Atoi(parts[len(parts)-3])
	}
	return partitions[p%len(partitions)]
}

// manifest describes the checkpoint held by one slot.
type manifest struct {
	gen    uint64
	offset int64
	chunks int
	sum    [sha256.Size]byte
}

func (m manifest) encode() []byte {
	b := varbytes.AppendUvarint([]byte(manifestMagic), m.gen)
	b = varbytes.AppendVarint(b, m.offset)
	b = varbytes.AppendUvarint(b, uint64(m.chunks))
	return append(b, m.sum[:]...)
}

func decodeManifest(b []byte) (manifest, error) {
	var m manifest
	rest, ok := bytes.CutPrefix(b, []byte(manifestMagic))
	if !ok {
		return m, errors.New("not a checkpoint manifest")
	}
	d := varbytes.NewReader(rest)
	m.gen, m.offset = d.Uvarint(), d.Varint()
	chunks := d.Uvarint()
	copy(m.sum[:], d.Take(sha256.Size))
	if d.Err() == nil && (d.Len() != 0 || chunks == 0 || chunks > 1<<20 || m.offset < 0) {
		d.Failf("manifest of %d chunks at offset %d", chunks, m.offset)
	}
	m.chunks = int(chunks)
	return m, d.Err()
}

// checkpointJob is one partition state to write.
type checkpointJob struct {
	partition int
	slot      int
	gen       uint64
	offset    int64
	state     []byte
	began     time.Time
}

// writeCheckpointInto compresses and writes job's state into its slot,
// then its manifest, and tombstones the slot's chunks beyond the new count
// (prev is the count it held). It returns the chunk count written and
// zbuf's storage, which it compressed into, for reuse.
func (s *Service) writeCheckpointInto(ctx context.Context, job checkpointJob, prev int, zbuf []byte) (int, []byte, error) {
	data := zstdEncoder.EncodeAll(job.state, zbuf[:0])
	zbuf = data
	prefix := s.statePrefix(job.partition) + strconv.Itoa(job.slot) + "/"
	m := manifest{gen: job.gen, offset: job.offset, sum: sha256.Sum256(data)}
	var msgs []kafka.Message
	size := len(data)
	for i := 0; i == 0 || len(data) > 0; i++ {
		n := min(len(data), s.checkpointChunk)
		v := varbytes.AppendUvarint(varbytes.AppendUvarint([]byte(chunkMagic), job.gen), uint64(i))
		msgs = append(msgs, kafka.Message{Key: []byte(prefix + strconv.Itoa(i)), Value: append(v, data[:n]...)})
		data = data[n:]
	}
	m.chunks = len(msgs)
	if err := s.state.WriteMessages(ctx, msgs...); err != nil {
		return 0, zbuf, fmt.Errorf("write checkpoint chunks: %w", err)
	}
	if err := s.state.WriteMessages(ctx, kafka.Message{Key: []byte(prefix + "manifest"), Value: m.encode()}); err != nil {
		return 0, zbuf, fmt.Errorf("write checkpoint manifest: %w", err)
	}
	var stale []kafka.Message
	for i := m.chunks; i < prev; i++ {
		stale = append(stale, kafka.Message{Key: []byte(prefix + strconv.Itoa(i))})
	}
	if len(stale) > 0 {
		if err := s.state.WriteMessages(ctx, stale...); err != nil {
			s.log.Warn("removing stale checkpoint chunks failed", "partition", job.partition, "error", err)
		}
	}
	s.metrics.checkpointBytes.Observe(float64(size))
	return m.chunks, zbuf, nil
}

// checkpointer writes a partition's checkpoints. It belongs to the
// partition's state and outlives generations; its writer goroutine runs
// for one generation at a time.
type checkpointer struct {
	every int // records between two checkpoints
	since int // records since the last checkpoint was taken
	// gen is the generation the next checkpoint takes; chunks and offsets
	// are the chunk counts of the two slots and the offsets their
	// checkpoints stand before, as far as known (-1: none; math.MaxInt64:
	// torn). They belong to the writer goroutine while it runs.
	gen     uint64
	chunks  [2]int
	offsets [2]int64
	// committed returns the partition's committed offset.
	committed func() int64
	busy      atomic.Bool // a checkpoint is being written
	// buf is the storage of the latest state encoded, reused for the next
	// once it is written (handed over by busy); zbuf that of its
	// compressed form, the writer's own.
	buf, zbuf []byte
	jobs      chan checkpointJob
	done      chan struct{}
}

// after is called on the partition's goroutine once the record before
// st.next was processed. Every ck.every records, when no checkpoint is
// being written, it encodes the state and hands it to the writer. The
// encoding is the one part that holds up processing.
func (ck *checkpointer) after(st *partitionState) {
	ck.since++
	if ck.since < ck.every || ck.busy.Load() {
		return
	}
	ck.since = 0
	ck.busy.Store(true)
	began := time.Now()
	ck.jobs <- checkpointJob{partition: st.partition, offset: st.next, state: st.proc.appendState(ck.buf[:0], st.next), began: began}
}

// run writes the checkpoints handed to it until jobs is closed. A failed
// write keeps its generation, so that the next checkpoint rewrites the
// slot it may have torn rather than the one holding the latest complete
// checkpoint.
func (ck *checkpointer) run(ctx context.Context, s *Service) {
	defer close(ck.done)
	for job := range ck.jobs {
		ck.write(ctx, s, job)
		ck.busy.Store(false)
	}
}

// write writes job into the slot it chooses, counts the outcome and keeps
// job's state storage for the next checkpoint. It reports whether the
// checkpoint is complete.
func (ck *checkpointer) write(ctx context.Context, s *Service, job checkpointJob) bool {
	job.gen, job.slot = ck.gen, ck.slot()
	ck.gen++
	n, zbuf, err := s.writeCheckpointInto(ctx, job, ck.chunks[job.slot], ck.zbuf)
	ck.zbuf, ck.buf = zbuf, job.state
	ck.offsets[job.slot] = math.MaxInt64 // until it is known complete
	if err != nil {
		s.metrics.checkpoints.WithLabelValues("failed").Inc()
		s.log.Warn("checkpoint failed", "partition", job.partition, "offset", job.offset, "error", err)
		return false
	}
	ck.chunks[job.slot], ck.offsets[job.slot] = n, job.offset
	s.metrics.checkpoints.WithLabelValues("written").Inc()
	s.metrics.checkpointWrite.Observe(time.Since(job.began).Seconds())
	return true
}

// handOver writes a checkpoint at committed, the offset the partition's
// next owner starts from, when the state stands exactly there and no
// checkpoint of the partition does yet: the next owner then restores it
// and replays nothing. It runs on the partition's goroutine once the
// generation ended, its offsets were committed and the writer goroutine
// returned, and gives up after timeout, so that a slow state topic delays
// the rebalance by at most that. A failed write leaves the latest complete
// checkpoint standing, as a crash would. It follows a commit the group
// accepted, so the replica still belonged to the generation; the bounds
// (see runPartition) end the write before the coordinator, waiting for the
// replica to rejoin, could give the partition to another.
func (ck *checkpointer) handOver(ctx context.Context, s *Service, st *partitionState, committed int64, timeout time.Duration) {
	if committed <= 0 || st.next != committed || ck.offsets[0] == committed || ck.offsets[1] == committed {
		return
	}
	began := time.Now()
	job := checkpointJob{partition: st.partition, offset: committed, state: st.proc.appendState(ck.buf[:0], committed), began: began}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if ck.write(ctx, s, job) {
		ck.since = 0
		s.log.Debug("hand-over checkpoint written", "partition", st.partition, "offset", committed,
			"duration", time.Since(began))
	}
}

// slot returns the slot the next checkpoint goes into: the one not
// holding the newer checkpoint, unless that one is not usable yet (beyond
// the committed offset, or torn) and may be replaced.
func (ck *checkpointer) slot() int {
	newer := 0
	if ck.offsets[1] > ck.offsets[0] {
		newer = 1
	}
	if ck.offsets[newer] < 0 || ck.offsets[newer] > ck.committed() {
		return newer
	}
	return 1 - newer
}

// start readies the checkpointer for one generation whose committed
// offsets committed reports.
func (ck *checkpointer) start(committed func() int64) {
	ck.committed = committed
	ck.jobs, ck.done = make(chan checkpointJob, 1), make(chan struct{})
	ck.busy.Store(false)
}

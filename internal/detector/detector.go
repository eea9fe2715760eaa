// Package detector is the detector service: replicas in one consumer group
// read otlp-events, keep per-stream sliding windows, judge them with the
// scoring core (internal/cbad) and publish anomalies to anomaly-events.
//
// # Exactness
//
// The anomalies published are exactly those one uninterrupted replica would
// publish, whatever the number of replicas, rebalances, restarts or crashes:
// same ids, none missing, none twice. Three rules give this.
//
//  1. State is a pure function of the partition. Streams are keyed by record
//     key, and every record of a stream lives on one partition. A partition's
//     state (its streams' windows, incidents and history, the max_streams
//     eviction order) depends only on the sequence of its records, never on
//     the replica, wall clock or other partitions. Every
//     detector.checkpoint_records records it is written to the compacted
//     state topic (detector.state_topic) as a checkpoint that names the
//     offset it stands before (see checkpoint.go). When a partition is
//     assigned with committed offset C, its state is rebuilt from the latest
//     complete checkpoint standing at or before C (written under the same
//     scoring settings), or from the partition's first retained offset when
//     there is none, by replaying the records up to C-1 without publishing;
//     from C on, records are processed and their anomalies published. A
//     replica that gives up a partition in an orderly way (revoked in a
//     rebalance, or shutting down) writes a checkpoint at the offset it
//     committed last, so that the next owner replays nothing. A replica
//     that keeps a partition across a rebalance and whose state is exactly
//     at C skips both restore and replay.
//  2. Commit after acknowledgement. Offset O is committed only when every
//     record before O was processed and every anomaly or dead letter derived
//     from it was acknowledged by Kafka (acks=all); see tracker. Anomalies
//     from records before C are therefore on the topic, and replay must not
//     publish them.
//  3. No republishing. A replica can crash after an anomaly was acknowledged
//     and before its offset was committed. On assignment the new owner reads
//     anomaly-events and skips ids it finds for the partition with
//     window.last_offset >= C.
//
// detector.max_streams therefore bounds the streams of each partition, not
// of a replica (a replica holds at most max_streams times the partitions it
// is assigned): a per-replica bound would make results depend on how
// partitions are spread over replicas.
//
// A checkpoint is written into one of two slots per partition, never the
// one holding the only complete checkpoint at or before the committed
// offset, its chunks first and its manifest (offset, chunk count,
// generation, SHA-256) last, so a replica that dies while writing one
// leaves a slot whose chunks do not match its manifest; restore passes
// over it and uses the other slot. Since a checkpoint is a pure function
// of the records before its offset, restoring it and replaying the rest
// gives exactly the state a full replay gives, and records deleted by
// retention before the checkpoint are not needed.
//
// Limits: assignment costs reading the partition's latest checkpoints
// (about two states' worth, read from the end of the state topic) and
// replaying the records after the checkpoint: none after an orderly hand
// over; after a crash (or a hand-over checkpoint that failed or took
// longer than its bound) about checkpoint_records of them, twice that when
// the latest checkpoint lies beyond C, whatever the retention. Every
// rebalance costs each replica a checkpoint of every partition it held
// whose state moved since its latest one. Encoding a checkpoint holds up the partition for a moment
// (compression and writing run beside it; a checkpoint falls due again
// only once the previous one is written). Exactness holds while retention
// keeps the records after the checkpoint that is restored; without a
// usable checkpoint (checkpoints off, torn, corrupt, written under other
// settings, or all beyond C) the whole retained partition is replayed, and
// is exact only if retention still holds every record a stream's state
// depends on. Adding partitions to the events topic moves streams between
// partitions and restarts their windows. A replica that lost its
// membership but keeps publishing (a zombie) can still duplicate, as can a
// produce retry after a lost acknowledgement; ids let readers drop such
// copies. Dead letters are at least once: they are not deduplicated.
package detector

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/admin"
	"github.com/driftlock/driftlock/internal/cbad"
	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/kafkabus"
)

// Service is one detector replica.
type Service struct {
	cfg       config.Config
	bus       *kafkabus.Bus
	log       *slog.Logger
	reg       *prometheus.Registry
	metrics   *metrics
	admin     *admin.Server
	anomalies writeCloser // anomaly-events
	dead      writeCloser // the dead-letter topic; nil when none is set
	state     writeCloser // the state topic; nil when checkpoints are off
	// stateParts is the state topic's partition count (set by Run), and
	// checkpointChunk the most bytes of a checkpoint in one record.
	stateParts      int
	checkpointChunk int
	// commits commits offsets for a generation; (*kafka.Generation).CommitOffsets.
	commits   func(gen *kafka.Generation, offsets map[string]map[int]int64) error
	records   recordBuilder
	scoring   cbad.Config
	newScorer scorerFactory
	timing    timing

	mu   sync.Mutex
	kept map[int]*partitionState // states carried from one generation to the next

	runCalled atomic.Bool
}

// timing holds the intervals of the consumer group and the readers.
// partitionWatch is how often the group looks for partitions added to the
// events topic; a change starts a rebalance that assigns them.
type timing struct {
	heartbeat, session, rebalance, joinBackoff time.Duration
	maxWait, commitInterval, drain             time.Duration
	partitionWatch                             time.Duration
}

var defaultTiming = timing{
	heartbeat: 3 * time.Second, session: 30 * time.Second, rebalance: 30 * time.Second,
	joinBackoff: 2 * time.Second, maxWait: 500 * time.Millisecond,
	commitInterval: time.Second, drain: 10 * time.Second, partitionWatch: 5 * time.Second,
}

// Option changes a default of New.
type Option func(*Service)

// WithClock sets the clock that stamps detected_at. Default time.Now.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.records.clock = now } }

// WithVersion sets detector.version in anomalies. Default "dev".
func WithVersion(v string) Option { return func(s *Service) { s.records.version = v } }

// New checks cfg, prepares the writers and binds the admin listener
// (detector.admin_endpoint). Nothing talks to Kafka before Run.
func New(cfg config.Config, bus *kafkabus.Bus, log *slog.Logger, opts ...Option) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{
		cfg: cfg, bus: bus, log: log, reg: admin.NewRegistry(),
		records: newRecordBuilder(cfg.Detector, "dev", time.Now),
		scoring: cfg.Detector.Scoring(), newScorer: newCBADScorer, timing: defaultTiming,
		kept:            make(map[int]*partitionState),
		commits:         (*kafka.Generation).CommitOffsets,
		checkpointChunk: defaultCheckpointChunk,
	}
	for _, o := range opts {
		o(s)
	}
	if err := s.scoring.Validate(); err != nil {
		return nil, fmt.Errorf("detector scoring settings: %w", err)
	}
	s.metrics = newMetrics(s.reg)
	anomalies, err := bus.NewWriter(cfg.Kafka.AnomaliesTopic, kafkabus.WriterOptions{})
	if err != nil {
		return nil, err
	}
	s.anomalies = anomalies
	if cfg.Kafka.DeadLetterTopic != "" {
		dead, err := bus.NewWriter(cfg.Kafka.DeadLetterTopic, kafkabus.WriterOptions{})
		if err != nil {
			s.closeWriters()
			return nil, err
		}
		s.dead = dead
	}
	if cfg.Detector.CheckpointRecords > 0 {
		state, err := bus.NewWriter(cfg.Detector.StateTopic, kafkabus.WriterOptions{})
		if err != nil {
			s.closeWriters()
			return nil, err
		}
		state.Balancer = statePartitioner{}
		// One chunk per produce batch: brokers refuse batches above their
		// max.message.bytes (1 MiB by default).
		state.BatchBytes = 1_000_000
		s.state = state
	}
	mux := http.NewServeMux()
	admin.Handle(mux, s.reg, func(ctx context.Context) error { return bus.Ping(ctx, cfg.Kafka.EventsTopic) })
	if s.admin, err = admin.Listen(cfg.Detector.AdminEndpoint, mux); err != nil {
		s.closeWriters()
		return nil, fmt.Errorf("detector.admin_endpoint: %w", err)
	}
	return s, nil
}

// AdminAddr is the address serving /metrics, /healthz and /readyz.
func (s *Service) AdminAddr() string { return s.admin.Addr() }

// Run joins the consumer group and processes assigned partitions until ctx
// ends. Then it stops fetching, finishes the record in hand, publishes what
// is queued (for at most 10 s), commits, writes a checkpoint of each
// partition at its committed offset (for at most 10 s more), leaves the
// group and returns nil.
// Run may be called once.
func (s *Service) Run(ctx context.Context) error {
	if s.runCalled.Swap(true) {
		return fmt.Errorf("detector: Run called twice")
	}
	adminCtx, stopAdmin := context.WithCancel(context.Background())
	adminDone := make(chan error, 1)
	go func() { adminDone <- s.admin.Run(adminCtx) }()
	defer func() {
		stopAdmin()
		<-adminDone
		s.closeWriters()
	}()

	topics := []string{s.cfg.Kafka.EventsTopic, s.cfg.Kafka.AnomaliesTopic}
	if s.cfg.Kafka.DeadLetterTopic != "" {
		topics = append(topics, s.cfg.Kafka.DeadLetterTopic)
	}
	if err := s.bus.WaitTopics(ctx, topics...); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("detector: %w", err)
	}
	if err := s.prepareStateTopic(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("detector: %w", err)
	}
	cg, err := kafka.NewConsumerGroup(s.groupConfig())
	if err != nil {
		return fmt.Errorf("detector: consumer group: %w", err)
	}
	s.consume(ctx, cg)
	cg.Close() // ends the generation, waits for its partitions, leaves the group
	s.dropKept(nil)
	s.metrics.partitionsHeld.Set(0)
	return nil
}

// consume follows the group's generations until ctx ends.
func (s *Service) consume(ctx context.Context, cg *kafka.ConsumerGroup) {
	for {
		gen, err := cg.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("consumer group", "error", err)
			continue
		}
		s.startGeneration(gen)
	}
}

func (s *Service) groupConfig() kafka.ConsumerGroupConfig {
	return kafka.ConsumerGroupConfig{
		ID:                     s.cfg.Detector.GroupID,
		Brokers:                s.cfg.Kafka.Brokers,
		Dialer:                 s.bus.Dialer(),
		Topics:                 []string{s.cfg.Kafka.EventsTopic},
		HeartbeatInterval:      s.timing.heartbeat,
		SessionTimeout:         s.timing.session,
		RebalanceTimeout:       s.timing.rebalance,
		JoinGroupBackoff:       s.timing.joinBackoff,
		WatchPartitionChanges:  true,
		PartitionWatchInterval: s.timing.partitionWatch,
		StartOffset:            kafka.FirstOffset,
		ErrorLogger:            kafka.LoggerFunc(s.kafkaError),
	}
}

// newFetcher returns the reader of partition p of the events topic from
// offset next (its first retained offset when next is negative).
func (s *Service) newFetcher(p int, next int64) *fetcher {
	if next < 0 {
		next = kafka.FirstOffset
	}
	return &fetcher{
		dialer: s.bus.Dialer(), brokers: s.cfg.Kafka.Brokers, topic: s.cfg.Kafka.EventsTopic,
		partition: p, maxWait: s.timing.maxWait, log: s.log, offset: next,
	}
}

func (s *Service) kafkaError(format string, args ...any) {
	s.log.Debug("kafka client", "message", fmt.Sprintf(format, args...))
}

func (s *Service) closeWriters() {
	if err := s.anomalies.Close(); err != nil {
		s.log.Warn("close anomalies writer", "error", err)
	}
	if s.dead != nil {
		if err := s.dead.Close(); err != nil {
			s.log.Warn("close dead-letter writer", "error", err)
		}
	}
	if s.state != nil {
		if err := s.state.Close(); err != nil {
			s.log.Warn("close state writer", "error", err)
		}
	}
}

// Close releases the admin listener and the writers of a Service whose Run
// was never called; after Run it does nothing.
func (s *Service) Close() error {
	if s.runCalled.Swap(true) {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.admin.Run(ctx)
	s.closeWriters()
	return err
}

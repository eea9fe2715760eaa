// Package kafkabus builds the kafka-go clients every DriftLock service uses
// from one configuration: TLS, SASL, compression, client id, topic creation
// and a readiness probe.
package kafkabus

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol/metadata"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/driftlock/driftlock/internal/config"
)

// Bus holds the connection settings shared by a service's readers and writers.
type Bus struct {
	cfg       config.Kafka
	tls       *tls.Config
	mechanism sasl.Mechanism
	transport *kafka.Transport
	dialer    *kafka.Dialer
	ping      pingCache
}

// New prepares TLS and SASL from cfg. It does not connect.
func New(cfg config.Kafka) (*Bus, error) {
	b := &Bus{cfg: cfg}
	var err error
	if b.tls, err = tlsConfig(cfg); err != nil {
		return nil, err
	}
	if b.mechanism, err = saslMechanism(cfg.SASL); err != nil {
		return nil, err
	}
	b.transport = &kafka.Transport{
		ClientID:    cfg.ClientID,
		TLS:         b.tls,
		SASL:        b.mechanism,
		DialTimeout: 5 * time.Second,
		IdleTimeout: 30 * time.Second,
		MetadataTTL: 10 * time.Second,
	}
	b.dialer = &kafka.Dialer{
		ClientID:      cfg.ClientID,
		Timeout:       10 * time.Second,
		DualStack:     true,
		TLS:           b.tls,
		SASLMechanism: b.mechanism,
	}
	return b, nil
}

// Config returns the Kafka configuration the bus was built from.
func (b *Bus) Config() config.Kafka { return b.cfg }

// Transport returns the transport shared by writers and the admin client.
func (b *Bus) Transport() *kafka.Transport { return b.transport }

// Dialer returns the dialer for readers and consumer groups.
func (b *Bus) Dialer() *kafka.Dialer { return b.dialer }

// Client returns an admin client for the configured brokers.
func (b *Bus) Client() *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(b.cfg.Brokers...), Transport: b.transport, Timeout: 10 * time.Second}
}

// Close releases idle connections.
func (b *Bus) Close() { b.transport.CloseIdleConnections() }

// WriterOptions tunes one writer.
type WriterOptions struct {
	// Async makes WriteMessages return at once; errors go to Completion.
	Async bool
	// Completion is called after each batch with the messages and the error.
	Completion func(messages []kafka.Message, err error)
}

// NewWriter returns a producer for topic: keyed records go to one partition
// by murmur2 (as the Java client does), acks from all in-sync replicas.
func (b *Bus) NewWriter(topic string, opt WriterOptions) (*kafka.Writer, error) {
	codec, err := compression(b.cfg.Compression)
	if err != nil {
		return nil, err
	}
	return &kafka.Writer{
		Addr:                   kafka.TCP(b.cfg.Brokers...),
		Topic:                  topic,
		Balancer:               kafka.Murmur2Balancer{},
		RequiredAcks:           kafka.RequireAll,
		BatchSize:              b.cfg.BatchSize,
		BatchBytes:             16 << 20,
		BatchTimeout:           time.Duration(b.cfg.BatchTimeoutMS) * time.Millisecond,
		Compression:            codec,
		Transport:              b.transport,
		Async:                  opt.Async,
		Completion:             opt.Completion,
		MaxAttempts:            3,
		WriteBackoffMin:        50 * time.Millisecond,
		WriteBackoffMax:        time.Second,
		AllowAutoTopicCreation: false,
	}, nil
}

// EnsureTopics creates the topics that do not exist yet with the configured
// partitions and replication factor. Existing topics are left alone.
func (b *Bus) EnsureTopics(ctx context.Context, topics ...string) error {
	var configs []kafka.TopicConfig
	for _, t := range topics {
		configs = append(configs, kafka.TopicConfig{
			Topic:             t,
			NumPartitions:     b.cfg.TopicPartitions,
			ReplicationFactor: b.cfg.ReplicationFactor,
		})
	}
	return b.createTopics(ctx, "create topics", configs)
}

// EnsureCompactedTopic creates topic, when it does not exist yet, with
// partitions partitions, the configured replication factor and
// cleanup.policy=compact: a topic whose records are kept by key, the
// latest of each. An existing topic is left alone.
func (b *Bus) EnsureCompactedTopic(ctx context.Context, topic string, partitions int) error {
	return b.createTopics(ctx, "create topic "+topic, []kafka.TopicConfig{{
		Topic:             topic,
		NumPartitions:     partitions,
		ReplicationFactor: b.cfg.ReplicationFactor,
		ConfigEntries:     []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}},
	}})
}

// createTopics creates the topics of configs that do not exist yet; what
// prefixes the error of the request itself.
func (b *Bus) createTopics(ctx context.Context, what string, configs []kafka.TopicConfig) error {
	resp, err := b.Client().CreateTopics(ctx, &kafka.CreateTopicsRequest{Addr: kafka.TCP(b.cfg.Brokers...), Topics: configs})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	for _, c := range configs {
		if terr := resp.Errors[c.Topic]; terr != nil && !errors.Is(terr, kafka.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", c.Topic, terr)
		}
	}
	return nil
}

// WaitTopics creates the topics, retrying until ctx ends while the brokers
// are unreachable.
func (b *Bus) WaitTopics(ctx context.Context, topics ...string) error {
	return b.WaitTopicsLogged(ctx, nil, topics...)
}

// waitLogEvery is the least time between two log lines of WaitTopicsLogged
// about the same outage.
const waitLogEvery = 10 * time.Second

// WaitTopicsLogged is WaitTopics that logs the brokers' errors on log (when
// not nil) while it keeps trying: the first failure at once, then at most
// one line per 10 s with the number of attempts.
func (b *Bus) WaitTopicsLogged(ctx context.Context, log *slog.Logger, topics ...string) error {
	backoff := 100 * time.Millisecond
	var lastLog time.Time
	for attempt := 1; ; attempt++ {
		err := b.EnsureTopics(ctx, topics...)
		if err == nil {
			if log != nil && attempt > 1 {
				log.Info("kafka reachable; topics ensured", "topics", topics, "attempts", attempt)
			}
			return nil
		}
		if log != nil && ctx.Err() == nil && time.Since(lastLog) >= waitLogEvery {
			lastLog = time.Now()
			log.Warn("kafka unreachable; retrying", "brokers", b.cfg.Brokers, "topics", topics, "attempts", attempt, "err", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// Readiness probes: each is a fresh connection, bounded by pingTimeout,
// and its answer is kept for pingTTL so that frequent /readyz calls cost
// at most one connection a second.
const (
	pingTimeout = 2 * time.Second
	pingTTL     = time.Second
)

// pingCache holds the latest probe's answer.
type pingCache struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

// Ping reports whether a broker answers now: it opens a new connection to
// the configured brokers in turn (TLS, API versions, SASL) until one is set
// up, within 2 s. kafka-go's cached metadata would keep answering for a
// while after the brokers are gone. The answer is reused for 1 s. topics
// only name what the caller needs, for the error message.
func (b *Bus) Ping(ctx context.Context, topics ...string) error {
	b.ping.mu.Lock()
	defer b.ping.mu.Unlock()
	if !b.ping.at.IsZero() && time.Since(b.ping.at) < pingTTL {
		return b.ping.err
	}
	err := b.probe(ctx)
	if ctx.Err() != nil {
		return err // the caller gave up; say nothing about the brokers
	}
	if err != nil {
		err = fmt.Errorf("kafka brokers %v (for %v): %w", b.cfg.Brokers, topics, err)
	}
	b.ping.at, b.ping.err = time.Now(), err
	return err
}

func (b *Bus) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	var errs []error
	for _, addr := range b.cfg.Brokers {
		pc, err := b.DialBroker(ctx, addr)
		if err == nil {
			return pc.Close()
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// PartitionCount returns the number of partitions of topic, asked of the
// configured brokers in turn over a new connection (bounded by 10 s when
// ctx has no deadline). kafka-go's cached metadata would miss partitions
// added at runtime for up to its TTL.
func (b *Bus) PartitionCount(ctx context.Context, topic string) (int, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	var errs []error
	for _, addr := range b.cfg.Brokers {
		n, err := b.partitionCount(ctx, addr, topic)
		if err == nil {
			return n, nil
		}
		errs = append(errs, err)
	}
	return 0, errors.Join(errs...)
}

func (b *Bus) partitionCount(ctx context.Context, addr, topic string) (int, error) {
	pc, err := b.DialBroker(ctx, addr)
	if err != nil {
		return 0, err
	}
	defer pc.Close()
	deadline, _ := ctx.Deadline()
	if err := pc.SetDeadline(deadline); err != nil {
		return 0, err
	}
	msg, err := pc.RoundTrip(&metadata.Request{TopicNames: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("kafka metadata: %w", err)
	}
	for _, t := range msg.(*metadata.Response).Topics {
		if t.Name == topic {
			if t.ErrorCode != 0 {
				return 0, fmt.Errorf("topic %s: %w", topic, kafka.Error(t.ErrorCode))
			}
			return len(t.Partitions), nil
		}
	}
	return 0, fmt.Errorf("topic %s: not found", topic)
}

func compression(name string) (kafka.Compression, error) {
	switch name {
	case "", "none":
		return 0, nil
	case "gzip":
		return kafka.Gzip, nil
	case "snappy":
		return kafka.Snappy, nil
	case "lz4":
		return kafka.Lz4, nil
	case "zstd":
		return kafka.Zstd, nil
	}
	return 0, fmt.Errorf("invalid value %q for kafka.compression: must be one of none, gzip, snappy, lz4, zstd", name)
}

func tlsConfig(cfg config.Kafka) (*tls.Config, error) {
	if !cfg.TLSEnabled {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify} //nolint:gosec // opt-in by config
	if cfg.CAFile != "" {
		pool, err := config.LoadCertPool("kafka.ca_file", cfg.CAFile)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = pool
	}
	if cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.cert_file/key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func saslMechanism(s config.SASL) (sasl.Mechanism, error) {
	switch s.Mechanism {
	case "":
		return nil, nil
	case "PLAIN":
		return plain.Mechanism{Username: s.Username, Password: s.Password}, nil
	case "SCRAM-SHA-256":
		m, err := scram.Mechanism(scram.SHA256, s.Username, s.Password)
		if err != nil {
			return nil, fmt.Errorf("kafka.sasl: %w", err)
		}
		return m, nil
	case "SCRAM-SHA-512":
		m, err := scram.Mechanism(scram.SHA512, s.Username, s.Password)
		if err != nil {
			return nil, fmt.Errorf("kafka.sasl: %w", err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("invalid value %q for kafka.sasl.mechanism: must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512", s.Mechanism)
}

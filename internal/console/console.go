// Package console is DriftLock's anomaly console: it reads anomaly-events,
// keeps the newest anomalies and a summary per stream in memory, serves them
// over a REST API, a Server-Sent Events live stream and an embedded web UI,
// and forwards new anomalies to Alertmanager and webhooks.
//
// On start the console rebuilds its view from every record the topic still
// retains, then follows the topic live. Its consumer group (console.group_id)
// records how far alerting got, with simple offset commits: history below
// the group's committed offset was handled by an earlier run and is only
// shown; history at or above it, and everything arriving live, is alerted,
// once per anomaly id. A group that never committed alerts only what
// arrives live, so a first start does not replay the topic as alerts.
package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/driftlock/driftlock/internal/admin"
	"github.com/driftlock/driftlock/internal/alert"
	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/kafkabus"
)

// Option tunes a Service beyond its configuration (mostly for tests).
type Option func(*options)

type options struct {
	heartbeat      time.Duration
	readerMaxWait  time.Duration
	commitInterval time.Duration
	partitionWatch time.Duration
	sseBuffer      int
	publicURL      string
	alert          func(*alert.Config)
	sequenceBase   int64 // negative: the start time in microseconds
	timeouts       admin.Timeouts
}

// WithHTTPTimeouts sets the timeouts of the console's HTTP server. Default
// admin.DefaultTimeouts; the live stream moves its own deadlines.
func WithHTTPTimeouts(t admin.Timeouts) Option { return func(o *options) { o.timeouts = t } }

// withSequenceBase fixes the sequence before the first anomaly (tests).
func withSequenceBase(base int64) Option { return func(o *options) { o.sequenceBase = base } }

// WithHeartbeat sets the interval of SSE heartbeat comments. Default 15s.
func WithHeartbeat(d time.Duration) Option { return func(o *options) { o.heartbeat = d } }

// WithReaderMaxWait bounds how long a fetch waits for new records. Default 500ms.
func WithReaderMaxWait(d time.Duration) Option { return func(o *options) { o.readerMaxWait = d } }

// WithCommitInterval sets how often alert progress is committed. Default 1s.
func WithCommitInterval(d time.Duration) Option { return func(o *options) { o.commitInterval = d } }

// WithPartitionWatch sets how often the console looks for partitions added
// to anomaly-events; it reads a new partition from its first record.
// Default 5s.
func WithPartitionWatch(d time.Duration) Option { return func(o *options) { o.partitionWatch = d } }

// WithSSEBuffer sets the events buffered per SSE client before it is
// dropped as too slow. Default 256.
func WithSSEBuffer(n int) Option { return func(o *options) { o.sseBuffer = n } }

// WithPublicURL sets the console's external base URL, used in alert links.
// Default console.external_url, else http://<hostname>:<port> of the listener.
func WithPublicURL(u string) Option { return func(o *options) { o.publicURL = u } }

// WithAlertConfig adjusts the alert forwarder's settings (queue, retries).
func WithAlertConfig(fn func(*alert.Config)) Option { return func(o *options) { o.alert = fn } }

// Service is a running console.
type Service struct {
	cfg     config.Config
	bus     *kafkabus.Bus
	log     *slog.Logger
	opts    options
	reg     *prometheus.Registry
	m       *metrics
	store   *store
	fwd     *alert.Forwarder
	prog    *progress
	srv     *admin.Server
	rebuilt chan struct{} // closed once the retained history is loaded
	stop    chan struct{} // closed when Run's context ends; ends SSE streams
	once    sync.Once
}

// New checks cfg, binds console.http_endpoint and prepares the service.
func New(cfg config.Config, bus *kafkabus.Bus, log *slog.Logger, opts ...Option) (*Service, error) {
	if err := cfg.Console.Validate(); err != nil {
		return nil, err
	}
	if err := validExternalURL(cfg.Console.ExternalURL); err != nil {
		return nil, err
	}
	o := options{publicURL: strings.TrimRight(cfg.Console.ExternalURL, "/"), heartbeat: 15 * time.Second, readerMaxWait: 500 * time.Millisecond, commitInterval: time.Second, partitionWatch: 5 * time.Second, sseBuffer: 256, sequenceBase: -1, timeouts: admin.DefaultTimeouts()}
	for _, opt := range opts {
		opt(&o)
	}
	s := &Service{cfg: cfg, bus: bus, log: log, opts: o, reg: admin.NewRegistry(),
		rebuilt: make(chan struct{}), stop: make(chan struct{})}
	var err error
	if s.m, err = newMetrics(s.reg); err != nil {
		return nil, fmt.Errorf("console metrics: %w", err)
	}
	base := o.sequenceBase
	if base < 0 {
		base = time.Now().UnixMicro()
	}
	s.store = newStore(uint64(base), cfg.Console.MaxAnomalies, cfg.Console.MaxSSEClients, o.sseBuffer, s.m)
	s.prog = newProgress()
	acfg := alert.Config{AlertmanagerURL: cfg.Console.AlertmanagerURL, WebhookURLs: cfg.Console.WebhookURLs, AnomalyURL: s.anomalyURL}
	if o.alert != nil {
		o.alert(&acfg)
	}
	if s.fwd, err = alert.New(acfg, s.reg, log); err != nil {
		return nil, fmt.Errorf("console alerts: %w", err)
	}
	if s.srv, err = admin.ListenTimeouts(cfg.Console.HTTPEndpoint, s.handler(), o.timeouts); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return s, nil
}

// Addr is the address the HTTP listener is bound to.
func (s *Service) Addr() string { return s.srv.Addr() }

// Run serves HTTP, consumes anomaly-events and forwards alerts until ctx
// ends, then commits alert progress and returns. It returns the first error
// that stopped a part early.
func (s *Service) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopSSE := context.AfterFunc(ctx, func() { s.once.Do(func() { close(s.stop) }) })
	defer stopSSE()
	parts := []func(context.Context) error{s.srv.Run, s.fwd.Run, s.consume, s.commitLoop}
	errs := make(chan error, len(parts))
	for _, run := range parts {
		go func() {
			err := run(ctx)
			if err != nil {
				cancel() // one part failing stops the others
			}
			errs <- err
		}()
	}
	var first error
	for range parts {
		if err := <-errs; err != nil && !errors.Is(err, context.Canceled) && first == nil {
			first = err
		}
	}
	s.once.Do(func() { close(s.stop) })
	return first
}

// ready reports whether the history is loaded and Kafka answers.
func (s *Service) ready(ctx context.Context) error {
	select {
	case <-s.rebuilt:
	default:
		return errors.New("loading retained anomalies")
	}
	return s.bus.Ping(ctx, s.cfg.Kafka.AnomaliesTopic)
}

// anomalyURL is the console page of an anomaly, for alert links.
func (s *Service) anomalyURL(id string) string {
	return s.publicURL() + "/#/anomaly/" + url.PathEscape(id)
}

// validExternalURL checks console.external_url: empty or an absolute
// http(s) URL.
func validExternalURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("invalid value %q for console.external_url: must be an absolute http or https URL", v)
	}
	return nil
}

func (s *Service) publicURL() string {
	if s.opts.publicURL != "" {
		return s.opts.publicURL
	}
	host, port, err := net.SplitHostPort(s.Addr())
	if err != nil {
		return "http://" + s.Addr()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

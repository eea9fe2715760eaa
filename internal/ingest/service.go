// Package ingest is the OTLP receiving stage: it serves OTLP/gRPC and
// OTLP/HTTP, turns every log record, metric and span into an otlp-events
// record (internal/otlpconv) and answers a request only once Kafka has
// acknowledged all of its accepted records.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/driftlock/driftlock/internal/admin"
	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/kafkabus"
	"github.com/driftlock/driftlock/internal/otlpconv"
)

// shutdownGrace is added to the Kafka write timeout to bound shutdown.
const shutdownGrace = 5 * time.Second

// Service is the OTLP ingest service.
type Service struct {
	cfg   config.Ingest
	kafka config.Kafka
	bus   *kafkabus.Bus
	log   *slog.Logger
	m     *metrics
	ready atomic.Bool
	// auth checks bearer tokens; nil when ingest.auth has none.
	auth *authenticator
	// tls holds the certificate of both OTLP servers; nil without TLS.
	tls   *tlsFiles
	clock Clock
	// srvLog takes the servers' own errors (failed TLS handshakes) to log.
	srvLog *serverLog

	grpcLn net.Listener
	httpLn net.Listener
	grpc   *grpc.Server
	http   *http.Server
	admin  *admin.Server

	// conv and prod are set by Run once the events topic exists; the
	// OTLP servers only start after that.
	conv *otlpconv.Converter
	prod *producer
}

// Option tunes a Service beyond its configuration.
type Option func(*options)

type options struct {
	httpTimeouts  admin.Timeouts
	adminTimeouts admin.Timeouts
	clock         Clock
}

// WithHTTPTimeouts sets the timeouts of the OTLP/HTTP server (its idle
// timeout also closes OTLP/gRPC connections without an RPC). Default
// admin.DefaultTimeouts, with the write timeout at least the Kafka write
// timeout plus 30 s.
func WithHTTPTimeouts(t admin.Timeouts) Option { return func(o *options) { o.httpTimeouts = t } }

// WithAdminTimeouts sets the timeouts of the admin server. Default
// admin.DefaultTimeouts.
func WithAdminTimeouts(t admin.Timeouts) Option { return func(o *options) { o.adminTimeouts = t } }

// New binds the gRPC, HTTP and admin listeners. OTLP is answered from Run
// on (UNAVAILABLE until the events topic is ensured).
func New(cfg config.Config, bus *kafkabus.Bus, log *slog.Logger, opts ...Option) (*Service, error) {
	if err := cfg.Ingest.Validate(); err != nil {
		return nil, err
	}
	o := options{httpTimeouts: admin.DefaultTimeouts(), adminTimeouts: admin.DefaultTimeouts(), clock: realClock{}}
	o.httpTimeouts.Write = max(o.httpTimeouts.Write, time.Duration(cfg.Ingest.WriteTimeoutMS)*time.Millisecond+30*time.Second)
	for _, opt := range opts {
		opt(&o)
	}
	reg := admin.NewRegistry()
	m := newMetrics(reg)
	auth, err := newAuthenticator(cfg.Ingest.Auth, o.clock, log, m.tokensReloads)
	if err != nil {
		return nil, err
	}
	var files *tlsFiles
	if cfg.Ingest.TLS.Enabled() {
		if files, err = newTLSFiles(cfg.Ingest.TLS, o.clock, log); err != nil {
			return nil, err
		}
	}
	s := &Service{cfg: cfg.Ingest, kafka: cfg.Kafka, bus: bus, log: log, m: m, auth: auth, tls: files, clock: o.clock,
		srvLog: &serverLog{log: log, clock: o.clock, handshakes: m.handshakes}}
	if auth != nil {
		for _, tr := range []string{transportGRPC, transportHTTP} {
			s.m.authFailures.WithLabelValues(tr, authMissing)
			s.m.authFailures.WithLabelValues(tr, authInvalid)
		}
		if cfg.Ingest.Auth.TokensFile != "" {
			s.m.tokensReloads.WithLabelValues(reloadLoaded)
			s.m.tokensReloads.WithLabelValues(reloadFailed)
		}
	}
	if s.grpcLn, err = net.Listen("tcp", cfg.Ingest.GRPCEndpoint); err != nil {
		return nil, fmt.Errorf("listen ingest.grpc_endpoint %s: %w", cfg.Ingest.GRPCEndpoint, err)
	}
	if s.httpLn, err = net.Listen("tcp", cfg.Ingest.HTTPEndpoint); err != nil {
		s.grpcLn.Close()
		return nil, fmt.Errorf("listen ingest.http_endpoint %s: %w", cfg.Ingest.HTTPEndpoint, err)
	}
	mux := http.NewServeMux()
	admin.Handle(mux, reg, s.readiness)
	if s.admin, err = admin.ListenTimeouts(cfg.Ingest.AdminEndpoint, mux, o.adminTimeouts); err != nil {
		s.grpcLn.Close()
		s.httpLn.Close()
		return nil, fmt.Errorf("ingest.admin_endpoint: %w", err)
	}
	s.grpc = newGRPCServer(s, cfg.Ingest.MaxRequestBytes, o.httpTimeouts.Idle)
	s.http = &http.Server{Handler: newHTTPHandler(s), ErrorLog: s.srvLog.httpErrorLog(transportHTTP)}
	o.httpTimeouts.Apply(s.http)
	if files != nil {
		for _, server := range []string{transportGRPC, transportHTTP} {
			s.m.handshakes.WithLabelValues(server)
		}
		s.http.TLSConfig = files.serverConfig([]string{"h2", "http/1.1"}, true)
		if cfg.Ingest.TLS.Admin {
			s.admin.UseTLS(files.serverConfig([]string{"h2", "http/1.1"}, false), s.srvLog.httpErrorLog("admin"))
			s.m.handshakes.WithLabelValues("admin")
		}
	}
	return s, nil
}

// GRPCAddr is the address OTLP/gRPC is served on.
func (s *Service) GRPCAddr() string { return s.grpcLn.Addr().String() }

// HTTPAddr is the address OTLP/HTTP is served on.
func (s *Service) HTTPAddr() string { return s.httpLn.Addr().String() }

// AdminAddr is the address of /metrics, /healthz and /readyz.
func (s *Service) AdminAddr() string { return s.admin.Addr() }

func (s *Service) readiness(ctx context.Context) error {
	if !s.ready.Load() {
		return errors.New("events topic not ensured yet")
	}
	return s.bus.Ping(ctx, s.kafka.EventsTopic)
}

// Run ensures the events topic, serves OTLP until ctx ends, then shuts down:
// it stops accepting, lets in-flight requests finish (their Kafka writes
// complete), and closes the producer. It returns nil after a clean stop.
func (s *Service) Run(ctx context.Context) error {
	adminCtx, stopAdmin := context.WithCancel(context.Background())
	adminDone := make(chan error, 1)
	go func() { adminDone <- s.admin.Run(adminCtx) }()
	defer func() {
		stopAdmin()
		if err := <-adminDone; err != nil {
			s.log.Warn("admin server shutdown", "err", err)
		}
	}()
	errc := s.listen()
	if err := s.start(ctx); err != nil {
		s.shutdown()
		<-errc
		<-errc
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	return s.serve(ctx, errc)
}

// errNotReady answers exports that arrive before the events topic is
// ensured: the client retries, as it would during a broker outage.
var errNotReady = failure(reasonNotReady, errors.New("kafka unavailable: kafka not reachable yet (events topic not ensured)"))

// listen serves both OTLP servers from the start, so that a client gets an
// answer at once (UNAVAILABLE / 503 with Retry-After) while Kafka is not
// reachable yet. The channel gets each server's Serve result.
func (s *Service) listen() chan error {
	errc := make(chan error, 2)
	go func() { errc <- s.grpc.Serve(s.grpcLn) }()
	go func() {
		if s.tls != nil {
			errc <- s.http.ServeTLS(s.httpLn, "", "")
			return
		}
		errc <- s.http.Serve(s.httpLn)
	}()
	return errc
}

// start waits for the events topic and builds the producer.
func (s *Service) start(ctx context.Context) error {
	s.log.Info("ensuring the events topic; not ready until then", "topic", s.kafka.EventsTopic, "brokers", s.kafka.Brokers)
	if err := s.bus.WaitTopicsLogged(ctx, s.log, s.kafka.EventsTopic); err != nil {
		return fmt.Errorf("ensure topic %s: %w", s.kafka.EventsTopic, err)
	}
	tuneGC(s.cfg.MaxInflightBytes, s.log)
	maxBytes := s.recordLimit(ctx)
	writeTimeout := time.Duration(s.cfg.WriteTimeoutMS) * time.Millisecond
	client := s.bus.Client()
	client.Timeout = writeTimeout
	prod, err := newProducer(producerConfig{
		topic:        s.kafka.EventsTopic,
		batchRecords: s.kafka.BatchSize,
		linger:       time.Duration(s.kafka.BatchTimeoutMS) * time.Millisecond,
		compression:  s.kafka.Compression,
		writeTimeout: writeTimeout,
		maxBytes:     maxBytes,
		inflight:     int64(s.cfg.MaxInflightBytes),
		idle:         laneIdle,
		clock:        s.clock,
	}, client, s.bus.DialBroker, s.m)
	if err != nil {
		return err
	}
	s.prod = prod
	s.conv = otlpconv.New(otlpconv.Limits{
		MaxRecordBytes:    min(s.cfg.MaxRecordBytes, maxBytes),
		MaxAttributes:     s.cfg.MaxAttributes,
		MaxAttributeDepth: s.cfg.MaxAttributeDepth,
	})
	s.ready.Store(true)
	return nil
}

// serve runs both OTLP servers until ctx ends or one fails, then shuts down.
func (s *Service) serve(ctx context.Context, errc chan error) error {
	s.log.Info("ingest serving", "otlp_grpc", s.GRPCAddr(), "otlp_http", s.HTTPAddr(),
		"admin", s.AdminAddr(), "topic", s.kafka.EventsTopic, "max_record_bytes", s.prod.cfg.maxBytes)
	var serveErr error
	running := 2
	select {
	case <-ctx.Done():
	case err := <-errc:
		running--
		serveErr = fmt.Errorf("serve otlp: %w", err)
	}
	s.shutdown()
	for ; running > 0; running-- {
		<-errc
	}
	cctx, cancel := context.WithTimeout(context.Background(), s.shutdownBound())
	defer cancel()
	if err := s.prod.close(cctx); err != nil && serveErr == nil {
		serveErr = fmt.Errorf("close kafka producer: %w", err)
	}
	s.log.Info("ingest stopped")
	return serveErr
}

// shutdownBound bounds each step of the shutdown: the Kafka write timeout
// plus a grace period.
func (s *Service) shutdownBound() time.Duration {
	return time.Duration(s.cfg.WriteTimeoutMS)*time.Millisecond + shutdownGrace
}

// shutdown stops both servers (new exports are answered UNAVAILABLE from
// then on), waiting for in-flight requests up to the
// Kafka write timeout plus a grace period.
func (s *Service) shutdown() {
	s.ready.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), s.shutdownBound())
	defer cancel()
	grpcDone := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(grpcDone)
	}()
	if err := s.http.Shutdown(ctx); err != nil {
		s.log.Warn("otlp/http shutdown cut short", "err", err)
		s.http.Close()
	}
	select {
	case <-grpcDone:
	case <-ctx.Done():
		s.log.Warn("otlp/grpc shutdown cut short")
		s.grpc.Stop()
		<-grpcDone
	}
}

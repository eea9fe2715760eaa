// Package admin serves the endpoints every DriftLock service exposes for
// operations: /metrics (Prometheus text), /healthz (process alive) and
// /readyz (the service's Kafka connection works).
package admin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ReadyFunc reports whether the service can do its work; a non-nil error
// makes /readyz answer 503 with the error's text.
type ReadyFunc func(ctx context.Context) error

// NewRegistry returns a registry with the Go runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Handle adds /metrics, /healthz and /readyz to mux.
func Handle(mux *http.ServeMux, reg prometheus.Gatherer, ready ReadyFunc) {
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if ready != nil {
			if err := ready(r.Context()); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintln(w, "not ready:", err)
				return
			}
		}
		fmt.Fprintln(w, "ready")
	})
}

// Server is an HTTP server with a bounded graceful shutdown.
type Server struct {
	ln     net.Listener
	srv    *http.Server
	useTLS bool
}

// Timeouts bound the phases of a connection, as http.Server's fields of
// the same names do; zero means none. DefaultTimeouts gives every server
// limits, so that slow or idle clients cannot hold connections forever.
type Timeouts struct {
	// ReadHeader bounds reading a request's headers. Default 10 s.
	ReadHeader time.Duration
	// Read bounds reading a whole request, body included. Default 30 s.
	Read time.Duration
	// Write bounds writing a response, from the end of the request's
	// headers. Default 60 s. A streaming handler (SSE) moves its own
	// deadline forward with http.ResponseController.
	Write time.Duration
	// Idle is how long a keep-alive connection may wait for its next
	// request. Default 2 min.
	Idle time.Duration
}

// DefaultTimeouts are the timeouts of every DriftLock HTTP server unless a
// service sets others.
func DefaultTimeouts() Timeouts {
	return Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 60 * time.Second, Idle: 2 * time.Minute}
}

// Apply sets the timeouts on srv.
func (t Timeouts) Apply(srv *http.Server) {
	srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout = t.ReadHeader, t.Read, t.Write, t.Idle
}

// Listen binds addr and prepares to serve h with DefaultTimeouts.
func Listen(addr string, h http.Handler) (*Server, error) {
	return ListenTimeouts(addr, h, DefaultTimeouts())
}

// ListenTimeouts binds addr and prepares to serve h with timeouts t.
func ListenTimeouts(addr string, h http.Handler, t Timeouts) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h}
	t.Apply(srv)
	return &Server{ln: ln, srv: srv}, nil
}

// UseTLS serves over TLS with cfg, which must hold or get a certificate
// (Certificates, GetCertificate or GetConfigForClient). errorLog, when not
// nil, receives the server's errors (failed handshakes above all) instead
// of the standard library's default logger. Call it before Run.
func (s *Server) UseTLS(cfg *tls.Config, errorLog *log.Logger) {
	s.srv.TLSConfig, s.useTLS = cfg, true
	s.srv.ErrorLog = errorLog
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Run serves until ctx ends, then shuts down, waiting up to 10 s for
// in-flight requests.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() {
		if s.useTLS {
			errc <- s.srv.ServeTLS(s.ln, "", "")
			return
		}
		errc <- s.srv.Serve(s.ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", s.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

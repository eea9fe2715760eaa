package ingest

import (
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/credentials"
)

// serverLogEvery is the least time between two lines of serverLog: a
// scanner fails handshakes as fast as it connects, and each failure must
// not be a line of the log.
const serverLogEvery = time.Second

// serverLog takes what the ingest's servers report outside a request (failed
// TLS handshakes above all, and the rest of net/http's error log) to the
// service's logger, at most one line per serverLogEvery; each line says
// how many were held back before it. Every failed handshake is counted in
// driftlock_ingest_tls_handshake_errors_total, logged or not.
type serverLog struct {
	log        *slog.Logger
	clock      Clock
	handshakes *prometheus.CounterVec // by server

	mu       sync.Mutex
	next     time.Time // no line before
	heldBack int
}

// handshakeFailed counts a failed handshake of server (grpc, http or
// admin) and logs it. A
// client that closes the connection without a handshake (a TCP health
// check, a port scan) is logged at debug level only.
func (l *serverLog) handshakeFailed(server, remote string, err error, closed bool) {
	l.handshakes.WithLabelValues(server).Inc()
	level := slog.LevelWarn
	if closed {
		level = slog.LevelDebug
	}
	l.write(level, "TLS handshake failed", "server", server, "remote", remote, "err", err)
}

// write logs msg unless a line was written less than serverLogEvery ago.
func (l *serverLog) write(level slog.Level, msg string, args ...any) {
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	l.mu.Lock()
	now := l.clock.Now()
	if now.Before(l.next) {
		l.heldBack++
		l.mu.Unlock()
		return
	}
	l.next = now.Add(serverLogEvery)
	heldBack := l.heldBack
	l.heldBack = 0
	l.mu.Unlock()
	if heldBack > 0 {
		args = append(args, "lines_held_back", heldBack)
	}
	l.log.Log(context.Background(), level, msg, args...)
}

// closedEarly reports whether a handshake failed because the client closed
// or reset the connection before finishing it.
func closedEarly(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// httpHandshakePrefix starts net/http's line for a failed TLS handshake:
// "http: TLS handshake error from <addr>: <err>".
const httpHandshakePrefix = "http: TLS handshake error from "

// httpErrorLog is an http.Server ErrorLog that writes through l: a failed
// handshake is counted and logged as handshakeFailed does, anything else
// net/http reports is logged as a warning.
func (l *serverLog) httpErrorLog(server string) *log.Logger {
	return log.New(httpErrorWriter{l: l, server: server}, "", 0)
}

type httpErrorWriter struct {
	l      *serverLog
	server string
}

func (w httpErrorWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	if rest, ok := strings.CutPrefix(line, httpHandshakePrefix); ok {
		remote, msg, _ := strings.Cut(rest, ": ")
		closed := msg == "EOF" || strings.HasSuffix(msg, syscall.ECONNRESET.Error())
		w.l.handshakeFailed(w.server, remote, errors.New(msg), closed)
		return len(p), nil
	}
	w.l.write(slog.LevelWarn, "http server error", "server", w.server, "err", line)
	return len(p), nil
}

// loggedCreds are TLS transport credentials of the gRPC server that count
// and log failed handshakes through l (grpc-go would only tell its own
// logger, silent by default).
type loggedCreds struct {
	credentials.TransportCredentials
	l *serverLog
}

func (c loggedCreds) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	out, info, err := c.TransportCredentials.ServerHandshake(conn)
	if err != nil {
		c.l.handshakeFailed(transportGRPC, conn.RemoteAddr().String(), err, closedEarly(err))
	}
	return out, info, err
}

func (c loggedCreds) Clone() credentials.TransportCredentials {
	return loggedCreds{TransportCredentials: c.TransportCredentials.Clone(), l: c.l}
}

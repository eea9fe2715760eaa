package ingest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/driftlock/driftlock/internal/config"
)

// tlsFiles holds the certificate, key and client CAs of ingest.tls, read
// again when one of the files changes (fileWatch: the first handshake
// after filesCheckEvery stats them). A change that does not load (a
// certificate written but not its key yet) keeps the previous material,
// is logged once and is tried again when the files change again.
type tlsFiles struct {
	cfg   config.ServerTLS
	min   uint16
	log   *slog.Logger
	watch *fileWatch
	cur   atomic.Pointer[tlsMaterial]
}

// tlsMaterial is what the files held when they last loaded.
type tlsMaterial struct {
	cert *tls.Certificate
	cas  *x509.CertPool // nil without client_ca_file
}

// newTLSFiles loads the files of cfg; an error names the key at fault.
func newTLSFiles(cfg config.ServerTLS, clock Clock, log *slog.Logger) (*tlsFiles, error) {
	f := &tlsFiles{cfg: cfg, log: log, min: tls.VersionTLS12}
	if cfg.MinVersion == "1.3" {
		f.min = tls.VersionTLS13
	}
	var err error
	f.watch, err = newFileWatch(clock,
		[]string{"ingest.tls.cert_file", "ingest.tls.key_file", "ingest.tls.client_ca_file"},
		[]string{cfg.CertFile, cfg.KeyFile, cfg.ClientCAFile})
	if err != nil {
		return nil, err
	}
	if err := f.load(); err != nil {
		return nil, err
	}
	return f, nil
}

// load reads the files in place of the material in use.
func (f *tlsFiles) load() error {
	cert, err := tls.LoadX509KeyPair(f.cfg.CertFile, f.cfg.KeyFile)
	if err != nil {
		return fmt.Errorf("ingest.tls.cert_file, key_file: %w", err)
	}
	m := &tlsMaterial{cert: &cert}
	if f.cfg.ClientCAFile != "" {
		if m.cas, err = config.LoadCertPool("ingest.tls.client_ca_file", f.cfg.ClientCAFile); err != nil {
			return err
		}
	}
	f.cur.Store(m)
	return nil
}

// current reloads the files when they changed and returns the material in
// use.
func (f *tlsFiles) current() *tlsMaterial {
	reloaded, err := f.watch.poll(f.load)
	m := f.cur.Load()
	switch {
	case err != nil:
		f.log.Warn("ingest TLS files not reloaded; the previous certificate stays in use", "err", err)
	case reloaded:
		f.log.Info("ingest TLS files reloaded", "cert_file", f.cfg.CertFile, "not_after", m.cert.Leaf.NotAfter)
	}
	return m
}

// serverConfig is a TLS configuration for one server (its ALPN protocols)
// that follows the files: each handshake gets a configuration built from
// their current content, rebuilt only after a reload. mutual asks for and
// verifies client certificates when client CAs are configured.
func (f *tlsFiles) serverConfig(nextProtos []string, mutual bool) *tls.Config {
	var mu sync.Mutex
	var built *tls.Config
	var from *tlsMaterial // what built was built from
	base := &tls.Config{MinVersion: f.min, NextProtos: nextProtos}
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		m := f.current()
		mu.Lock()
		defer mu.Unlock()
		if m != from {
			c := &tls.Config{MinVersion: f.min, NextProtos: nextProtos, Certificates: []tls.Certificate{*m.cert}}
			if mutual && m.cas != nil {
				c.ClientCAs, c.ClientAuth = m.cas, tls.RequireAndVerifyClientCert
			}
			built, from = c, m
		}
		return built, nil
	}
	return base
}

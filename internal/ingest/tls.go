package ingest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/driftlock/driftlock/internal/config"
)

// fileStamp tells whether a file changed: its modification time and size.
type fileStamp struct {
	mod  time.Time
	size int64
}

// tlsFiles holds the certificate, key and client CAs of ingest.tls, read
// again when one of the files changes. Each handshake stats the files
// (cheap next to the handshake itself); a change that does not load (a
// certificate written but not its key yet) keeps the previous material,
// is logged once and is tried again when the files change again.
type tlsFiles struct {
	cfg    config.ServerTLS
	min    uint16
	log    *slog.Logger
	mu     sync.Mutex
	stamp  [3]fileStamp  // cert, key, client CA
	failed *[3]fileStamp // of the last change that did not load
	cert   *tls.Certificate
	cas    *x509.CertPool // nil without client_ca_file
	gen    int            // incremented on every reload
}

// newTLSFiles loads the files of cfg; an error names the key at fault.
func newTLSFiles(cfg config.ServerTLS, log *slog.Logger) (*tlsFiles, error) {
	f := &tlsFiles{cfg: cfg, log: log, min: tls.VersionTLS12}
	if cfg.MinVersion == "1.3" {
		f.min = tls.VersionTLS13
	}
	stamp, err := f.stat()
	if err != nil {
		return nil, err
	}
	if err := f.load(stamp); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *tlsFiles) paths() [3]string {
	return [3]string{f.cfg.CertFile, f.cfg.KeyFile, f.cfg.ClientCAFile}
}

// stat stamps the files; the client CA's stamp stays zero when unset.
func (f *tlsFiles) stat() ([3]fileStamp, error) {
	var st [3]fileStamp
	keys := [3]string{"ingest.tls.cert_file", "ingest.tls.key_file", "ingest.tls.client_ca_file"}
	for i, p := range f.paths() {
		if p == "" {
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return st, fmt.Errorf("%s: %w", keys[i], err)
		}
		st[i] = fileStamp{mod: fi.ModTime(), size: fi.Size()}
	}
	return st, nil
}

// load reads the files stamped st; f.mu held or f not shared yet.
func (f *tlsFiles) load(st [3]fileStamp) error {
	cert, err := tls.LoadX509KeyPair(f.cfg.CertFile, f.cfg.KeyFile)
	if err != nil {
		return fmt.Errorf("ingest.tls.cert_file, key_file: %w", err)
	}
	var cas *x509.CertPool
	if f.cfg.ClientCAFile != "" {
		pem, err := os.ReadFile(f.cfg.ClientCAFile)
		if err != nil {
			return fmt.Errorf("ingest.tls.client_ca_file: %w", err)
		}
		cas = x509.NewCertPool()
		if !cas.AppendCertsFromPEM(pem) {
			return fmt.Errorf("ingest.tls.client_ca_file %s: %w", f.cfg.ClientCAFile, errors.New("no PEM certificate in it"))
		}
	}
	f.stamp, f.cert, f.cas = st, &cert, cas
	f.gen++
	return nil
}

// current reloads the files when they changed and returns the material in
// use and its generation.
func (f *tlsFiles) current() (*tls.Certificate, *x509.CertPool, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := f.stat()
	if st == f.stamp || (f.failed != nil && st == *f.failed) { // unchanged, or a failure already reported
		return f.cert, f.cas, f.gen
	}
	if err == nil {
		err = f.load(st)
	}
	if err != nil {
		f.failed = &st
		f.log.Warn("ingest TLS files not reloaded; the previous certificate stays in use", "err", err)
	} else {
		f.log.Info("ingest TLS files reloaded", "cert_file", f.cfg.CertFile, "not_after", f.cert.Leaf.NotAfter)
	}
	return f.cert, f.cas, f.gen
}

// serverConfig is a TLS configuration for one server (its ALPN protocols)
// that follows the files: each handshake gets a configuration built from
// their current content, rebuilt only after a reload. mutual asks for and
// verifies client certificates when client CAs are configured.
func (f *tlsFiles) serverConfig(nextProtos []string, mutual bool) *tls.Config {
	var mu sync.Mutex
	var built *tls.Config
	gen := 0
	base := &tls.Config{MinVersion: f.min, NextProtos: nextProtos}
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		cert, cas, g := f.current()
		mu.Lock()
		defer mu.Unlock()
		if built == nil || g != gen {
			c := &tls.Config{MinVersion: f.min, NextProtos: nextProtos, Certificates: []tls.Certificate{*cert}}
			if mutual && cas != nil {
				c.ClientCAs, c.ClientAuth = cas, tls.RequireAndVerifyClientCert
			}
			built, gen = c, g
		}
		return built, nil
	}
	return base
}

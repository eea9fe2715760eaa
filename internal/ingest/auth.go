package ingest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/driftlock/driftlock/internal/config"
)

// Reasons of driftlock_ingest_auth_failures_total.
const (
	authMissing = "missing" // no Authorization header or metadata
	authInvalid = "invalid" // not a bearer token, or not a configured one
)

// errAuthMissing and errAuthInvalid are what an unauthenticated client is told.
var (
	errAuthMissing = failure(reasonTokenMissing, errors.New(`missing bearer token: send "Authorization: Bearer <token>"`))
	errAuthInvalid = failure(reasonTokenInvalid, errors.New("invalid bearer token"))
)

// Outcomes of driftlock_ingest_tokens_file_reloads_total.
const (
	reloadLoaded = "loaded"
	reloadFailed = "failed"
)

// tokenSet is one loaded list of tokens, never changed once in use.
// Tokens are kept as SHA-256 hashes.
type tokenSet struct {
	hashes [][sha256.Size]byte
	names  []string
}

// authenticator checks the bearer token of OTLP requests against the
// configured tokens. A presented token is hashed and compared with every
// configured one in constant time, so that neither the comparison nor the
// position of a match shows in the time taken.
//
// The tokens file is read again when it changes (fileWatch: the first
// request after filesCheckEvery stats it). A file that does not load
// (unreadable, a bad line, no token) keeps the previous tokens in use, is
// logged once and counted, and is tried again when it changes again.
type authenticator struct {
	static  []string   // ingest.auth.tokens
	path    string     // ingest.auth.tokens_file
	watch   *fileWatch // of the tokens file; nil without one
	log     *slog.Logger
	reloads *prometheus.CounterVec
	set     atomic.Pointer[tokenSet]
}

// newAuthenticator reads the tokens of cfg (its list, then its file). It
// returns nil, and no error, when no token is configured: auth is off.
func newAuthenticator(cfg config.IngestAuth, clock Clock, log *slog.Logger, reloads *prometheus.CounterVec) (*authenticator, error) {
	if !cfg.Enabled() {
		return nil, nil
	}
	a := &authenticator{static: cfg.Tokens, path: cfg.TokensFile, log: log, reloads: reloads}
	if a.path != "" {
		var err error
		if a.watch, err = newFileWatch(clock, []string{"ingest.auth.tokens_file"}, []string{a.path}); err != nil {
			return nil, err
		}
	}
	if err := a.reload(); err != nil {
		return nil, err
	}
	return a, nil
}

// reload loads the tokens of the list and of the file in place of those
// in use.
func (a *authenticator) reload() error {
	set, err := a.load()
	if err != nil {
		return err
	}
	a.set.Store(set)
	return nil
}

// load reads the tokens of the list and of the file.
func (a *authenticator) load() (*tokenSet, error) {
	entries := append([]string(nil), a.static...)
	if a.path != "" {
		fromFile, err := readTokensFile(a.path)
		if err != nil {
			return nil, err
		}
		entries = append(entries, fromFile...)
	}
	set := &tokenSet{}
	seen := map[[sha256.Size]byte]bool{}
	for i, e := range entries {
		name, token, err := config.ParseToken(e)
		if err != nil { // the list was validated; a file line was too
			return nil, fmt.Errorf("ingest.auth token %d: %w", i+1, err)
		}
		sum := sha256.Sum256([]byte(token))
		if seen[sum] {
			return nil, fmt.Errorf("ingest.auth: token %q is configured twice", name)
		}
		seen[sum] = true
		set.hashes = append(set.hashes, sum)
		set.names = append(set.names, name)
	}
	return set, nil
}

// current returns the tokens in use, first loading the tokens file again
// when it is time to check it and it changed.
func (a *authenticator) current() *tokenSet {
	if a.watch == nil {
		return a.set.Load()
	}
	reloaded, err := a.watch.poll(a.reload)
	set := a.set.Load()
	switch {
	case err != nil:
		a.reloads.WithLabelValues(reloadFailed).Inc()
		a.log.Error("ingest tokens file not reloaded; the previous tokens stay in use", "err", err)
	case reloaded:
		a.reloads.WithLabelValues(reloadLoaded).Inc()
		a.log.Info("ingest tokens file reloaded", "tokens_file", a.path, "tokens", len(set.names))
	}
	return set
}

// readTokensFile returns the token entries of a tokens file (parseTokens).
func readTokensFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ingest.auth.tokens_file: %w", err)
	}
	defer f.Close()
	return parseTokens(f, path)
}

// parseTokens returns the token entries of the tokens file at path, read
// from r: one per line, blank lines and # comments skipped. A file
// without a token is an error, so that a mistake never turns
// authentication off.
func parseTokens(r io.Reader, path string) ([]string, error) {
	var entries []string
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		e := strings.TrimSpace(sc.Text())
		if e == "" || strings.HasPrefix(e, "#") {
			continue
		}
		if _, _, err := config.ParseToken(e); err != nil {
			return nil, fmt.Errorf("ingest.auth.tokens_file %s line %d: %w", path, line, err)
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ingest.auth.tokens_file %s: %w", path, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("ingest.auth.tokens_file %s: holds no token", path)
	}
	return entries, nil
}

// check reads an Authorization value ("Bearer <token>") and returns the
// name of its token, or errAuthMissing or errAuthInvalid. A nil
// authenticator lets every request through, unnamed.
func (a *authenticator) check(authorization string) (string, error) {
	if a == nil {
		return "", nil
	}
	authorization = strings.TrimSpace(authorization)
	if authorization == "" {
		return "", errAuthMissing
	}
	scheme, token, _ := strings.Cut(authorization, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", errAuthInvalid
	}
	set := a.current()
	sum := sha256.Sum256([]byte(token))
	match := -1
	for i := range set.hashes {
		if subtle.ConstantTimeCompare(sum[:], set.hashes[i][:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return "", errAuthInvalid
	}
	return set.names[match], nil
}

// authenticate checks the Authorization value of a request that came over
// transport and returns the client's name, or the export error refusing
// it, counted by reason.
func (s *Service) authenticate(transport, authorization string) (string, error) {
	name, err := s.auth.check(authorization)
	if err != nil {
		label := authInvalid
		if err == errAuthMissing {
			label = authMissing
		}
		s.m.authFailures.WithLabelValues(transport, label).Inc()
	}
	return name, err
}

// authGRPC checks the authorization metadata of an OTLP/gRPC request and
// returns who sent it (clientName).
func (s *Service) authGRPC(ctx context.Context) (string, error) {
	var name string
	if s.auth != nil {
		var value string
		if md, ok := metadata.FromIncomingContext(ctx); ok {
			if v := md.Get("authorization"); len(v) > 0 {
				value = v[0]
			}
		}
		var err error
		if name, err = s.authenticate(transportGRPC, value); err != nil {
			return "", err
		}
	}
	if name != "" || !s.cfg.Auth.ClientHeader {
		return name, nil
	}
	if p, ok := peer.FromContext(ctx); ok {
		if info, ok := p.AuthInfo.(credentials.TLSInfo); ok {
			return certSubject(&info.State), nil
		}
	}
	return "", nil
}

// authHTTP checks the Authorization header of an OTLP/HTTP request and
// returns who sent it (clientName).
func (s *Service) authHTTP(r *http.Request) (string, error) {
	name, err := s.authenticate(transportHTTP, r.Header.Get("Authorization"))
	if err != nil || name != "" || !s.cfg.Auth.ClientHeader {
		return name, err
	}
	return certSubject(r.TLS), nil
}

// certSubject names the client of a mutual TLS connection by the subject
// of its verified certificate: its common name, else the whole subject.
// It is "" without a verified client certificate. A token's name, when
// the request has one, is used instead.
func certSubject(state *tls.ConnectionState) string {
	if state == nil || len(state.VerifiedChains) == 0 || len(state.VerifiedChains[0]) == 0 {
		return ""
	}
	subject := state.VerifiedChains[0][0].Subject
	if subject.CommonName != "" {
		return subject.CommonName
	}
	return subject.String()
}

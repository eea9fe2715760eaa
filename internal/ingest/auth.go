package ingest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"google.golang.org/grpc/metadata"

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

// authenticator checks the bearer token of OTLP requests against the
// configured tokens. Tokens are kept as SHA-256 hashes and a presented
// token is hashed and compared with every one of them in constant time,
// so that neither the comparison nor the position of a match shows in
// the time taken.
type authenticator struct {
	hashes [][sha256.Size]byte
	names  []string
}

// newAuthenticator reads the tokens of cfg (its list, then its file). It
// returns nil, and no error, when no token is configured: auth is off.
func newAuthenticator(cfg config.IngestAuth) (*authenticator, error) {
	if !cfg.Enabled() {
		return nil, nil
	}
	entries := append([]string(nil), cfg.Tokens...)
	if cfg.TokensFile != "" {
		fromFile, err := readTokensFile(cfg.TokensFile)
		if err != nil {
			return nil, err
		}
		entries = append(entries, fromFile...)
	}
	a := &authenticator{}
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
		a.hashes = append(a.hashes, sum)
		a.names = append(a.names, name)
	}
	return a, nil
}

// readTokensFile returns the token entries of a tokens file: one per
// line, blank lines and # comments skipped. A file without a token is an
// error, so that a mistake never turns authentication off.
func readTokensFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ingest.auth.tokens_file: %w", err)
	}
	defer f.Close()
	var entries []string
	sc := bufio.NewScanner(f)
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
	sum := sha256.Sum256([]byte(token))
	match := -1
	for i := range a.hashes {
		if subtle.ConstantTimeCompare(sum[:], a.hashes[i][:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return "", errAuthInvalid
	}
	return a.names[match], nil
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

// authGRPC checks the authorization metadata of an OTLP/gRPC request.
func (s *Service) authGRPC(ctx context.Context) (string, error) {
	if s.auth == nil {
		return "", nil
	}
	var value string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("authorization"); len(v) > 0 {
			value = v[0]
		}
	}
	return s.authenticate(transportGRPC, value)
}

// authHTTP checks the Authorization header of an OTLP/HTTP request.
func (s *Service) authHTTP(r *http.Request) (string, error) {
	return s.authenticate(transportHTTP, r.Header.Get("Authorization"))
}

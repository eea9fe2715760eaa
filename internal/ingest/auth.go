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

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/driftlock/driftlock/internal/config"
)

// Reasons of driftlock_ingest_auth_failures_total.
const (
	authMissing = "missing" // no Authorization header or metadata
	authInvalid = "invalid" // not a bearer token, or not a configured one
)

// errAuthMissing and errAuthInvalid are what an unauthenticated client is told.
var (
	errAuthMissing = errors.New(`missing bearer token: send "Authorization: Bearer <token>"`)
	errAuthInvalid = errors.New("invalid bearer token")
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
// name of its token, or the reason it is refused and the error for the
// client. A nil authenticator lets every request through, unnamed.
func (a *authenticator) check(authorization string) (name, reason string, err error) {
	if a == nil {
		return "", "", nil
	}
	authorization = strings.TrimSpace(authorization)
	if authorization == "" {
		return "", authMissing, errAuthMissing
	}
	scheme, token, _ := strings.Cut(authorization, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", authInvalid, errAuthInvalid
	}
	sum := sha256.Sum256([]byte(token))
	match := -1
	for i := range a.hashes {
		if subtle.ConstantTimeCompare(sum[:], a.hashes[i][:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return "", authInvalid, errAuthInvalid
	}
	return a.names[match], "", nil
}

// authGRPC checks the authorization metadata of an OTLP/gRPC request and
// returns the client's name, or an UNAUTHENTICATED status, counted.
func (s *Service) authGRPC(ctx context.Context, sig string) (string, error) {
	if s.auth == nil {
		return "", nil
	}
	var value string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("authorization"); len(v) > 0 {
			value = v[0]
		}
	}
	name, reason, err := s.auth.check(value)
	if err != nil {
		s.m.authFailures.WithLabelValues(transportGRPC, reason).Inc()
		s.m.requests.WithLabelValues(sig, transportGRPC, outcomeUnauthenticated).Inc()
		return "", status.Error(codes.Unauthenticated, err.Error())
	}
	return name, nil
}

// authHTTP checks the Authorization header of an OTLP/HTTP request and
// returns the client's name; when the request is refused it answers 401
// with a WWW-Authenticate challenge (RFC 6750) and counts the reason.
func (s *Service) authHTTP(w http.ResponseWriter, r *http.Request) (string, bool) {
	if s.auth == nil {
		return "", true
	}
	name, reason, err := s.auth.check(r.Header.Get("Authorization"))
	if err == nil {
		return name, true
	}
	s.m.authFailures.WithLabelValues(transportHTTP, reason).Inc()
	challenge := `Bearer realm="otlp"`
	if reason == authInvalid {
		challenge += `, error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	isJSON, _ := parseContentType(r.Header.Get("Content-Type"))
	writeStatus(w, isJSON, http.StatusUnauthorized, codes.Unauthenticated, err.Error())
	return "", false
}

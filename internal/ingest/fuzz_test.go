package ingest

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/testkit"
)

// FuzzReadLimited feeds arbitrary bodies, plain or declared gzip, to the
// body reader: it never returns more than the limit, and a body it accepts
// is returned whole.
func FuzzReadLimited(f *testing.F) {
	const limit = 1 << 12
	f.Add([]byte("hello"), false)
	f.Add(gzipBytes(f, []byte("hello")), true)
	f.Add(gzipBytes(f, make([]byte, 1<<16)), true)
	f.Add(bytes.Repeat([]byte{1}, limit+1), false)
	f.Fuzz(func(t *testing.T, body []byte, gz bool) {
		r := httptest.NewRequest(http.MethodPost, "/v1/logs", bytes.NewReader(body))
		if gz {
			r.Header.Set("Content-Encoding", "gzip")
		}
		var buf bytes.Buffer
		err := readLimited(httptest.NewRecorder(), r, limit, &buf)
		if buf.Len() > limit+1 {
			t.Fatalf("read %d bytes past the limit of %d", buf.Len(), limit)
		}
		switch {
		case err == nil && buf.Len() > limit:
			t.Fatalf("accepted %d bytes over the limit", buf.Len())
		case err == nil && !gz && !bytes.Equal(buf.Bytes(), body):
			t.Fatalf("plain body changed")
		case !gz && len(body) > limit && !errors.Is(err, errTooLarge):
			t.Fatalf("plain body of %d bytes: %v, want errTooLarge", len(body), err)
		}
	})
}

// FuzzParseTokens feeds arbitrary tokens files to their parser: it
// returns an error naming the file, or at least one entry, each a valid
// token entry, one for each line that is neither blank nor a comment.
func FuzzParseTokens(f *testing.F) {
	f.Add("ci:first-token\n")
	f.Add("# rotated\n\nbatch:second-token\r\nbare-token\n")
	f.Add("batch:second-token\nbroken:\n")
	f.Add("  \n# only a comment\n")
	f.Add("a b\n")
	f.Add(":token\nname:\n")
	f.Fuzz(func(t *testing.T, file string) {
		entries, err := parseTokens(strings.NewReader(file), "tokens")
		if err != nil {
			if entries != nil || !strings.HasPrefix(err.Error(), "ingest.auth.tokens_file tokens") {
				t.Fatalf("error %q with %d entries, want none and the file named", err, len(entries))
			}
			return
		}
		lines := 0
		for _, l := range strings.Split(file, "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				lines++
			}
		}
		if len(entries) == 0 || len(entries) != lines {
			t.Fatalf("%d entries from %d token lines", len(entries), lines)
		}
		for _, e := range entries {
			if _, _, err := config.ParseToken(e); err != nil {
				t.Fatalf("entry %q: %v", e, err)
			}
		}
	})
}

// FuzzCheckAuthorization feeds arbitrary Authorization values to the token
// check: it refuses with errAuthMissing or errAuthInvalid, or accepts a
// value holding a configured token and names that token's client.
func FuzzCheckAuthorization(f *testing.F) {
	tokens := map[string]string{"first-token": "ci", "second-token": "batch"}
	a, err := newAuthenticator(config.IngestAuth{Tokens: []string{"ci:first-token", "batch:second-token"}}, realClock{}, testkit.QuietLog(), nil)
	if err != nil {
		f.Fatal(err)
	}
	for token, client := range tokens {
		if name, err := a.check("Bearer " + token); err != nil || name != client {
			f.Fatalf("Bearer %s: %q, %v; want %q", token, name, err, client)
		}
	}
	for _, v := range []string{"Bearer first-token", "bearer  second-token ", "Bearer", "Basic first-token", "", "Bearer first-token second-token", "Bearer first-tokenx"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, authorization string) {
		name, err := a.check(authorization)
		if err != nil {
			if err != errAuthMissing && err != errAuthInvalid {
				t.Fatalf("check(%q) = %v, want errAuthMissing or errAuthInvalid", authorization, err)
			}
			return
		}
		for token, client := range tokens {
			if strings.Contains(authorization, token) && name == client {
				return
			}
		}
		t.Fatalf("check(%q) accepted, naming %q", authorization, name)
	})
}

// FuzzParseContentType feeds arbitrary Content-Type values to their
// parser: only the two OTLP media types (any case, any parameters) are
// OTLP, and only the JSON one is JSON.
func FuzzParseContentType(f *testing.F) {
	for _, v := range []string{contentTypeProtobuf, contentTypeJSON, "application/JSON; charset=utf-8", "text/plain", "", "application/x-protobuf;", ";;"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		isJSON, ok := parseContentType(ct)
		mt, _, _ := strings.Cut(strings.ToLower(ct), ";")
		mt = strings.TrimSpace(mt)
		if ok && mt != contentTypeProtobuf && mt != contentTypeJSON {
			t.Fatalf("%q taken as OTLP", ct)
		}
		if isJSON && (!ok || mt != contentTypeJSON) {
			t.Fatalf("%q taken as OTLP/JSON", ct)
		}
	})
}

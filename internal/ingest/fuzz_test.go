package ingest

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
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

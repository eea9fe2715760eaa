package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// OTLP/HTTP content types.
const (
	contentTypeProtobuf = "application/x-protobuf"
	contentTypeJSON     = "application/json"
)

var (
	errTooLarge            = errors.New("request body too large")
	errUnsupportedEncoding = errors.New("unsupported content encoding")
)

// pooledBufferCap is the largest body buffer returned to the pool, so that
// one big request does not pin its memory.
const pooledBufferCap = 1 << 20

var (
	bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	gzipPool   sync.Pool // *gzip.Reader
)

func newHTTPHandler(s *Service) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(logsSignal.path, httpExport(s, logsSignal))
	mux.Handle(metricsSignal.path, httpExport(s, metricsSignal))
	mux.Handle(tracesSignal.path, httpExport(s, tracesSignal))
	return mux
}

// httpExport serves one OTLP/HTTP path and counts the outcome.
func httpExport[Req, Resp proto.Message](s *Service, sig signal[Req, Resp]) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		isJSON, otlp := parseContentType(r.Header.Get("Content-Type"))
		res, err := serveExport(s, sig, w, r, isJSON, otlp)
		outcome := res.outcome()
		if err != nil {
			outcome = writeError(w, isJSON, err)
		}
		s.m.requests.WithLabelValues(sig.name, transportHTTP, outcome).Inc()
		s.m.duration.WithLabelValues(sig.name, transportHTTP).Observe(time.Since(began).Seconds())
	}
}

// serveExport answers a successful export itself and returns the error of
// one that failed, for writeError. otlp tells whether the request has an
// OTLP content type, isJSON whether it is OTLP/JSON.
func serveExport[Req, Resp proto.Message](s *Service, sig signal[Req, Resp], w http.ResponseWriter, r *http.Request, isJSON, otlp bool) (result, error) {
	client, err := s.authHTTP(r)
	if err != nil {
		return result{}, err
	}
	if r.Method != http.MethodPost {
		return result{}, errMethod
	}
	if !otlp {
		return result{}, failuref(reasonUnsupported, "unsupported content type %q: use %s or %s",
			r.Header.Get("Content-Type"), contentTypeProtobuf, contentTypeJSON)
	}
	if !s.ready.Load() {
		return result{}, errNotReady
	}
	buf := bufferPool.Get().(*bytes.Buffer)
	defer putBuffer(buf)
	if err := readBody(w, r, s.cfg.MaxRequestBytes, buf); err != nil {
		return result{}, err
	}
	recs, rejs, err := decodeConvert(s, sig, buf.Bytes(), isJSON, sourceHTTP)
	if err != nil {
		return result{}, failure(reasonBadPayload, err)
	}
	res, err := export(r.Context(), s, sig, transportHTTP, client, recs, rejs)
	if err != nil {
		return result{}, err
	}
	writeMessage(w, isJSON, http.StatusOK, sig.respond(res.rejected, res.message))
	return res, nil
}

// errMethod answers OTLP/HTTP requests other than POST.
var errMethod = failure(reasonMethod, errors.New("only POST is allowed"))

// readBody reads the body into buf, decompressing gzip. The limit applies
// to the decompressed bytes, which are read through a LimitReader so that a
// gzip bomb never expands past limit+1 bytes in memory. An error is an
// export error: too large, unsupported encoding or bad payload.
func readBody(w http.ResponseWriter, r *http.Request, limit int, buf *bytes.Buffer) error {
	err := readLimited(w, r, limit, buf)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errTooLarge):
		return failuref(reasonTooLarge, "request body is over the limit of %d bytes (after decompression)", limit)
	case errors.Is(err, errUnsupportedEncoding):
		return failure(reasonUnsupported, err)
	}
	return failuref(reasonBadPayload, "cannot read request body: %w", err)
}

func readLimited(w http.ResponseWriter, r *http.Request, limit int, buf *bytes.Buffer) error {
	if r.ContentLength > int64(limit) {
		return errTooLarge
	}
	body := io.Reader(http.MaxBytesReader(w, r.Body, int64(limit)))
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		if r.ContentLength > 0 {
			buf.Grow(int(r.ContentLength))
		}
	case "gzip":
		zr, err := gzipReader(body)
		if err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		defer gzipPool.Put(zr)
		body = zr
	default:
		return fmt.Errorf("%w %q: use gzip or none", errUnsupportedEncoding, enc)
	}
	_, err := buf.ReadFrom(io.LimitReader(body, int64(limit)+1))
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) || buf.Len() > limit {
		return errTooLarge
	}
	return err
}

func gzipReader(r io.Reader) (*gzip.Reader, error) {
	if zr, ok := gzipPool.Get().(*gzip.Reader); ok {
		if err := zr.Reset(r); err != nil {
			gzipPool.Put(zr)
			return nil, err
		}
		return zr, nil
	}
	return gzip.NewReader(r)
}

func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() > pooledBufferCap {
		return
	}
	buf.Reset()
	bufferPool.Put(buf)
}

// parseContentType reports whether ct is OTLP/JSON, and whether it is an
// OTLP content type at all.
func parseContentType(ct string) (isJSON, ok bool) {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false, false
	}
	switch mt {
	case contentTypeProtobuf:
		return false, true
	case contentTypeJSON:
		return true, true
	}
	return false, false
}

// writeError answers a failed export as the OTLP specification asks: the
// reason's status code, Retry-After when the client should retry, a
// WWW-Authenticate challenge (RFC 6750) when it lacks a valid token, and
// returns the outcome to count.
func writeError(w http.ResponseWriter, isJSON bool, err error) string {
	rs := reasonOf(err)
	a := answers[rs]
	switch {
	case a.retryable:
		w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter.Seconds())))
	case rs == reasonMethod:
		w.Header().Set("Allow", http.MethodPost)
	case rs == reasonTokenMissing:
		w.Header().Set("WWW-Authenticate", `Bearer realm="otlp"`)
	case rs == reasonTokenInvalid:
		w.Header().Set("WWW-Authenticate", `Bearer realm="otlp", error="invalid_token"`)
	}
	if rs == reasonMethod {
		isJSON = false // answered in the default encoding
	}
	writeStatus(w, isJSON, a.http, a.grpc, err.Error())
	return a.outcome
}

// writeStatus answers with a google.rpc.Status body, as OTLP/HTTP asks.
func writeStatus(w http.ResponseWriter, isJSON bool, httpCode int, code codes.Code, msg string) {
	writeMessage(w, isJSON, httpCode, &statuspb.Status{Code: int32(code), Message: msg})
}

func writeMessage(w http.ResponseWriter, isJSON bool, httpCode int, m proto.Message) {
	var body []byte
	var err error
	if isJSON {
		w.Header().Set("Content-Type", contentTypeJSON)
		body, err = protojson.Marshal(m)
	} else {
		w.Header().Set("Content-Type", contentTypeProtobuf)
		body, err = proto.Marshal(m)
	}
	if err != nil {
		http.Error(w, "cannot encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(httpCode)
	_, _ = w.Write(body)
}

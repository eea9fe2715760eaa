package ingest

import (
	"bytes"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/driftlock/driftlock/internal/config"
)

const (
	testMaxRequest = 256 << 10
	testMaxRecord  = 4096
)

func smallLimits(cfg *config.Config) {
	cfg.Ingest.MaxRequestBytes = testMaxRequest
	cfg.Ingest.MaxRecordBytes = testMaxRecord
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// invalidUTF8 is a valid logs request whose body string holds the byte 0xff.
func invalidUTF8(t *testing.T) []byte {
	b := mustMarshal(t, logsRequest("svc", "bad-XXXX"))
	return bytes.Replace(b, []byte("XXXX"), []byte{'a', 0xff, 0xfe, 'b'}, 1)
}

// TestHTTPBadInput sends bad requests; each gets its status and a
// google.rpc.Status body in the request's encoding, and the service still
// serves a good request afterwards.
func TestHTTPBadInput(t *testing.T) {
	h := startHarness(t, smallLimits)
	good := mustMarshal(t, logsRequest("svc", "good"))
	big := mustMarshal(t, logsRequest("svc", strings.Repeat("x", testMaxRequest)))
	for _, tc := range []struct {
		name, method, path, ctype string
		body                      []byte
		header                    map[string]string
		want                      int
		wantMsg                   string
	}{
		{"truncated protobuf", "POST", "/v1/logs", contentTypeProtobuf, good[:len(good)-3], nil, 400, "invalid OTLP/protobuf logs request"},
		{"invalid json", "POST", "/v1/logs", contentTypeJSON, []byte(`{"resourceLogs": [`), nil, 400, "logs"},
		{"json of wrong shape", "POST", "/v1/metrics", contentTypeJSON, []byte(`{"resourceMetrics": 7}`), nil, 400, "metrics"},
		{"wrong content type", "POST", "/v1/logs", "text/plain", good, nil, 415, "unsupported content type"},
		{"no content type", "POST", "/v1/traces", "", good, nil, 415, "unsupported content type"},
		{"unknown encoding", "POST", "/v1/logs", contentTypeProtobuf, good, map[string]string{"Content-Encoding": "br"}, 415, "unsupported content encoding"},
		{"oversized body", "POST", "/v1/logs", contentTypeProtobuf, big, nil, 413, "over the limit of 262144 bytes"},
		{"oversized after gzip", "POST", "/v1/logs", contentTypeProtobuf, gzipBytes(t, big), map[string]string{"Content-Encoding": "gzip"}, 413, "after decompression"},
		{"not gzip", "POST", "/v1/logs", contentTypeProtobuf, good, map[string]string{"Content-Encoding": "gzip"}, 400, "gzip"},
		{"invalid utf-8", "POST", "/v1/logs", contentTypeProtobuf, invalidUTF8(t), nil, 400, "UTF-8"},
		{"GET", "GET", "/v1/logs", contentTypeProtobuf, nil, nil, 405, "only POST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, hdr := h.do(tc.method, tc.path, tc.ctype, tc.body, tc.header)
			if status != tc.want {
				t.Fatalf("status %d, want %d (body %q)", status, tc.want, body)
			}
			st := decodeStatus(t, hdr, body)
			if !strings.Contains(st.GetMessage(), tc.wantMsg) {
				t.Errorf("status message %q does not contain %q", st.GetMessage(), tc.wantMsg)
			}
			if st.GetCode() == int32(codes.OK) {
				t.Errorf("status code OK in an error answer")
			}
			h.expectGood(good)
		})
	}
}

func decodeStatus(t *testing.T, hdr http.Header, body []byte) *statuspb.Status {
	t.Helper()
	st := &statuspb.Status{}
	var err error
	if hdr.Get("Content-Type") == contentTypeJSON {
		err = protojson.Unmarshal(body, st)
	} else {
		err = proto.Unmarshal(body, st)
	}
	if err != nil {
		t.Fatalf("error body %q (%s) is not a google.rpc.Status: %v", body, hdr.Get("Content-Type"), err)
	}
	return st
}

// expectGood checks that a good protobuf request is accepted in full.
func (h *harness) expectGood(body []byte) {
	h.t.Helper()
	status, out, _ := h.post("/v1/logs", contentTypeProtobuf, body, nil)
	if status != http.StatusOK {
		h.t.Fatalf("good request after a bad one: status %d (%q)", status, out)
	}
	resp := &collogspb.ExportLogsServiceResponse{}
	if err := proto.Unmarshal(out, resp); err != nil || resp.GetPartialSuccess() != nil {
		h.t.Fatalf("good request: response %v, err %v", resp, err)
	}
}

func (h *harness) do(method, path, ctype string, body []byte, header map[string]string) (int, []byte, http.Header) {
	h.t.Helper()
	if method == http.MethodPost {
		return h.post(path, ctype, body, header)
	}
	req, _ := http.NewRequest(method, "http://"+h.svc.HTTPAddr()+path, nil)
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Allow") != http.MethodPost {
		h.t.Errorf("405 without Allow: POST")
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes(), resp.Header
}

// TestHTTPGzipBomb sends 1 GiB of zeros gzipped into about 1 MiB: the
// answer is 413 and decompression stops at the limit, so the process
// allocates nowhere near the expanded size.
func TestHTTPGzipBomb(t *testing.T) {
	h := startHarness(t, func(cfg *config.Config) { cfg.Ingest.MaxRequestBytes = 2 << 20; cfg.Ingest.MaxInflightBytes = 2 << 20 })
	// 1024 concatenated gzip members of 1 MiB of zeros each: a valid gzip
	// stream that expands to 1 GiB, built without compressing 1 GiB.
	bomb := bytes.Repeat(gzipBytes(t, make([]byte, 1<<20)), 1024)
	if len(bomb) > 2<<20 {
		t.Fatalf("bomb is %d bytes compressed, want under the 2 MiB body limit", len(bomb))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	status, body, hdr := h.post("/v1/logs", contentTypeProtobuf, bomb, map[string]string{"Content-Encoding": "gzip"})
	runtime.ReadMemStats(&after)
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d (%q), want 413", status, body)
	}
	if msg := decodeStatus(t, hdr, body).GetMessage(); !strings.Contains(msg, "after decompression") {
		t.Errorf("message %q", msg)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 64<<20 {
		t.Errorf("allocated %d MiB while refusing a gzip bomb; decompression is not bounded", grown>>20)
	}
	h.expectGood(mustMarshal(t, logsRequest("svc", "good")))
}

// TestHTTPRecordTooLarge: one record over ingest.max_record_bytes is named
// in partial_success; the others are delivered.
func TestHTTPRecordTooLarge(t *testing.T) {
	h := startHarness(t, smallLimits)
	ps := postLogs(t, h, logsRequest("svc", "first", strings.Repeat("y", 2*testMaxRecord), "third"))
	if ps.GetRejectedLogRecords() != 1 || !strings.Contains(ps.GetErrorMessage(), "log record 1") ||
		!strings.Contains(ps.GetErrorMessage(), "4096") {
		t.Fatalf("partial_success %v: want 1 rejected, naming log record 1 and the 4096-byte limit", ps)
	}
	recs := h.consumeAll()
	var bodies []string
	for _, r := range recs {
		_, data := decodeData(t, r)
		bodies = append(bodies, data["body"].(string))
	}
	if len(bodies) != 2 || !contains(bodies, "first") || !contains(bodies, "third") {
		t.Errorf("topic holds %q, want first and third", bodies)
	}
	if m := h.metricsText(); !strings.Contains(m, `driftlock_ingest_rejected_records_total{reason="too_large",signal="logs"} 1`) {
		t.Errorf("rejection not counted in metrics")
	}
}

// TestHTTPJSON accepts OTLP/JSON and answers in JSON.
func TestHTTPJSON(t *testing.T) {
	h := startHarness(t, nil)
	body := []byte(`{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"web"}}]},
		"scopeLogs":[{"logRecords":[{"timeUnixNano":"1767322800000000000","body":{"stringValue":"hello"},
		"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}]}]}]}`)
	status, out, hdr := h.post("/v1/logs", "application/json; charset=utf-8", body, nil)
	if status != http.StatusOK || hdr.Get("Content-Type") != contentTypeJSON {
		t.Fatalf("status %d type %q (%q)", status, hdr.Get("Content-Type"), out)
	}
	resp := &collogspb.ExportLogsServiceResponse{}
	if err := protojson.Unmarshal(out, resp); err != nil || resp.GetPartialSuccess() != nil {
		t.Fatalf("response %q: %v", out, err)
	}
	recs := h.consumeAll()
	if len(recs) != 1 || string(recs[0].Key) != "web|log" {
		t.Fatalf("got %d records", len(recs))
	}
	_, data := decodeData(t, recs[0])
	if data["body"] != "hello" || data["trace_id"] != "5b8efff798038103d269b633813fc60c" || data["span_id"] != "eee19b7ec3c1b174" {
		t.Errorf("data %v", data)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

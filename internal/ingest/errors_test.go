package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/driftlock/driftlock/internal/testkit"
)

// TestErrorAnswers: each reason an export fails for gets its OTLP answer on
// both transports, Retry-After (HTTP) or RetryInfo (gRPC) exactly when the
// client should retry, and its outcome label.
func TestErrorAnswers(t *testing.T) {
	for _, tc := range []struct {
		err       error
		http      int
		grpc      codes.Code
		outcome   string
		retryable bool
	}{
		{failuref(reasonBadPayload, "bad"), 400, codes.InvalidArgument, "bad_request", false},
		{failuref(reasonTooLarge, "big"), 413, codes.InvalidArgument, "too_large", false},
		{failuref(reasonUnsupported, "text/plain"), 415, codes.InvalidArgument, "unsupported_media_type", false},
		{errMethod, 405, codes.Unimplemented, "method_not_allowed", false},
		{errAuthMissing, 401, codes.Unauthenticated, "unauthenticated", false},
		{errAuthInvalid, 401, codes.Unauthenticated, "unauthenticated", false},
		{errOverloaded, 429, codes.ResourceExhausted, "overloaded", true},
		{errNotReady, 503, codes.Unavailable, "unavailable", true},
		{errClosed, 503, codes.Unavailable, "unavailable", true},
		{kafkaFailure(fmt.Errorf("%w within 1s", errNoAck)), 503, codes.Unavailable, "unavailable", true},
		{kafkaFailure(errors.New("dial tcp: connection refused")), 503, codes.Unavailable, "unavailable", true},
		{errors.New("not typed"), 503, codes.Unavailable, "unavailable", true},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			w := httptest.NewRecorder()
			if outcome := writeError(w, false, tc.err); outcome != tc.outcome {
				t.Errorf("http outcome %q, want %q", outcome, tc.outcome)
			}
			if w.Code != tc.http {
				t.Errorf("http status %d, want %d", w.Code, tc.http)
			}
			st := decodeStatus(t, w.Header(), w.Body.Bytes())
			if codes.Code(st.GetCode()) != tc.grpc || st.GetMessage() != tc.err.Error() {
				t.Errorf("http body status %v, want %v %q", st, tc.grpc, tc.err)
			}
			if got := w.Header().Get("Retry-After") != ""; got != tc.retryable {
				t.Errorf("Retry-After present %v, want %v", got, tc.retryable)
			}
			outcome, err := grpcError(tc.err)
			if outcome != tc.outcome {
				t.Errorf("grpc outcome %q, want %q", outcome, tc.outcome)
			}
			gst := status.Convert(err)
			if gst.Code() != tc.grpc || gst.Message() != tc.err.Error() {
				t.Errorf("grpc status %v, want %v %q", gst, tc.grpc, tc.err)
			}
			var retryInfo bool
			for _, d := range gst.Details() {
				_, ok := d.(*errdetails.RetryInfo)
				retryInfo = retryInfo || ok
			}
			if retryInfo != tc.retryable {
				t.Errorf("RetryInfo present %v, want %v", retryInfo, tc.retryable)
			}
		})
	}
}

// TestErrorHeaders: 401 carries its RFC 6750 challenge, 405 its Allow.
func TestErrorHeaders(t *testing.T) {
	for _, tc := range []struct {
		err          error
		header, want string
	}{
		{errAuthMissing, "WWW-Authenticate", `Bearer realm="otlp"`},
		{errAuthInvalid, "WWW-Authenticate", `Bearer realm="otlp", error="invalid_token"`},
		{errMethod, "Allow", http.MethodPost},
	} {
		w := httptest.NewRecorder()
		writeError(w, true, tc.err)
		if got := w.Header().Get(tc.header); got != tc.want {
			t.Errorf("%v: %s %q, want %q", tc.err, tc.header, got, tc.want)
		}
	}
}

// TestKafkaFailureReasons: a failed write is told apart by cause, keeps it
// in the chain, and is always retryable.
func TestKafkaFailureReasons(t *testing.T) {
	for _, tc := range []struct {
		cause error
		want  reason
	}{
		{fmt.Errorf("%w within 10s", errNoAck), reasonKafkaTimeout},
		{errExpired, reasonKafkaTimeout},
		{fmt.Errorf("metadata: %w", kafka.UnknownTopicOrPartition), reasonTopicMissing},
		{fmt.Errorf("%w within 10s (last error: %w)", errNoAck, kafka.UnknownTopicOrPartition), reasonTopicMissing},
		{fmt.Errorf("%w within 10s (last error: %w)", errNoAck, kafka.NotEnoughReplicas), reasonKafkaTimeout},
		{kafka.NotLeaderForPartition, reasonKafkaUnavailable},
		{kafka.InvalidRecord, reasonKafkaUnavailable},
	} {
		err := kafkaFailure(tc.cause)
		if got := reasonOf(err); got != tc.want || !errors.Is(err, tc.cause) || !got.retryable() {
			t.Errorf("kafkaFailure(%v) = %v (reason %d), want reason %d wrapping the cause", tc.cause, err, got, tc.want)
		}
	}
	for r := reasonBadPayload; r <= reasonTopicMissing; r++ {
		if _, ok := answers[r]; !ok {
			t.Errorf("reason %d has no answer", r)
		}
	}
}

// TestTopicDeleted: once the events topic is gone, a request fails as
// retryable within the write timeout, reason topic_missing (the last answer
// of the broker it was retried on), counted as such.
func TestTopicDeleted(t *testing.T) {
	clock := testkit.NewManualClock(time.Now())
	h := startProducer(t, func(c *producerConfig) { c.clock, c.linger, c.writeTimeout = clock, 0, 500*time.Millisecond })
	if _, err := h.p.produce(context.Background(), logRecords("checkout|log", 1, 0)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if resp, err := adminClient(t, h.cfg.Kafka.Brokers).DeleteTopics(ctx, testTopic); err != nil || resp.Error() != nil {
		t.Fatalf("delete topic: %v %v", err, resp.Error())
	}
	answered := h.produceAsync(logRecords("checkout|log", 1, 0))
	clock.WaitForTimer(t, 10*time.Second, retryBackoffMin) // the refused batch's backoff
	clock.Advance(h.p.cfg.writeTimeout)
	err := waitProduced(t, answered, "produce to a deleted topic").err
	if r := reasonOf(err); r != reasonTopicMissing || !r.retryable() || !strings.Contains(err.Error(), "Unknown Topic Or Partition") {
		t.Fatalf("produce to a deleted topic: %v (reason %v), want topic_missing naming Kafka's answer", err, r)
	}
	if v := testutil.ToFloat64(h.m.kafkaErrors.WithLabelValues("topic_missing")); v != 1 {
		t.Errorf("topic_missing counted %v times, want 1", v)
	}
}

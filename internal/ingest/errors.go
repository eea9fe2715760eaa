package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/segmentio/kafka-go"
	"google.golang.org/grpc/codes"
)

// reason says why an export request failed. Each reason has one answer on
// each transport, tells whether the client may send the same data again,
// and is counted under one outcome of driftlock_ingest_requests_total.
type reason uint8

// Reasons an export request fails.
const (
	// Permanent: the same request fails the same way.
	reasonBadPayload   reason = iota + 1 // not a valid OTLP request
	reasonTooLarge                       // body over ingest.max_request_bytes
	reasonUnsupported                    // content type or encoding not OTLP's
	reasonMethod                         // OTLP/HTTP other than POST
	reasonTokenMissing                   // no bearer token
	reasonTokenInvalid                   // not a bearer token, or not a configured one
	// Retryable: the client sends the same data again after Retry-After.
	reasonOverloaded       // in-flight byte budget spent
	reasonNotReady         // events topic not ensured yet, or shutting down
	reasonKafkaUnavailable // broker down, connection lost or an error answer
	reasonKafkaTimeout     // no acknowledgement within ingest.write_timeout_ms
	reasonTopicMissing     // Kafka does not know the events topic
)

// reasonNames are the reasons as metric label values and in logs.
var reasonNames = map[reason]string{
	reasonBadPayload: "bad_payload", reasonTooLarge: "too_large", reasonUnsupported: "unsupported_media_type",
	reasonMethod: "method_not_allowed", reasonTokenMissing: "token_missing", reasonTokenInvalid: "token_invalid",
	reasonOverloaded: "overloaded", reasonNotReady: "not_ready", reasonKafkaUnavailable: "kafka_unavailable",
	reasonKafkaTimeout: "kafka_timeout", reasonTopicMissing: "topic_missing",
}

func (r reason) String() string { return reasonNames[r] }

// kafkaReasons are the reasons of driftlock_ingest_kafka_errors_total.
var kafkaReasons = []reason{reasonKafkaUnavailable, reasonKafkaTimeout, reasonTopicMissing}

// answer is how a reason is told to a client and counted.
type answer struct {
	outcome   string // driftlock_ingest_requests_total{outcome}
	http      int
	grpc      codes.Code
	retryable bool
}

var answers = map[reason]answer{
	reasonBadPayload:       {outcomeBadRequest, http.StatusBadRequest, codes.InvalidArgument, false},
	reasonTooLarge:         {outcomeTooLarge, http.StatusRequestEntityTooLarge, codes.InvalidArgument, false},
	reasonUnsupported:      {outcomeUnsupported, http.StatusUnsupportedMediaType, codes.InvalidArgument, false},
	reasonMethod:           {outcomeMethodNotAllow, http.StatusMethodNotAllowed, codes.Unimplemented, false},
	reasonTokenMissing:     {outcomeUnauthenticated, http.StatusUnauthorized, codes.Unauthenticated, false},
	reasonTokenInvalid:     {outcomeUnauthenticated, http.StatusUnauthorized, codes.Unauthenticated, false},
	reasonOverloaded:       {outcomeOverloaded, http.StatusTooManyRequests, codes.ResourceExhausted, true},
	reasonNotReady:         {outcomeUnavailable, http.StatusServiceUnavailable, codes.Unavailable, true},
	reasonKafkaUnavailable: {outcomeUnavailable, http.StatusServiceUnavailable, codes.Unavailable, true},
	reasonKafkaTimeout:     {outcomeUnavailable, http.StatusServiceUnavailable, codes.Unavailable, true},
	reasonTopicMissing:     {outcomeUnavailable, http.StatusServiceUnavailable, codes.Unavailable, true},
}

// exportError is a failed export request: why, and what the client is told.
type exportError struct {
	reason reason
	err    error
}

func (e *exportError) Error() string { return e.err.Error() }
func (e *exportError) Unwrap() error { return e.err }

// failure makes an export error of reason r with err's message.
func failure(r reason, err error) error { return &exportError{reason: r, err: err} }

// failuref makes an export error of reason r with a formatted message.
func failuref(r reason, format string, args ...any) error {
	return &exportError{reason: r, err: fmt.Errorf(format, args...)}
}

// reasonOf is the reason of err; an error that is no export error is
// Kafka's, and retryable.
func reasonOf(err error) reason {
	var e *exportError
	if errors.As(err, &e) {
		return e.reason
	}
	return reasonKafkaUnavailable
}

// answerOf is how err is told to the client and counted.
func answerOf(err error) answer { return answers[reasonOf(err)] }

// retryable reports whether the client should send the request again.
func (r reason) retryable() bool { return answers[r].retryable }

// kafkaFailure turns a failed write to Kafka into a retryable export error:
// the topic missing (Kafka does not know the topic or partition, also when
// that was the last answer before a timeout), a timeout, or Kafka
// unavailable.
func kafkaFailure(err error) error {
	var kerr kafka.Error
	switch {
	case errors.As(err, &kerr) && kerr == kafka.UnknownTopicOrPartition:
		return failuref(reasonTopicMissing, "kafka unavailable: %w", err)
	case errors.Is(err, errNoAck), errors.Is(err, errExpired), errors.Is(err, context.DeadlineExceeded):
		return failuref(reasonKafkaTimeout, "kafka unavailable: %w", err)
	}
	return failuref(reasonKafkaUnavailable, "kafka unavailable: %w", err)
}

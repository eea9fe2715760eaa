package ingest

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the ingest service's Prometheus series.
type metrics struct {
	received       *prometheus.CounterVec
	accepted       *prometheus.CounterVec
	rejected       *prometheus.CounterVec
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	writeDuration  prometheus.Histogram
	kafkaErrors    *prometheus.CounterVec
	producerResets prometheus.Counter
	inflightBytes  prometheus.Gauge
	batchRecords   prometheus.Histogram
	authFailures   *prometheus.CounterVec
	tokensReloads  *prometheus.CounterVec
	handshakes     *prometheus.CounterVec

	kafkaBatchRecords prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftlock_ingest_received_records_total",
			Help: "Records (log records, metrics, spans) received, by signal and transport.",
		}, []string{"signal", "transport"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftlock_ingest_accepted_records_total",
			Help: "Records acknowledged by Kafka, by signal.",
		}, []string{"signal"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftlock_ingest_rejected_records_total",
			Help: "Records rejected permanently and reported in partial_success, by signal and reason.",
		}, []string{"signal", "reason"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftlock_ingest_requests_total",
			Help: "Export requests answered, by signal, transport and outcome.",
		}, []string{"signal", "transport", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "driftlock_ingest_request_duration_seconds",
			Help:    "Time to answer an export request, from its handler being called to its answer, by signal and transport.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"signal", "transport"}),
		writeDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "driftlock_ingest_kafka_write_duration_seconds",
			Help:    "Time from handing a request's records to the producer until Kafka acknowledged them all.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}),
		kafkaErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftlock_ingest_kafka_errors_total",
			Help: "Export requests whose records Kafka did not take, by reason: kafka_unavailable (broker or connection error), kafka_timeout (no acknowledgement in time), topic_missing.",
		}, []string{"reason"}),
		producerResets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "driftlock_ingest_producer_resets_total",
			Help: "Times the idempotent producer's epoch was bumped (or a new producer id taken) because a partition's sequence could not go on.",
		}),
		inflightBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "driftlock_ingest_inflight_bytes",
			Help: "Bytes of encoded events waiting for Kafka's acknowledgement.",
		}),
		batchRecords: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "driftlock_ingest_request_records",
			Help:    "Records per export request.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9),
		}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftlock_ingest_auth_failures_total",
			Help: "Export requests refused for their bearer token, by transport and reason (missing, invalid).",
		}, []string{"transport", "reason"}),
		tokensReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftlock_ingest_tokens_file_reloads_total",
			Help: "Changes of ingest.auth.tokens_file seen, by outcome: loaded, or failed (the previous tokens stay in use).",
		}, []string{"outcome"}),
		handshakes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftlock_ingest_tls_handshake_errors_total",
			Help: "TLS handshakes that failed (no or a bad client certificate, an old TLS version, a client gone), by server: grpc, http, admin.",
		}, []string{"server"}),
		kafkaBatchRecords: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "driftlock_ingest_kafka_batch_records",
			Help:    "Records per record batch produced to Kafka.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9),
		}),
	}
	for _, r := range kafkaReasons {
		m.kafkaErrors.WithLabelValues(r.String())
	}
	reg.MustRegister(m.received, m.accepted, m.rejected, m.requests, m.duration,
		m.writeDuration, m.kafkaErrors, m.producerResets, m.inflightBytes, m.batchRecords, m.kafkaBatchRecords, m.authFailures, m.tokensReloads, m.handshakes)
	return m
}

// Request outcomes of driftlock_ingest_requests_total.
const (
	outcomeSuccess         = "success"
	outcomePartial         = "partial_success"
	outcomeBadRequest      = "bad_request"
	outcomeTooLarge        = "too_large"
	outcomeUnsupported     = "unsupported_media_type"
	outcomeOverloaded      = "overloaded"
	outcomeUnavailable     = "unavailable"
	outcomeMethodNotAllow  = "method_not_allowed"
	outcomeUnauthenticated = "unauthenticated"
)

package detector

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the detector's Prometheus collectors. Records re-read to
// rebuild state after an assignment are counted only in replayed, so that
// the other counters summed over replicas count each record once.
type metrics struct {
	events             *prometheus.CounterVec
	judgements         prometheus.Counter
	anomalies          *prometheus.CounterVec
	suppressed         prometheus.Counter
	judgementDuration  prometheus.Histogram
	lag                *prometheus.GaugeVec
	partitionsHeld     prometheus.Gauge
	streams            prometheus.Gauge
	evictions          prometheus.Counter
	rebalances         prometheus.Counter
	invalid            *prometheus.CounterVec
	replayed           prometheus.Counter
	publishErrors      prometheus.Counter
	commitErrors       prometheus.Counter
	deadLetters        prometheus.Counter
	publishedAnomalies prometheus.Counter
	checkpointBytes    prometheus.Histogram
	checkpointWrite    prometheus.Histogram
	checkpoints        *prometheus.CounterVec
	restoreDuration    prometheus.Histogram
	restores           *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftlock_detector_events_total",
			Help: "Events scored, by signal (replayed records excluded).",
		}, []string{"signal"}),
		judgements: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "driftlock_detector_judgements_total",
			Help: "Windows judged (replayed records excluded).",
		}),
		anomalies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftlock_detector_anomalies_total",
			Help: "Anomalies found and handed to the publisher, by signal and kind (window or event).",
		}, []string{"signal", "kind"}),
		suppressed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "driftlock_detector_anomalies_suppressed_total",
			Help: "Anomalies not published again because a previous owner of the partition had published them.",
		}),
		judgementDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "driftlock_detector_judgement_duration_seconds",
			Help:    "Time to push the event that completes a hop and judge the window.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "driftlock_detector_consumer_lag",
			Help: "Records between the last record read and the partition's high watermark.",
		}, []string{"partition"}),
		partitionsHeld: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "driftlock_detector_partitions_held",
			Help: "Partitions of the events topic assigned to this replica.",
		}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "driftlock_detector_streams",
			Help: "Streams whose windows this replica holds.",
		}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "driftlock_detector_stream_evictions_total",
			Help: "Streams dropped because a partition reached detector.max_streams.",
		}),
		rebalances: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "driftlock_detector_rebalances_total",
			Help: "Consumer group generations this replica joined.",
		}),
		invalid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftlock_detector_invalid_records_total",
			Help: "Records skipped because they are not valid events, by reason.",
		}, []string{"reason"}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "driftlock_detector_replayed_records_total",
			Help: "Records re-read without publishing to rebuild window state after an assignment.",
		}),
		publishErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "driftlock_detector_publish_errors_total",
			Help: "Failed attempts to write anomalies or dead letters (each is retried).",
		}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "driftlock_detector_commit_errors_total",
			Help: "Failed offset commits.",
		}),
		deadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "driftlock_detector_dead_letters_total",
			Help: "Invalid records written to the dead-letter topic.",
		}),
		publishedAnomalies: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "driftlock_detector_anomalies_published_total",
			Help: "Anomalies acknowledged by the anomalies topic.",
		}),
		checkpointBytes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "driftlock_detector_checkpoint_size_bytes",
			Help:    "Compressed size of each partition state checkpoint written to the state topic.",
			Buckets: prometheus.ExponentialBuckets(1<<10, 4, 12),
		}),
		checkpointWrite: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "driftlock_detector_checkpoint_write_duration_seconds",
			Help:    "Time to encode, compress and write one checkpoint until acknowledged.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		checkpoints: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftlock_detector_checkpoints_total",
			Help: "Checkpoints of partition state, by outcome (written or failed).",
		}, []string{"outcome"}),
		restoreDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "driftlock_detector_checkpoint_restore_duration_seconds",
			Help:    "Time to read a partition's checkpoints from the state topic and restore the state (replay after it excluded).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		restores: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftlock_detector_checkpoint_restores_total",
			Help: "Partition assignments by how state was rebuilt: restored (from a checkpoint), none (no usable checkpoint: full replay), rejected (a checkpoint passed over: torn, corrupt or of other settings).",
		}, []string{"outcome"}),
	}
	reg.MustRegister(m.events, m.judgements, m.anomalies, m.suppressed, m.judgementDuration,
		m.lag, m.partitionsHeld, m.streams, m.evictions, m.rebalances, m.invalid,
		m.replayed, m.publishErrors, m.commitErrors, m.deadLetters, m.publishedAnomalies,
		m.checkpointBytes, m.checkpointWrite, m.checkpoints, m.restoreDuration, m.restores)
	// Outcomes are served from the start, at 0, so that rates and alerts on
	// them see a series before the first checkpoint.
	for _, o := range []string{"written", "failed"} {
		m.checkpoints.WithLabelValues(o)
	}
	for _, o := range []string{"restored", "none", "rejected"} {
		m.restores.WithLabelValues(o)
	}
	return m
}

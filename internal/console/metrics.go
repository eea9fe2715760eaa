package console

import "github.com/prometheus/client_golang/prometheus"

// metrics are the console's own Prometheus metrics.
type metrics struct {
	received       prometheus.Counter
	evicted        prometheus.Counter
	invalid        prometheus.Counter
	retained       prometheus.Gauge
	incidents      prometheus.Gauge
	streamsEvicted prometheus.Counter
	sseClients     prometheus.Gauge
	sseDropped     prometheus.Counter
	sseRejected    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		received: prometheus.NewCounter(prometheus.CounterOpts{Name: "driftlock_console_anomalies_received_total",
			Help: "Distinct anomalies stored (duplicates by id are not counted)."}),
		evicted: prometheus.NewCounter(prometheus.CounterOpts{Name: "driftlock_console_anomalies_evicted_total",
			Help: "Anomalies dropped from memory to keep console.max_anomalies."}),
		invalid: prometheus.NewCounter(prometheus.CounterOpts{Name: "driftlock_console_invalid_records_total",
			Help: "anomaly-events records that are not valid anomalies, skipped."}),
		retained: prometheus.NewGauge(prometheus.GaugeOpts{Name: "driftlock_console_anomalies_retained",
			Help: "Anomalies held in memory."}),
		incidents: prometheus.NewGauge(prometheus.GaugeOpts{Name: "driftlock_console_incidents_retained",
			Help: "Incidents with at least one anomaly held in memory."}),
		streamsEvicted: prometheus.NewCounter(prometheus.CounterOpts{Name: "driftlock_console_streams_evicted_total",
			Help: "Stream summaries forgotten to bound the number of streams held."}),
		sseClients: prometheus.NewGauge(prometheus.GaugeOpts{Name: "driftlock_console_sse_clients",
			Help: "Connected live-stream (SSE) clients."}),
		sseDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "driftlock_console_sse_dropped_clients_total",
			Help: "Live-stream clients disconnected because they did not keep up."}),
		sseRejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "driftlock_console_sse_rejected_clients_total",
			Help: "Live-stream clients refused because console.max_sse_clients were connected."}),
	}
	for _, c := range []prometheus.Collector{m.received, m.evicted, m.invalid, m.retained, m.incidents, m.streamsEvicted, m.sseClients, m.sseDropped, m.sseRejected} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Package alert forwards anomalies to Prometheus Alertmanager (its v2 API)
// and to generic webhooks, as one alert per incident: the first record of
// an incident raises it, later records of the same incident update it.
// Each target has a bounded queue and one worker that retries failed
// deliveries with exponential backoff; an anomaly id is forwarded at most
// once per process (a bounded set of recent ids remembers what was sent or
// deliberately skipped), and a bounded set of recent incidents remembers
// what each one's alert already said.
package alert

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/driftlock/driftlock/internal/anomaly"
)

// Config configures a Forwarder.
type Config struct {
	// AlertmanagerURL is the base URL of an Alertmanager; alerts go to
	// {AlertmanagerURL}/api/v2/alerts. Empty turns it off.
	AlertmanagerURL string
	// WebhookURLs each receive every anomaly as its JSON record, plus
	// whether it opens its incident or updates it.
	WebhookURLs []string
	// AnomalyURL returns the console page of an anomaly, used as the
	// alert's generatorURL. Nil leaves generatorURL empty.
	AnomalyURL func(id string) string
	// QueueSize bounds the anomalies waiting per target. Default 1024.
	QueueSize int
	// DedupeSize bounds the remembered anomaly ids. Default 65536.
	DedupeSize int
	// IncidentSize bounds the remembered incidents; a record of a forgotten
	// incident opens it again. Default 16384.
	IncidentSize int
	// ResolveAfter is how long an incident's alert stays firing after its
	// latest record was offered (its endsAt); each record extends it.
	// Default 15m.
	ResolveAfter time.Duration
	// Now is the clock that sets endsAt. Default time.Now.
	Now func() time.Time
	// MaxAttempts bounds the deliveries of one anomaly to one target. Default 8.
	MaxAttempts int
	// BackoffMin is the wait after the first failure, doubled after each
	// further failure up to BackoffMax. Defaults 500ms and 30s.
	BackoffMin, BackoffMax time.Duration
	// Timeout bounds one HTTP request. Default 10s.
	Timeout time.Duration
}

func (c *Config) setDefaults() {
	if c.QueueSize <= 0 {
		c.QueueSize = 1024
	}
	if c.DedupeSize <= 0 {
		c.DedupeSize = 65536
	}
	if c.IncidentSize <= 0 {
		c.IncidentSize = 16384
	}
	if c.ResolveAfter <= 0 {
		c.ResolveAfter = 15 * time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.BackoffMin <= 0 {
		c.BackoffMin = 500 * time.Millisecond
	}
	if c.BackoffMax < c.BackoffMin {
		c.BackoffMax = max(30*time.Second, c.BackoffMin)
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
}

// Forwarder sends anomalies to the configured targets.
type Forwarder struct {
	cfg     Config
	log     *slog.Logger
	targets []*target
	metrics *prometheus.CounterVec

	mu        sync.Mutex
	seen      *idSet
	incidents *bounded[incidentState]
}

// New builds a Forwarder and registers driftlock_console_alerts_total{target,outcome}
// on reg. outcome is sent, retried, failed (gave up) or dropped (queue full).
func New(cfg Config, reg prometheus.Registerer, log *slog.Logger) (*Forwarder, error) {
	cfg.setDefaults()
	f := &Forwarder{
		cfg: cfg,
		log: log,
		metrics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftlock_console_alerts_total",
			Help: "Alert deliveries by target (alertmanager, webhook) and outcome (sent, retried, failed, dropped).",
		}, []string{"target", "outcome"}),
		seen:      newIDSet(cfg.DedupeSize),
		incidents: newBounded[incidentState](cfg.IncidentSize),
	}
	if err := reg.Register(f.metrics); err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: cfg.Timeout}
	if cfg.AlertmanagerURL != "" {
		f.targets = append(f.targets, newTarget("alertmanager", alertmanagerEndpoint(cfg.AlertmanagerURL),
			alertmanagerBody(cfg.AnomalyURL), client, f))
	}
	for _, u := range cfg.WebhookURLs {
		f.targets = append(f.targets, newTarget("webhook", u, webhookBody, client, f))
	}
	for _, t := range f.targets {
		for _, outcome := range []string{"sent", "retried", "failed", "dropped"} {
			f.metrics.WithLabelValues(t.name, outcome)
		}
	}
	return f, nil
}

// Enabled reports whether any target is configured.
func (f *Forwarder) Enabled() bool { return len(f.targets) > 0 }

// MarkSeen records a as handled without forwarding it, so a later copy of
// the same anomaly is not alerted either and a later record of its
// incident updates the incident's alert instead of opening it.
func (f *Forwarder) MarkSeen(a anomaly.Anomaly) {
	f.mu.Lock()
	if f.seen.add(a.ID) {
		f.note(a)
	}
	f.mu.Unlock()
}

// Offer queues a for every target unless its id was seen before. done, if
// not nil, is called once every target has finished with a (sent, given up
// or dropped); it is called at once when a is a duplicate or there are no
// targets. Offer never blocks.
func (f *Forwarder) Offer(a anomaly.Anomaly, done func()) {
	f.mu.Lock()
	dup := !f.seen.add(a.ID)
	var n Notice
	if !dup {
		n = f.note(a)
	}
	f.mu.Unlock()
	if dup || len(f.targets) == 0 {
		if done != nil {
			done()
		}
		return
	}
	j := &job{n: n, done: done}
	j.left.Store(int32(len(f.targets)))
	for _, t := range f.targets {
		t.offer(j)
	}
}

// Run delivers queued alerts until ctx ends. Alerts still queued then are
// abandoned (their done is not called, so their offsets stay uncommitted).
func (f *Forwarder) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, t := range f.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.run(ctx)
		}()
	}
	wg.Wait()
	<-ctx.Done()
	return nil
}

// errPermanent marks a delivery that must not be retried.
var errPermanent = errors.New("permanent failure")

// idSet is a bounded set of ids; the oldest id is forgotten first.
type idSet struct{ b *bounded[struct{}] }

func newIDSet(size int) *idSet { return &idSet{b: newBounded[struct{}](size)} }

// add inserts id and reports whether it was new.
func (s *idSet) add(id string) bool {
	if _, ok := s.b.get(id); ok {
		return false
	}
	s.b.put(id, struct{}{})
	return true
}

// bounded is a map of at most size keys; when a new key does not fit, the
// key inserted longest ago is forgotten.
type bounded[V any] struct {
	m    map[string]V
	ring []string
	next int
}

func newBounded[V any](size int) *bounded[V] {
	return &bounded[V]{m: make(map[string]V, size), ring: make([]string, size)}
}

func (b *bounded[V]) get(k string) (V, bool) {
	v, ok := b.m[k]
	return v, ok
}

// put sets the value of k, inserting k if it is new.
func (b *bounded[V]) put(k string, v V) {
	if _, ok := b.m[k]; !ok {
		if old := b.ring[b.next]; old != "" {
			delete(b.m, old)
		}
		b.ring[b.next] = k
		b.next = (b.next + 1) % len(b.ring)
	}
	b.m[k] = v
}

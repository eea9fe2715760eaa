package ingest

import "time"

// Clock tells the time and waits. The service reads time through it where
// tests step time instead of sleeping (WithClock): when the tokens file is
// checked, how often a failed TLS handshake is logged, how long the
// partition count and leaders are cached, and when a request stops waiting
// for Kafka (ingest.write_timeout_ms). The producer's own timers (linger,
// retry backoff, a batch's delivery deadline, socket deadlines) stay on the
// wall clock. testkit.ManualClock is one.
type Clock interface {
	Now() time.Time
	// After sends the time on the channel once d has passed.
	After(d time.Duration) <-chan time.Time
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// WithClock replaces the wall clock. Default the wall clock.
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

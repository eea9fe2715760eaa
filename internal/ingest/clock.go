package ingest

import "time"

// Clock tells the time and waits. The service reads time through it where
// tests step time instead of sleeping (WithClock): when the tokens file and
// the TLS files are checked, how often a failed TLS handshake is logged,
// how long the partition count and leaders are cached, when a request stops
// waiting for Kafka (ingest.write_timeout_ms), and the producer's timers: a
// batch's linger (kafka.batch_timeout_ms), the backoff between its
// attempts, its delivery deadline and how long an idle lane is kept.
// Socket deadlines are waits on the network and stay on the wall clock.
// testkit.ManualClock is one.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f once d has passed, on another goroutine than
	// the caller's, as time.AfterFunc does.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer stops a Clock's AfterFunc or arms it again, as *time.Timer does.
// It is an interface literal, so that clocks declared in other packages
// with the same literal (testkit.Timer) meet Clock.
type Timer = interface {
	Reset(d time.Duration) bool
	Stop() bool
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// WithClock replaces the wall clock. Default the wall clock.
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// after returns a channel closed once d has passed on c, and its timer.
func after(c Clock, d time.Duration) (<-chan struct{}, Timer) {
	ch := make(chan struct{})
	return ch, c.AfterFunc(d, func() { close(ch) })
}

// alarm is a timer of a Clock that calls wake, made when first set and
// reused after.
type alarm struct {
	clock Clock
	wake  func()
	t     Timer
}

// set arms a to call wake when the clock reaches until, now being the
// clock's time read before. Should the clock have moved past until between
// the reading and the arming (a clock stepped by a test), wake is called
// at once rather than a timer's length late.
func (a *alarm) set(now, until time.Time) {
	if d := until.Sub(now); a.t == nil {
		a.t = a.clock.AfterFunc(d, a.wake)
	} else {
		a.t.Reset(d)
	}
	if !a.clock.Now().Before(until) {
		a.wake()
	}
}

// stop disarms a.
func (a *alarm) stop() {
	if a.t != nil {
		a.t.Stop()
	}
}

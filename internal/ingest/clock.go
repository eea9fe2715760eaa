package ingest

import "time"

// Clock tells the time and waits. The service reads time through it where
// tests step time instead of sleeping (WithClock): the tokens file check,
// the partition count's cache, the write timeout and a batch's retries
// and delivery deadline. testkit.ManualClock is one.
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

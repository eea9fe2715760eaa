package testkit

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// ManualClock is a clock that moves only when Advance is called, so that
// a test steps past a timer instead of sleeping through it. It has the
// methods of the clocks services take (Now, After, AfterFunc).
type ManualClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*manualTimer
	added   chan struct{} // closed when a timer is armed; nil until asked for
}

// Timer is what AfterFunc returns: the methods of *time.Timer that stop
// it and arm it again. It is an interface literal, so that a clock
// interface declared elsewhere with the same literal is met.
type Timer = interface {
	Reset(d time.Duration) bool
	Stop() bool
}

// manualTimer is one After or AfterFunc: fire runs once the clock reaches
// at, outside the clock's lock.
type manualTimer struct {
	c    *ManualClock
	at   time.Time
	fire func(now time.Time)
}

// NewManualClock returns a clock standing at start.
func NewManualClock(start time.Time) *ManualClock { return &ManualClock{now: start} }

// Now is the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After sends the clock's time once Advance has moved it d past now; at
// once when d is not positive.
func (c *ManualClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	t := &manualTimer{c: c, fire: func(now time.Time) { ch <- now }}
	t.Reset(d)
	return ch
}

// AfterFunc calls f once Advance has moved the clock d past now, on the
// goroutine that calls Advance; when d is not positive, at once on a
// goroutine of its own, as time.AfterFunc does. The timer's Stop cancels
// the call and reports whether it did; Reset arms it again, d from the
// clock's time then.
func (c *ManualClock) AfterFunc(d time.Duration, f func()) Timer {
	t := &manualTimer{c: c, fire: func(time.Time) { f() }}
	t.Reset(d)
	return t
}

// Stop takes t off the clock and reports whether it was waiting.
func (t *manualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return t.c.remove(t)
}

// Reset arms t to fire d from the clock's time and reports whether it was
// waiting before.
func (t *manualTimer) Reset(d time.Duration) bool {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	waited := c.remove(t)
	if d <= 0 {
		go t.fire(c.now)
		return waited
	}
	t.at = c.now.Add(d)
	c.waiters = append(c.waiters, t)
	if c.added != nil {
		close(c.added)
		c.added = nil
	}
	return waited
}

// remove takes t off the waiters; c.mu held.
func (c *ManualClock) remove(t *manualTimer) bool {
	i := slices.Index(c.waiters, t)
	if i < 0 {
		return false
	}
	c.waiters = slices.Delete(c.waiters, i, i+1)
	return true
}

// Advance moves the clock d forward and fires every After and AfterFunc it
// passed, earliest first.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	var due []*manualTimer
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(now) {
			kept = append(kept, w)
			continue
		}
		due = append(due, w)
	}
	clear(c.waiters[len(kept):])
	c.waiters = kept
	c.mu.Unlock()
	slices.SortStableFunc(due, func(a, b *manualTimer) int { return a.at.Compare(b.at) })
	for _, w := range due {
		w.fire(now)
	}
}

// Waiters is the number of After and AfterFunc timers still waiting (one
// stopped is no longer waiting).
func (c *ManualClock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// WaitForTimer waits until a timer (After or AfterFunc) is due within
// due of the clock's time, and fails the test if none is within d: the
// code under test has reached the timer, so that an Advance of due now
// passes it. Timers due later (a request's timeout armed before) do not
// count, so that the test steps the one it means.
func (c *ManualClock) WaitForTimer(t testing.TB, d, due time.Duration) {
	t.Helper()
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	for {
		c.mu.Lock()
		limit := c.now.Add(due)
		for _, w := range c.waiters {
			if !w.at.After(limit) {
				c.mu.Unlock()
				return
			}
		}
		if c.added == nil {
			c.added = make(chan struct{})
		}
		added := c.added
		c.mu.Unlock()
		select {
		case <-added:
		case <-timeout.C:
			t.Fatalf("timed out after %v waiting for a timer due within %v of the clock (%d waiting)", d, due, c.Waiters())
		}
	}
}

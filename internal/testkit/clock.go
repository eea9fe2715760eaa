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
	waiters []*manualWaiter
	added   chan struct{} // closed when a waiter is added; nil until asked for
}

// manualWaiter is one After or AfterFunc not fired yet: fire runs once the
// clock reaches at, outside the clock's lock.
type manualWaiter struct {
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
	c.add(d, func(now time.Time) { ch <- now })
	return ch
}

// AfterFunc calls f once Advance has moved the clock d past now, on the
// goroutine that calls Advance; when d is not positive, at once on a
// goroutine of its own, as time.AfterFunc does. stop cancels the call and
// reports whether it did (false: f was called or is being called).
func (c *ManualClock) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	return c.add(d, func(time.Time) { f() })
}

func (c *ManualClock) add(d time.Duration, fire func(time.Time)) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d <= 0 {
		go fire(c.now)
		return func() bool { return false }
	}
	w := &manualWaiter{at: c.now.Add(d), fire: fire}
	c.waiters = append(c.waiters, w)
	if c.added != nil {
		close(c.added)
		c.added = nil
	}
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		i := slices.Index(c.waiters, w)
		if i < 0 {
			return false
		}
		c.waiters = slices.Delete(c.waiters, i, i+1)
		return true
	}
}

// Advance moves the clock d forward and fires every After and AfterFunc it
// passed, earliest first.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	var due []*manualWaiter
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
	slices.SortStableFunc(due, func(a, b *manualWaiter) int { return a.at.Compare(b.at) })
	for _, w := range due {
		w.fire(now)
	}
}

// Waiters is the number of After and AfterFunc calls still waiting (an
// AfterFunc stopped is no longer waiting).
func (c *ManualClock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// WaitForWaiters waits until at least n After or AfterFunc calls wait on
// the clock and fails the test if they do not within d: the code under
// test has reached its timers, so that an Advance now passes them.
func (c *ManualClock) WaitForWaiters(t testing.TB, d time.Duration, n int) {
	t.Helper()
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	for {
		c.mu.Lock()
		if len(c.waiters) >= n {
			c.mu.Unlock()
			return
		}
		if c.added == nil {
			c.added = make(chan struct{})
		}
		added := c.added
		c.mu.Unlock()
		select {
		case <-added:
		case <-timeout.C:
			t.Fatalf("timed out after %v waiting for %d timers on the clock (%d waiting)", d, n, c.Waiters())
		}
	}
}

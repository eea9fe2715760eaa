package testkit

import (
	"strings"
	"testing"
	"time"
)

func TestManualClock(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewManualClock(start)
	now := c.After(0)
	soon, later := c.After(time.Second), c.After(time.Minute)
	if got := <-now; !got.Equal(start) {
		t.Errorf("After(0) sent %v, want %v", got, start)
	}
	if c.Waiters() != 2 {
		t.Fatalf("%d waiters, want 2", c.Waiters())
	}
	c.Advance(999 * time.Millisecond)
	select {
	case <-soon:
		t.Fatal("After(1s) fired 999ms in")
	default:
	}
	c.Advance(time.Millisecond)
	if got := <-soon; !got.Equal(start.Add(time.Second)) {
		t.Errorf("After(1s) sent %v", got)
	}
	if c.Waiters() != 1 || !c.Now().Equal(start.Add(time.Second)) {
		t.Errorf("after 1s: %d waiters, now %v", c.Waiters(), c.Now())
	}
	c.Advance(time.Hour)
	<-later
	if c.Waiters() != 0 {
		t.Errorf("%d waiters left", c.Waiters())
	}
}

func TestManualClockAfterFunc(t *testing.T) {
	c := NewManualClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	var order []string
	c.AfterFunc(2*time.Second, func() { order = append(order, "2s") })
	stopped := c.AfterFunc(time.Second, func() { order = append(order, "stopped") })
	again := c.AfterFunc(time.Hour, func() { order = append(order, "1s") })
	if !stopped.Stop() || stopped.Stop() {
		t.Error("Stop: want true once, then false")
	}
	if !again.Reset(time.Second) {
		t.Error("Reset of a waiting timer: want true")
	}
	c.WaitForTimer(t, time.Second, time.Second)
	c.Advance(3 * time.Second) // on this goroutine, earliest first
	if got := strings.Join(order, " "); got != "1s 2s" {
		t.Errorf("called %q, want 1s 2s", got)
	}
	now := make(chan struct{})
	if c.AfterFunc(0, func() { close(now) }).Stop() {
		t.Error("Stop of a call made at once: want false")
	}
	<-now
	fired := make(chan struct{})
	c.AfterFunc(time.Minute, func() {})
	go c.AfterFunc(time.Second, func() { close(fired) })
	c.WaitForTimer(t, 10*time.Second, time.Second) // not the one due in a minute
	c.Advance(time.Second)
	select {
	case <-fired:
	default:
		t.Error("the timer WaitForTimer waited for did not fire on Advance")
	}
}

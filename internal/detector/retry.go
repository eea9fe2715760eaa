package detector

import (
	"context"
	"time"
)

// backoff is the wait between the attempts of something retried until it
// succeeds or its context ends: from first, doubling after each wait up to
// most.
type backoff struct {
	first, most, next time.Duration
}

func newBackoff(first, most time.Duration) backoff {
	return backoff{first: first, most: most, next: first}
}

// wait waits the current backoff and doubles it; it returns false at once
// when ctx ends first.
func (b *backoff) wait(ctx context.Context) bool {
	t := time.NewTimer(b.next)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	}
	b.next = min(2*b.next, b.most)
	return true
}

// reset starts the waits again from the first.
func (b *backoff) reset() { b.next = b.first }

// retryBackoff is the backoff of the detector's retries of Kafka reads and
// writes (the state topic, checkpoints, published anomalies, publishing).
func retryBackoff() backoff { return newBackoff(100*time.Millisecond, 5*time.Second) }

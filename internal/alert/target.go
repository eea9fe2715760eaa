package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/driftlock/driftlock/internal/anomaly"
)

// job is one notice on its way to every target.
type job struct {
	n    Notice
	done func()
	left atomic.Int32
}

// finish is called by each target once; the last one calls done.
func (j *job) finish() {
	if j.left.Add(-1) == 0 && j.done != nil {
		j.done()
	}
}

// bodyFunc encodes a notice as the request body of a target.
type bodyFunc func(n Notice) ([]byte, error)

// target is one receiver with its bounded queue.
type target struct {
	name   string
	url    string
	body   bodyFunc
	client *http.Client
	f      *Forwarder
	queue  chan *job
}

func newTarget(name, url string, body bodyFunc, client *http.Client, f *Forwarder) *target {
	return &target{name: name, url: url, body: body, client: client, f: f, queue: make(chan *job, f.cfg.QueueSize)}
}

func (t *target) offer(j *job) {
	select {
	case t.queue <- j:
	default:
		t.f.metrics.WithLabelValues(t.name, "dropped").Inc()
		t.f.log.Warn("alert queue full, anomaly dropped", "target", t.name, "anomaly_id", j.n.Anomaly.ID)
		j.finish()
	}
}

func (t *target) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-t.queue:
			if t.deliver(ctx, j.n) {
				j.finish()
			}
		}
	}
}

// deliver sends n until it is accepted, fails permanently or runs out of
// attempts. It reports false only when ctx ended first.
func (t *target) deliver(ctx context.Context, n Notice) bool {
	a := n.Anomaly
	body, err := t.body(n)
	if err != nil {
		t.fail(a, err)
		return true
	}
	wait := t.f.cfg.BackoffMin
	for attempt := 1; ; attempt++ {
		err := t.post(ctx, body)
		if err == nil {
			t.f.metrics.WithLabelValues(t.name, "sent").Inc()
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if errors.Is(err, errPermanent) || attempt >= t.f.cfg.MaxAttempts {
			t.fail(a, err)
			return true
		}
		t.f.metrics.WithLabelValues(t.name, "retried").Inc()
		t.f.log.Info("alert delivery failed, retrying", "target", t.name, "anomaly_id", a.ID, "attempt", attempt, "backoff", wait.String(), "error", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, t.f.cfg.BackoffMax)
	}
}

func (t *target) fail(a anomaly.Anomaly, err error) {
	t.f.metrics.WithLabelValues(t.name, "failed").Inc()
	t.f.log.Error("alert delivery gave up", "target", t.name, "anomaly_id", a.ID, "error", err)
}

func (t *target) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %w", errPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "driftlock-console")
	resp, err := t.client.Do(req)
	if err != nil {
		return fmt.Errorf("post %s: %w", t.name, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = fmt.Errorf("post %s: status %d: %s", t.name, resp.StatusCode, strings.TrimSpace(string(msg)))
	if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusRequestTimeout {
		return fmt.Errorf("%w: %w", errPermanent, err)
	}
	return err
}

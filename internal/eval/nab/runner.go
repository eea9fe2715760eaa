package nab

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/driftlock/driftlock/internal/anomaly"
	"github.com/driftlock/driftlock/internal/event"
)

// Service is the service name of the metric events the runner makes.
const Service = "nab"

// Stream takes one file's rows as events, offsets counting from 0, and
// returns the anomaly records each yields.
type Stream interface {
	Push(ev event.Event, offset int64) ([]anomaly.Anomaly, error)
}

// RunConfig says how to run a detector over a NAB data folder.
type RunConfig struct {
	// Data is the folder holding <folder>/<file>.csv with timestamp,value rows.
	Data string
	// NewStream opens the stream of one file, given its stream key.
	NewStream func(key string) (Stream, error)
	// Workers is how many files run at once. Default GOMAXPROCS.
	Workers int
	// Progress, when set, is called after each file with the files done and
	// the total; calls never overlap.
	Progress func(done, total int)
}

// Run pushes every row of every CSV under cfg.Data through its own stream
// and returns one Series per file, sorted by path: a row's score is the
// highest confidence of the records that name it (see anomaly.Named), 0
// when none does. Labels are not read.
func Run(ctx context.Context, cfg RunConfig) ([]Series, error) {
	files, err := ListCSV(cfg.Data)
	if err != nil {
		return nil, err
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	out := make([]Series, len(files))
	errs := make([]error, len(files))
	jobs := make(chan int)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	for range min(workers, len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				out[i], errs[i] = runFile(ctx, cfg, files[i])
				mu.Lock()
				done++
				if cfg.Progress != nil {
					cfg.Progress(done, len(files))
				}
				mu.Unlock()
			}
		}()
	}
	feed(ctx, jobs, len(files))
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, ctx.Err()
}

// feed sends 0..n-1 on jobs until ctx ends, then closes it.
func feed(ctx context.Context, jobs chan<- int, n int) {
	defer close(jobs)
	for i := range n {
		select {
		case jobs <- i:
		case <-ctx.Done():
			return
		}
	}
}

// runFile scores one data file.
func runFile(ctx context.Context, cfg RunConfig, rel string) (Series, error) {
	ts, values, err := ReadColumn(filepath.Join(cfg.Data, filepath.FromSlash(rel)), "value")
	if err != nil {
		return Series{}, err
	}
	name := strings.TrimSuffix(path.Base(rel), ".csv")
	st, err := cfg.NewStream(event.StreamKey(Service, event.TypeMetric, name))
	if err != nil {
		return Series{}, fmt.Errorf("%s: open stream: %w", rel, err)
	}
	s := Series{Path: rel, Timestamps: ts, Scores: make([]float64, len(ts))}
	for i := range ts {
		if i%1024 == 0 && ctx.Err() != nil {
			return Series{}, ctx.Err()
		}
		ev, err := MetricEvent(name, ts[i], values[i])
		if err != nil {
			return Series{}, fmt.Errorf("%s row %d: %w", rel, i+1, err)
		}
		records, err := st.Push(ev, int64(i))
		if err != nil {
			return Series{}, fmt.Errorf("%s row %d: %w", rel, i+1, err)
		}
		for _, a := range records {
			if r := a.Named(); r >= 0 && r < int64(len(s.Scores)) {
				s.Scores[r] = max(s.Scores[r], a.Scores.Confidence)
			}
		}
	}
	return s, nil
}

// MetricEvent is the otlp-events record ingest writes for one NAB row: a
// gauge named after the file with one data point at the row's time.
func MetricEvent(name string, t time.Time, value string) (event.Event, error) {
	num := json.Number(value)
	if _, err := num.Float64(); err != nil {
		return event.Event{}, fmt.Errorf("value %q is not a number", value)
	}
	attrs := map[string]any{"service.name": Service}
	data, err := json.Marshal(event.MetricData{
		Name: name,
		Type: "gauge",
		Gauge: []event.NumberPoint{{
			Timestamp:  event.FormatNanos(t),
			Value:      num,
			Attributes: attrs,
		}},
		Attributes: attrs,
	})
	if err != nil {
		return event.Event{}, fmt.Errorf("encode metric: %w", err)
	}
	return event.Event{Type: event.TypeMetric, Data: data, Timestamp: event.FormatTimestamp(t), Source: "otlp-http"}, nil
}

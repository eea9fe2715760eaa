// Package eval measures offline, on labelled data (NAB metrics, loghub
// BGL/Thunderbird logs, HDFS sessions), the anomaly records the detector
// service would publish. Each data set is turned into the otlp-events
// records ingest would write and pushed through detector.Processor, the
// code a detector replica runs for each partition (stream table, decision
// rules, record builder): only Kafka is left out. Labels are read only to
// score the records afterwards.
package eval

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/driftlock/driftlock/internal/anomaly"
	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/detector"
	"github.com/driftlock/driftlock/internal/event"
)

// Setup is the detector configuration an evaluation runs: the defaults a
// user gets, changed only by a configuration file and --set overrides.
type Setup struct {
	Detector config.Detector
}

// LoadSetup reads the detector settings as `driftlock detect` does (the
// YAML file at path, if any, then DRIFTLOCK_* variables), then applies
// "key=value" overrides; a key without a section is a detector key
// (window_size means detector.window_size).
func LoadSetup(path string, overrides []string) (Setup, error) {
	fs := pflag.NewFlagSet("eval", pflag.ContinueOnError)
	config.RegisterFlags(fs)
	for _, o := range overrides {
		key, value, ok := strings.Cut(o, "=")
		if !ok {
			return Setup{}, fmt.Errorf("--set %q: want key=value", o)
		}
		key = strings.TrimSpace(key)
		if !strings.Contains(key, ".") {
			key = "detector." + key
		}
		if fs.Lookup(key) == nil {
			return Setup{}, fmt.Errorf("--set %s: unknown key", key)
		}
		if err := fs.Set(key, strings.TrimSpace(value)); err != nil {
			return Setup{}, fmt.Errorf("--set %s: %w", key, err)
		}
	}
	cfg, err := config.Load(path, fs)
	if err != nil {
		return Setup{}, err
	}
	return Setup{Detector: cfg.Detector}, nil
}

// DefaultSetup is the detector's default configuration.
func DefaultSetup() Setup { return Setup{Detector: config.Default().Detector} }

// epoch stamps detected_at in evaluation records: it is the only field
// that does not come from the input.
var epoch = time.Unix(0, 0).UTC()

// processor returns a fresh processor of partition 0.
func (s Setup) processor() (*detector.Processor, error) {
	return detector.NewProcessor(s.Detector, 0, "eval", func() time.Time { return epoch })
}

// String renders the settings that decide what is found, and their hash
// (detector.config_hash of the records).
func (s Setup) String() string {
	d := s.Detector
	return fmt.Sprintf("  window_size=%d hop_size=%d threshold=%g seed=%d compressor=%s permutations=%d event_threshold=%g event_warmup=%d max_streams=%d\n  config_hash %s",
		d.WindowSize, d.HopSize, d.Threshold, d.Seed, d.Compressor, d.Permutations, d.EventThreshold, d.EventWarmup, d.MaxStreams, detector.ConfigHash(d))
}

// stream feeds one stream's events through a processor, offsets counting
// from 0, and collects the records it would publish.
type stream struct {
	key     string
	proc    *detector.Processor
	next    int64
	records []anomaly.Anomaly
}

func (s Setup) open(key string) (*stream, error) {
	p, err := s.processor()
	if err != nil {
		return nil, err
	}
	return &stream{key: key, proc: p}, nil
}

// push processes ev at the next offset and returns that offset and the
// records it yielded.
func (st *stream) push(ev event.Event) (int64, []anomaly.Anomaly, error) {
	off := st.next
	st.next++
	out, err := st.proc.Push(st.key, ev, off)
	if err != nil {
		return off, nil, err
	}
	st.records = append(st.records, out.Anomalies...)
	return off, out.Anomalies, nil
}

// Counts tallies records by kind.
type Counts struct {
	Records, Event, Window, Incidents int
}

func countRecords(rs []anomaly.Anomaly) Counts {
	c := Counts{Records: len(rs)}
	inc := map[string]bool{}
	for _, a := range rs {
		if a.Kind == anomaly.KindEvent {
			c.Event++
		} else {
			c.Window++
		}
		inc[a.Incident] = true
	}
	c.Incidents = len(inc)
	return c
}

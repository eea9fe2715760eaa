package cbad

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/event"
)

// snapConfig is small enough that a few thousand events cross every path
// of the state: judgements, adaptation, memory halving, the daily cycle's
// residual range, high-cardinality attributes.
func snapConfig() Config {
	c := DefaultConfig()
	c.WindowSize, c.HopSize, c.BaselineSize = 64, 16, 96
	c.EventWarmup, c.Permutations, c.Memory, c.MaxAttrValues = 48, 19, 600, 4
	return c
}

// snapLogs is a service's log with new templates, an error burst and a
// high-cardinality attribute.
func snapLogs(n int) []event.Event {
	r := rand.New(rand.NewPCG(7, 8))
	evs := make([]event.Event, n)
	for i := range evs {
		sev, body := steadyLine(r)
		attrs := map[string]any{"host": fmt.Sprintf("web-%d", r.IntN(3)), "user": fmt.Sprint(r.IntN(50))}
		switch {
		case i%700 >= 600 && i%700 < 640:
			sev, body = "ERROR", fmt.Sprintf("payment gateway timeout after %dms (attempt %d)", 3000+r.IntN(900), r.IntN(4))
		case i%997 == 500:
			sev, body = "FATAL", "out of memory: killed process"
		}
		evs[i] = logEvent(i, sev, body, attrs)
	}
	return evs
}

// snapSpans is a service's spans whose latency doubles for a while.
func snapSpans(n int) []event.Event {
	r := rand.New(rand.NewPCG(9, 10))
	evs := make([]event.Event, n)
	for i := range evs {
		ts := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		dur := int64(1+r.IntN(40)) * int64(time.Millisecond)
		status := "STATUS_CODE_OK"
		if i > 1500 && i < 1800 {
			dur *= 64
			if r.IntN(3) == 0 {
				status = "STATUS_CODE_ERROR"
			}
		}
		d, _ := json.Marshal(event.SpanData{Name: fmt.Sprintf("GET /orders/%d", r.IntN(9)), Kind: "SPAN_KIND_SERVER",
			DurationNanos: dur, StatusCode: status, Attributes: map[string]any{"http.route": "/orders/{id}"}})
		evs[i] = event.Event{Type: event.TypeSpan, Data: d, Timestamp: event.FormatTimestamp(ts), Source: "test"}
	}
	return evs
}

// snapDaily is a gauge with a daily cycle sampled every 30 minutes (a day
// of 48 events) whose day 40 is flat and whose later level shifts.
func snapDaily(n int) []event.Event {
	r := rand.New(rand.NewPCG(11, 12))
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	evs := make([]event.Event, n)
	for i := range evs {
		ts := start.Add(time.Duration(i) * 30 * time.Minute)
		v := 50 - 40*math.Cos(2*math.Pi*float64(i%48)/48) + r.NormFloat64()
		switch {
		case i/48 == 40:
			v = 50
		case i > 2600:
			v += 25
		}
		evs[i] = gaugeAt(ts, v)
	}
	return evs
}

// snapCounter is a cumulative monotonic sum (scored by its increase) with a
// burst of traffic.
func snapCounter(n int) []event.Event {
	r := rand.New(rand.NewPCG(13, 14))
	total, yes := 0.0, true
	evs := make([]event.Event, n)
	for i := range evs {
		step := 100 + 10*r.NormFloat64()
		if i > 1200 && i < 1300 {
			step *= 5
		}
		total += step
		ts := t0.Add(time.Duration(i) * 15 * time.Second)
		d, _ := json.Marshal(event.MetricData{Name: "requests_total", Type: "sum", IsMonotonic: &yes,
			Sum: []event.NumberPoint{{Timestamp: event.FormatNanos(ts), Value: json.Number(fmt.Sprint(total))}}})
		evs[i] = event.Event{Type: event.TypeMetric, Data: d, Timestamp: event.FormatTimestamp(ts), Source: "test"}
	}
	return evs
}

// snapHistogram is a histogram (three features: mean, count and 90th
// percentile) whose latency shifts for a while, with a traffic spike.
func snapHistogram(n int) []event.Event {
	r := rand.New(rand.NewPCG(15, 16))
	bounds := []float64{10, 25, 50, 100, 250, 500}
	evs := make([]event.Event, n)
	for i := range evs {
		ts := t0.Add(time.Duration(i) * 15 * time.Second)
		count, mean := uint64(100+r.IntN(20)), 40+4*r.NormFloat64()
		if i > 1300 && i < 1500 {
			mean *= 3
		}
		if i == 900 {
			count *= 20
		}
		buckets := make([]uint64, len(bounds)+1)
		for range count {
			v := mean * (0.5 + r.Float64())
			k, _ := slices.BinarySearch(bounds, v)
			buckets[k]++
		}
		sum := mean * float64(count)
		d, _ := json.Marshal(event.MetricData{Name: "latency", Type: "histogram", Histogram: []event.HistogramPoint{{
			Timestamp: event.FormatNanos(ts), Count: count, Sum: &sum, BucketCounts: buckets, ExplicitBounds: bounds}}})
		evs[i] = event.Event{Type: event.TypeMetric, Data: d, Timestamp: event.FormatTimestamp(ts), Source: "test"}
	}
	return evs
}

// TestSnapshotRestoreContinuesExactly snapshots each stream at several
// events (before warm-up, mid-incident, after adaptation), restores the
// snapshot into a new Stream and continues: every later result must equal
// the uninterrupted stream's, and so must the state at the end, compared
// as snapshots. A field the snapshot forgets shows either in the results or
// in the final state.
func TestSnapshotRestoreContinuesExactly(t *testing.T) {
	cases := []struct {
		key string
		evs []event.Event
	}{
		{"svc|log", snapLogs(3000)},
		{"svc|span", snapSpans(3000)},
		{"svc|metric|requests", snapDaily(3400)},
		{"svc|metric|requests_total", snapCounter(2000)},
		{"svc|metric|latency", snapHistogram(2000)},
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			ref := newSnapStream(t, c.key)
			want := pushAll(t, ref, c.evs)
			events, windows := 0, 0
			for _, r := range want {
				events += len(r.Events)
				if r.Judgement != nil && r.Judgement.Anomalous {
					windows++
				}
			}
			if events == 0 || windows == 0 {
				t.Fatalf("the input raised %d event and %d window anomalies; it must raise both", events, windows)
			}
			final := ref.AppendSnapshot(nil)
			for _, cut := range []int{1, 40, 150, 607, 1234, 1777, len(c.evs) - 5} {
				got := runWithRestore(t, c.key, c.evs, cut)
				for i := cut; i < len(c.evs); i++ {
					if !reflect.DeepEqual(want[i], got.results[i-cut]) {
						t.Fatalf("cut at %d: result of event %d differs:\nwant %+v\ngot  %+v", cut, i, want[i], got.results[i-cut])
					}
				}
				if !bytes.Equal(final, got.final) {
					t.Fatalf("cut at %d: the state at the end differs from the uninterrupted stream's", cut)
				}
			}
		})
	}
}

func newSnapStream(t testing.TB, key string) *Stream {
	s, err := NewStream(key, snapConfig())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type restored struct {
	results []Result
	final   []byte
}

// runWithRestore pushes evs[:cut], snapshots, restores and pushes the rest.
func runWithRestore(t *testing.T, key string, evs []event.Event, cut int) restored {
	t.Helper()
	s := newSnapStream(t, key)
	pushAll(t, s, evs[:cut])
	snap := s.AppendSnapshot(nil)
	r, err := RestoreStream(key, snapConfig(), snap)
	if err != nil {
		t.Fatalf("cut at %d: %v", cut, err)
	}
	if again := r.AppendSnapshot(nil); !bytes.Equal(snap, again) {
		t.Fatalf("cut at %d: a restored stream snapshots to other bytes", cut)
	}
	var out restored
	for i := cut; i < len(evs); i++ {
		res, err := r.Push(dec(evs[i]), int64(i))
		if err != nil {
			t.Fatal(err)
		}
		out.results = append(out.results, res)
	}
	out.final = r.AppendSnapshot(nil)
	return out
}

// snapshotCovers lists, per type a Stream holds, the fields the snapshot
// encodes and the caches it rebuilds. A field added to one of these types
// fails TestSnapshotCoversEveryField until it is encoded in snapshot.go
// (and read in snapshot_read.go) or known to be a cache, and listed here.
var snapshotCovers = map[string][]string{
	"Stream": {"key", "cfg", "comp", "kind", "canon", "window", "base", "pending", "lineIDs", "lineTab", "freeIDs",
		"extra", "freeExtra", "pushed", "firsts", "sinceJudge", "seq",
		"anomRun", "sumPrev", "sumHave", "dict", "seenTotal", "once", "sevSeen", "sevTotal", "effects",
		"ref", "hist", "onset", "ctx", "season", "sc"},
	"canonicalizer": {"maxValues", "attrs", "keys", "buf"},
	"attrValues":    {"values", "high"},
	"ring":          {"buf", "head", "size"},
	"item":          {"offset", "ts", "feats"},
	"feats":         {"v", "ref", "nv", "sev", "flagged"},
	"windowLine":    {"n", "first", "summary"},
	"lineStat":      {"line", "base", "live", "seen"},
	"refStats":      {"stale", "sorted", "lo", "hi", "spread"},
	"valueHistory":  {"ring", "size", "next", "rank", "rank32"},
	"onsetState": {"events", "recent", "incident", "until", "known", "open", "trigger", "burst", "elevated",
		"triggerLine", "triggerSev", "shapes", "firstEvents", "lastEvents", "lastTS", "reason", "lineNew", "sevRise",
		"lineBits", "usualBits", "usualN"},
	"slidingMax":   {"n", "seen", "vals", "idx"},
	"EventAnomaly": {"Offset", "Timestamp", "Start", "End", "FirstOffset", "Events", "Score", "Confidence", "Incident", "Explanation", "Evidence", "Series", "Closing"},
	"Evidence":     {"Offset", "Timestamp", "Summary", "Score"},
	"Point":        {"Offset", "Timestamp", "Value", "Anomalous"},
	"contextModel": {"recent", "nrecent", "grams", "total", "prev", "have", "last", "next", "sum", "peak", "mean"},
	"gramCounts":   {"his", "starts", "lows", "counts", "counts32", "wide"},
	"seasonModel": {"period", "started", "prevTS", "intervals", "older", "onext", "seen", "resid", "rnext",
		"since", "lo", "hi", "spread", "ready"},
}

// TestSnapshotCoversEveryField walks the types a Stream holds and checks
// each field is accounted for in snapshotCovers.
func TestSnapshotCoversEveryField(t *testing.T) {
	seen := map[string]bool{}
	var walk func(reflect.Type)
	walk = func(ty reflect.Type) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Array || ty.Kind() == reflect.Map {
			if ty.Kind() == reflect.Map {
				walk(ty.Key())
			}
			ty = ty.Elem()
		}
		// A generic type is listed once, by its name without type arguments.
		name, _, _ := strings.Cut(ty.Name(), "[")
		if ty.Kind() != reflect.Struct || ty.PkgPath() != reflect.TypeOf(Stream{}).PkgPath() || seen[ty.Name()] {
			return
		}
		seen[ty.Name()] = true
		if name == "Config" || name == "scratch" {
			return // the stream's settings and judgement buffers, not state
		}
		var names []string
		for i := range ty.NumField() {
			names = append(names, ty.Field(i).Name)
			walk(ty.Field(i).Type)
		}
		if want := snapshotCovers[name]; !slices.Equal(names, want) {
			t.Errorf("%s has fields %v; the snapshot accounts for %v", ty.Name(), names, want)
		}
	}
	walk(reflect.TypeOf(Stream{}))
}

// TestRestoreRejectsBadSnapshots checks truncated, altered and mismatched
// snapshots give an error.
func TestRestoreRejectsBadSnapshots(t *testing.T) {
	s := newSnapStream(t, "svc|log")
	pushAll(t, s, snapLogs(500))
	snap := s.AppendSnapshot(nil)
	if _, err := RestoreStream("svc|other", snapConfig(), snap); err == nil {
		t.Error("a snapshot restored under another key")
	}
	small := snapConfig()
	small.WindowSize, small.HopSize = 32, 8
	if _, err := RestoreStream("svc|log", small, snap); err == nil {
		t.Error("a snapshot restored into a smaller window")
	}
	for _, n := range []int{0, 1, len(snap) / 3, len(snap) - 1} {
		if _, err := RestoreStream("svc|log", snapConfig(), snap[:n]); err == nil {
			t.Errorf("a snapshot cut to %d of %d bytes restored", n, len(snap))
		}
	}
	if _, err := RestoreStream("svc|log", snapConfig(), append(slices.Clone(snap), 0)); err == nil {
		t.Error("a snapshot with a trailing byte restored")
	}
}

// FuzzRestoreStream feeds the decoder bad bytes: it must return an error
// or a stream that snapshots back to a restorable state and takes events.
func FuzzRestoreStream(f *testing.F) {
	logs := newSnapStream(f, "svc|log")
	pushAll(f, logs, snapLogs(300))
	f.Add([]byte("svc|log"), logs.AppendSnapshot(nil))
	daily := newSnapStream(f, "svc|log")
	pushAll(f, daily, snapDaily(400))
	f.Add([]byte("svc|log"), daily.AppendSnapshot(nil))
	f.Add([]byte("svc|log"), []byte{1, 7, 's', 'v', 'c', '|', 'l', 'o', 'g', 0})
	next := []event.Event{snapLogs(1)[0], snapDaily(1)[0]}
	f.Fuzz(func(t *testing.T, key, data []byte) {
		s, err := RestoreStream(string(key), snapConfig(), data)
		if err != nil {
			return
		}
		again, err := RestoreStream(string(key), snapConfig(), s.AppendSnapshot(nil))
		if err != nil {
			t.Fatalf("a restored stream's snapshot does not restore: %v", err)
		}
		for i, ev := range next {
			_, _ = again.Push(dec(ev), int64(1<<40+i))
		}
	})
}

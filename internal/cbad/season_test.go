package cbad

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/event"
)

// gaugeAt is a gauge event with value v at time ts.
func gaugeAt(ts time.Time, v float64) event.Event {
	d, _ := json.Marshal(event.MetricData{Name: "requests", Type: "gauge",
		Gauge: []event.NumberPoint{{Timestamp: event.FormatNanos(ts), Value: json.Number(fmt.Sprint(v))}}})
	return event.Event{Type: event.TypeMetric, Data: d, Timestamp: event.FormatTimestamp(ts), Source: "test"}
}

// dailyScores pushes ten days of a daily cycle sampled every step (values
// between 10 and 90 with a little noise that does not repeat daily), in
// which day 9 from 03:00 to 06:00 runs 30 higher than usual but inside the
// cycle's range. It returns the highest event score before that stretch
// and inside it.
func dailyScores(t *testing.T, cycles int, step time.Duration) (before, during float64) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.BaselineSize, cfg.SeasonCycles = 8192, cycles
	s, err := NewStream("svc|metric|requests", cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	jumpFrom, jumpTo := start.Add(8*24*time.Hour+3*time.Hour), start.Add(8*24*time.Hour+6*time.Hour)
	for ts := start; ts.Before(start.Add(10 * 24 * time.Hour)); ts = ts.Add(step) {
		phase := float64(ts.Sub(start)%(24*time.Hour)) / float64(24*time.Hour)
		v := 50 - 40*math.Cos(2*math.Pi*phase) + 2*math.Sin(float64(ts.Unix())/997)
		inJump := !ts.Before(jumpFrom) && ts.Before(jumpTo)
		if inJump {
			v += 30
		}
		res, err := s.Push(dec(gaugeAt(ts, v)), ts.Unix())
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case inJump:
			during = max(during, res.Score)
		case ts.Before(jumpFrom):
			before = max(before, res.Score)
		}
	}
	return before, during
}

func TestSeasonNoveltyFlagsABrokenDailyCycle(t *testing.T) {
	offBefore, offDuring := dailyScores(t, 0, 5*time.Minute)
	onBefore, onDuring := dailyScores(t, 7, 5*time.Minute)
	if offDuring > 0.2 {
		t.Fatalf("without the season model an in-range jump scored %v, want <= 0.2", offDuring)
	}
	if onDuring < 0.7 {
		t.Fatalf("with the season model the jump scored %v, want >= 0.7 (%v without)", onDuring, offDuring)
	}
	if onBefore > offBefore+0.2 {
		t.Fatalf("with the season model the ordinary days scored up to %v, want near %v", onBefore, offBefore)
	}
}

func TestSeasonNoveltyNeedsADailyPeriodInRange(t *testing.T) {
	// One event a second makes a day 86,400 events, beyond what the model
	// follows: the scores must be those of the stream without it.
	cfg := DefaultConfig()
	cfg.BaselineSize = 1024
	off, err := NewStream("k", cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.SeasonCycles = 7
	on, err := NewStream("k", cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5000 {
		v := 50 + 40*math.Sin(float64(i)/30)
		if i > 4000 {
			v += 30
		}
		a, errA := off.Push(dec(metricEvent(i, v)), int64(i))
		b, errB := on.Push(dec(metricEvent(i, v)), int64(i))
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if a.Score != b.Score {
			t.Fatalf("event %d: score %v with the season model on, %v off", i, b.Score, a.Score)
		}
	}
	if on.season.period != -1 {
		t.Fatalf("period %d, want -1 (no usable daily cycle)", on.season.period)
	}
}

// TestSeasonHoldsOnlyItsModel checks what a daily-cycle model holds once
// it has learnt its period and filled its residuals: of the seven days of
// values, those the value history does not hold (none when it holds 2,048
// values, 336-160 when it holds 160), seasonResiduals residuals, no sorted
// copy and no intervals.
func TestSeasonHoldsOnlyItsModel(t *testing.T) {
	for _, cfg := range []Config{DefaultConfig(), snapConfig()} {
		s, err := NewStream("svc|metric|requests", cfg)
		if err != nil {
			t.Fatal(err)
		}
		pushAll(t, s, snapDaily(3400))
		m := &s.season
		if m.period != 48 || len(m.resid) != seasonResiduals || !m.ready {
			t.Fatalf("period %d, %d residuals, ready %v; want 48, %d, true", m.period, len(m.resid), m.ready, seasonResiduals)
		}
		held := cfg.WindowSize + cfg.baselineSize()
		if want := 8 * (max(48*7-held, 0) + seasonResiduals); m.sizeBytes() != want || m.intervals != nil {
			t.Fatalf("history of %d: the model holds %d bytes (%d intervals), want %d", held, m.sizeBytes(), len(m.intervals), want)
		}
	}
}

package cbad

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftlock/driftlock/internal/event"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func smallConfig() Config {
	c := DefaultConfig()
	c.WindowSize, c.HopSize, c.BaselineSize = 256, 64, 256
	return c
}

func TestSteadySyntheticLogsRaiseNothing(t *testing.T) {
	s, err := NewStream("svc|log", DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var evs []event.Event
	for i := range 4500 {
		sev, body := steadyLine(r)
		evs = append(evs, logEvent(i, sev, body, map[string]any{"host": fmt.Sprintf("web-%d", r.IntN(3))}))
	}
	rs := pushAll(t, s, evs)
	js := judgements(rs)
	if len(js) < 10 {
		t.Fatalf("got %d judgements, want at least 10", len(js))
	}
	for _, j := range anomalies(rs) {
		t.Errorf("steady stream judged anomalous: seq %d scores %+v: %s", j.Seq, j.Scores, j.Explanation)
	}
	for _, ea := range eventsOf(rs) {
		t.Errorf("steady stream raised an event anomaly at %d: %s", ea.Offset, ea.Explanation)
	}
}

func thunderbirdEvents(t *testing.T) []event.Event {
	path := filepath.Join(datasets(t), "loghub", "Thunderbird", "Thunderbird_2k.log")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("Thunderbird sample absent: %v", err)
	}
	defer f.Close()
	var evs []event.Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// label, epoch, date, node, then the syslog line.
		fields := strings.SplitN(sc.Text(), " ", 5)
		if len(fields) < 5 {
			continue
		}
		evs = append(evs, logEvent(len(evs), "", fields[4], map[string]any{"node": fields[3]}))
	}
	return evs
}

func TestThunderbirdRaisesNothing(t *testing.T) {
	evs := thunderbirdEvents(t)
	s, err := NewStream("thunderbird|log", smallConfig())
	if err != nil {
		t.Fatal(err)
	}
	rs := pushAll(t, s, evs)
	if len(judgements(rs)) < 10 {
		t.Fatalf("got %d judgements, want at least 10", len(judgements(rs)))
	}
	for _, j := range anomalies(rs) {
		t.Errorf("normal Thunderbird lines judged anomalous: seq %d scores %+v: %s", j.Seq, j.Scores, j.Explanation)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"defaults", func(*Config) {}, ""},
		{"window", func(c *Config) { c.WindowSize = 4 }, "invalid value 4 for window_size: must be between 8 and 1048576"},
		{"hop", func(c *Config) { c.HopSize = 2000 }, "invalid value 2000 for hop_size: must be between 1 and window_size"},
		{"threshold", func(c *Config) { c.Threshold = 1 }, "invalid value 1 for threshold: must be greater than 0 and less than 1"},
		{"compressor", func(c *Config) { c.Compressor = "brotli" }, `invalid value "brotli" for compressor: must be one of zstd, gzip, lz4`},
		{"permutations", func(c *Config) { c.Permutations = 5 }, "invalid value 5 for permutations: must be between 19 and 100000"},
		{"baseline", func(c *Config) { c.BaselineSize = 3 }, "invalid value 3 for baseline_size: must be 0 (window_size) or between 8 and 1048576"},
		{"block", func(c *Config) { c.BlockSize = 0 }, "invalid value 0 for block_size: must be between 1 and hop_size"},
		{"effect", func(c *Config) { c.MinEffect = -0.1 }, "invalid value -0.1 for min_effect: must be at least 0 and less than 1"},
		{"stop", func(c *Config) { c.StopAfter = 0 }, "invalid value 0 for stop_after: must be at least 1"},
		{"adapt", func(c *Config) { c.AdaptAfter = 0 }, "invalid value 0 for adapt_after: must be at least 1"},
		{"attrs", func(c *Config) { c.MaxAttrValues = 300 }, "invalid value 300 for max_attr_values: must be between 0 and 256"},
		{"levels", func(c *Config) { c.Levels = 1 }, "invalid value 1 for levels: must be between 2 and 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.modify(&c)
			err := c.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("Validate() = %q, want %q", got, tt.want)
			}
			if _, err := NewStream("k|log", c); (err == nil) != (tt.want == "") {
				t.Fatalf("NewStream error = %v", err)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	logs, _ := injectedLogs(2000, 1500, func(i int, r *rand.Rand) (string, string, bool) {
		return "ERROR", fmt.Sprintf("disk %d failed", r.IntN(10)), i < 1540
	})
	metrics, _ := metricStream(2000, 1500, func(r *rand.Rand) float64 { return 90 + 5*r.NormFloat64() })
	for _, tc := range []struct {
		key string
		evs []event.Event
	}{{"svc|log", logs}, {"svc|metric|latency", metrics}} {
		run := func() []byte {
			c := smallConfig()
			s, _ := NewStream(tc.key, c)
			out, err := json.Marshal(pushAll(t, s, tc.evs))
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		a, b := run(), run()
		if string(a) != string(b) {
			t.Fatalf("%s: two runs over the same input gave different results", tc.key)
		}
		if !strings.Contains(string(a), `"Anomalous":true`) {
			t.Fatalf("%s: the run raised no anomaly, so the determinism check is weak", tc.key)
		}
	}
}

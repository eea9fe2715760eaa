package console

import (
	"fmt"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/testkit"
)

// TestRebuildFromRetained starts a console on a topic that already holds
// anomalies (over several partitions, out of time order, with a duplicate
// and an invalid record): it shows the newest max_anomalies in time order,
// counts the rest, then follows live.
func TestRebuildFromRetained(t *testing.T) {
	cfg := testConfig(t)
	cfg.Console.MaxAnomalies = 5
	services := []string{"checkout", "payments", "search", "cart"}
	minutes := []int{7, 2, 5, 0, 6, 1, 4, 3}
	var recs []any
	for i, m := range minutes {
		recs = append(recs, sample(fmt.Sprintf("h%d", m), services[i%4], "log", 0.95, m))
	}
	recs = append(recs, []byte(`{"id": ""}`), sample("h6", services[4%4], "log", 0.95, 6))
	publish(t, cfg, recs...)

	r := startConsole(t, cfg)
	var list listResponse
	getJSON(t, r.url+"/api/v1/anomalies", &list)
	// The five newest by window end, newest first, sequences in time order.
	if got := fmt.Sprint(ids(list.Anomalies)); got != "[h7 h6 h5 h4 h3]" {
		t.Fatalf("rebuilt list = %s", got)
	}
	for i, it := range list.Anomalies {
		if it.Sequence != uint64(5-i) {
			t.Errorf("%s has sequence %d, want %d", it.ID, it.Sequence, 5-i)
		}
	}
	for name, want := range map[string]float64{
		"driftlock_console_anomalies_evicted_total":  3,
		"driftlock_console_anomalies_received_total": 5,
		"driftlock_console_invalid_records_total":    1,
	} {
		if got := r.metric(t, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	var streams struct{ Streams []StreamSummary }
	getJSON(t, r.url+"/api/v1/streams", &streams)
	var total int64
	for _, s := range streams.Streams {
		total += s.Anomalies
	}
	if len(streams.Streams) != 4 || total != 8 {
		t.Errorf("streams = %d with %d anomalies, want 4 with 8 (evicted ones still counted)", len(streams.Streams), total)
	}

	publish(t, cfg, sample("live", "checkout", "log", 0.95, 8))
	testkit.WaitFor(t, 20*time.Second, "the live anomaly", func() bool {
		var l listResponse
		getJSON(t, r.url+"/api/v1/anomalies?limit=1", &l)
		return len(l.Anomalies) == 1 && l.Anomalies[0].ID == "live" && l.Anomalies[0].Sequence == 6
	})
}

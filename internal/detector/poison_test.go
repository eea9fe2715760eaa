package detector

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/testkit"
)

// TestPoisonRecordsAreCountedSkippedAndDeadLettered puts invalid records in
// the middle of a stream and checks each is counted by reason and written
// to the dead-letter topic, and that the records after them are scored.
func TestPoisonRecordsAreCountedSkippedAndDeadLettered(t *testing.T) {
	_, brokers := testkit.NewCluster(t)
	rng := rand.New(rand.NewPCG(1, 2))
	valid := func(i int) kafka.Message {
		v, _ := json.Marshal(logEvent(rng, "checkout", i, false))
		return kafka.Message{Key: []byte("checkout|log"), Value: v}
	}
	var msgs []kafka.Message
	for i := range 100 {
		msgs = append(msgs, valid(i))
	}
	poison := []struct {
		reason string
		msg    kafka.Message
	}{
		{reasonNotJSON, kafka.Message{Key: []byte("checkout|log"), Value: []byte("GET / HTTP/1.1")}},
		{reasonUnknownType, kafka.Message{Key: []byte("checkout|log"), Value: []byte(`{"type":"profile","data":{},"timestamp":"2026-03-01T12:00:00.000Z"}`)}},
		{reasonBadTimestamp, kafka.Message{Key: []byte("checkout|log"), Value: []byte(`{"type":"log","data":{"body":"x"},"timestamp":"yesterday"}`)}},
		{reasonBadKey, kafka.Message{Key: []byte("checkout"), Value: valid(100).Value}},
		{reasonKeyMismatch, kafka.Message{Key: []byte("checkout|span"), Value: valid(101).Value}},
	}
	for _, p := range poison {
		msgs = append(msgs, p.msg)
	}
	// A record without a key: its stream is derived from service.name.
	msgs = append(msgs, kafka.Message{Value: valid(102).Value})
	for i := 103; i < 203; i++ {
		msgs = append(msgs, valid(i))
	}
	produce(t, brokers, eventsTopic, msgs)

	cfg := testConfig(brokers, "anomalies-poison", "group-poison")
	cfg.Kafka.DeadLetterTopic = "dead-letters"
	r := startReplica(t, cfg, nil)
	waitProgress(t, brokers, cfg.Detector.GroupID, eventsTopic, 1)
	checkAdmin(t, r.svc.AdminAddr())
	r.stop(t)

	for _, p := range poison {
		if n := counter(t, r.svc.reg, "driftlock_detector_invalid_records_total", map[string]string{"reason": p.reason}); n != 1 {
			t.Errorf("invalid records with reason %s = %v, want 1", p.reason, n)
		}
	}
	if n := counter(t, r.svc.reg, "driftlock_detector_events_total", map[string]string{"signal": "log"}); n != 201 {
		t.Errorf("events scored = %v, want 201 (every valid record, before and after the poison)", n)
	}
	dead := readTopic(t, brokers, cfg.Kafka.DeadLetterTopic)
	if len(dead) != len(poison) {
		t.Fatalf("dead letters = %d, want %d", len(dead), len(poison))
	}
	want := map[string]string{}
	for _, p := range poison {
		want[p.reason] = string(p.msg.Value)
	}
	for _, d := range dead {
		h := headers(d)
		reason := h["driftlock-dead-letter-reason"]
		if v, ok := want[reason]; !ok || v != string(d.Value) {
			t.Errorf("dead letter with reason %q and value %.40q is not one of the poison records", reason, d.Value)
		}
		delete(want, reason)
		if h["driftlock-source-topic"] != eventsTopic || h["driftlock-source-offset"] == "" {
			t.Errorf("dead letter lacks its source: %v", h)
		}
	}
}

// checkAdmin checks the admin endpoints answer and /metrics names the
// detector's metrics.
func checkAdmin(t *testing.T, addr string) {
	t.Helper()
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		if path != "/metrics" {
			continue
		}
		for _, name := range []string{"driftlock_detector_events_total", "driftlock_detector_partitions_held 3",
			"driftlock_detector_consumer_lag{partition=", "driftlock_detector_streams ", "driftlock_detector_judgement_duration_seconds_bucket"} {
			if !strings.Contains(string(body), name) {
				t.Errorf("/metrics lacks %s", name)
			}
		}
	}
	http.DefaultClient.CloseIdleConnections()
}

func headers(m kafka.Message) map[string]string {
	out := map[string]string{}
	for _, h := range m.Headers {
		out[h.Key] = string(h.Value)
	}
	return out
}

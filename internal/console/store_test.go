package console

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func testStore(t testing.TB, maxAnomalies, maxSubs, subBuf int) *store {
	t.Helper()
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return newStore(0, maxAnomalies, maxSubs, subBuf, m)
}

func TestStoreBoundedAndDeduplicated(t *testing.T) {
	s := testStore(t, 3, 1, 1)
	for i := range 5 {
		if !s.add(sample(fmt.Sprintf("a%d", i), "checkout", "log", 0.95, i)) {
			t.Fatalf("a%d not new", i)
		}
	}
	if s.add(sample("a4", "checkout", "log", 0.95, 4)) {
		t.Fatal("duplicate id stored twice")
	}
	if _, ok := s.get("a1"); ok {
		t.Fatal("a1 should be evicted")
	}
	if it, ok := s.get("a4"); !ok || it.Sequence != 5 {
		t.Fatalf("a4 = %+v %v", it, ok)
	}
	if got := testutil.ToFloat64(s.m.evicted); got != 2 {
		t.Errorf("evicted = %v, want 2", got)
	}
	sum, _ := s.stream("checkout|log")
	if sum.Anomalies != 5 || sum.Retained != 3 || sum.LatestID != "a4" {
		t.Errorf("summary = %+v", sum)
	}
	res := s.query(filter{}, page{limit: 10})
	if len(res.items) != 3 || res.items[0].ID != "a4" || res.items[2].ID != "a2" {
		t.Errorf("query = %v", ids(res.items))
	}
}

func TestStoreDropsSlowSubscriber(t *testing.T) {
	s := testStore(t, 10, 1, 1)
	slow, missed, err := s.subscribe(0, false)
	if err != nil || missed != nil {
		t.Fatal(err, missed)
	}
	if _, _, err := s.subscribe(0, false); err != errTooManyClients {
		t.Fatalf("second subscriber: %v", err)
	}
	s.add(sample("a1", "checkout", "log", 0.95, 1)) // fills its buffer of 1
	s.add(sample("a2", "checkout", "log", 0.95, 2)) // would block: dropped
	select {
	case <-slow.gone:
	default:
		t.Fatal("slow subscriber not dropped")
	}
	if got := testutil.ToFloat64(s.m.sseDropped); got != 1 {
		t.Errorf("dropped = %v", got)
	}
	s.unsubscribe(slow) // no-op, must not panic on the closed channel
	// Its slot is free again; resuming after a1 replays a2 only.
	_, missed, err = s.subscribe(1, true)
	if err != nil || len(missed) != 1 || missed[0].ID != "a2" {
		t.Fatalf("resume: %v %d", err, len(missed))
	}
}

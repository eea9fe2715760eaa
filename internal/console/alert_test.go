package console

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/alert"
	"github.com/driftlock/driftlock/internal/testkit"
)

// alertReceiver is a fake Alertmanager that records the anomaly ids alerted.
type alertReceiver struct {
	mu  sync.Mutex
	ids []string
	srv *httptest.Server
}

func newAlertReceiver(t *testing.T) *alertReceiver {
	rc := &alertReceiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var alerts []alert.PostableAlert
		if err := json.Unmarshal(b, &alerts); err != nil || r.URL.Path != "/api/v2/alerts" {
			t.Errorf("bad alert request %s: %s", r.URL.Path, b)
		}
		rc.mu.Lock()
		for _, a := range alerts {
			rc.ids = append(rc.ids, a.Annotations["anomaly_id"])
		}
		rc.mu.Unlock()
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *alertReceiver) alerted() string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	ids := append([]string(nil), rc.ids...)
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

// TestAlertPolicyAcrossRestarts: a first start alerts only live anomalies,
// once each; a restart with the same group alerts what arrived while it was
// down and nothing it had already handled.
func TestAlertPolicyAcrossRestarts(t *testing.T) {
	cfg := testConfig(t)
	am := newAlertReceiver(t)
	cfg.Console.AlertmanagerURL = am.srv.URL
	publish(t, cfg, sample("history", "checkout", "log", 0.95, 0))

	first := startConsole(t, cfg, WithPublicURL("https://console.example"))
	publish(t, cfg, sample("live", "checkout", "log", 0.95, 1), sample("live", "checkout", "log", 0.95, 1))
	testkit.WaitFor(t, 20*time.Second, "the live alert", func() bool { return am.alerted() == "live" })
	testkit.WaitFor(t, 20*time.Second, "both copies consumed", func() bool {
		return first.metric(t, "driftlock_console_anomalies_received_total") == 2
	})
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	if got := am.alerted(); got != "live" {
		t.Fatalf("alerted %q, want only the live anomaly, once", got)
	}

	publish(t, cfg, sample("while-down", "payments", "span", 0.99, 2))
	second := startConsole(t, cfg)
	testkit.WaitFor(t, 20*time.Second, "the missed alert", func() bool { return am.alerted() == "live,while-down" })
	if n := second.retained(t); n != 3 {
		t.Errorf("second console shows %d anomalies, want 3", n)
	}
	time.Sleep(300 * time.Millisecond)
	if got := am.alerted(); got != "live,while-down" {
		t.Errorf("alerted %q after restart", got)
	}
}

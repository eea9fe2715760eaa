package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// TestRecordOverBrokerLimit sends records larger than the topic's
// max.message.bytes among small ones: ingest answers 200 with a partial
// success naming the refused record, and the others are on the topic. The
// second request lowers the limit after ingest started, so that the broker
// itself refuses the record.
func TestRecordOverBrokerLimit(t *testing.T) {
	needKafka(t)
	adm := newAdmin(t)
	limit := "4096"
	n := newNames(t, adm, map[string]*string{"max.message.bytes": &limit})
	in := startIngest(t, n)
	svc := "e2e-big-" + runID

	t.Run("limit known at start", func(t *testing.T) { sendWithOneBig(t, in, svc, "first", 10_000) })

	lower := "2048"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "max.message.bytes", Value: &lower}}, n.Events)
	if err == nil {
		_, err = resp.On(n.Events, nil)
	}
	if err != nil {
		t.Fatalf("lower max.message.bytes: %v", err)
	}
	time.Sleep(time.Second) // the broker applies topic configs asynchronously
	t.Run("limit lowered while running", func(t *testing.T) { sendWithOneBig(t, in, svc, "second", 3_000) })

	recs := waitStable(t, n.Events, waitRecords(t, n.Events, 10, 30*time.Second))
	got := map[string]int{}
	for _, r := range recs {
		ev, err := checkEvent(t, r, svc)
		if err != nil {
			t.Fatal(err)
		}
		got[logBody(ev)]++
	}
	for _, req := range []string{"first", "second"} {
		for i := range 6 {
			want := fmt.Sprintf("%s small line %d", req, i)
			if i != 3 && got[want] != 1 {
				t.Errorf("%q found %d times on the topic, want once", want, got[want])
			}
		}
	}
	if len(recs) != 10 {
		t.Errorf("topic holds %d records, want the 10 small ones", len(recs))
	}
}

// sendWithOneBig sends six log records, the fourth of bigBytes, and checks
// the partial success.
func sendWithOneBig(t *testing.T, in *ingest, svc, name string, bigBytes int) {
	t.Helper()
	now := time.Now()
	var lines []logLine
	for i := range 6 {
		body := fmt.Sprintf("%s small line %d", name, i)
		if i == 3 {
			body = name + " huge line " + strings.Repeat("x", bigBytes)
		}
		lines = append(lines, logLine{Service: svc, Body: body, Severity: "INFO", Time: now.Add(time.Duration(i) * time.Millisecond)})
	}
	res, err := postLogs(context.Background(), in.HTTP, logsRequest(lines))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusOK {
		t.Fatalf("%s request: status %d, want 200 with partial_success: %s", name, res.Status, res.Body)
	}
	ps := res.Response.GetPartialSuccess()
	msg := ps.GetErrorMessage()
	t.Logf("%s request: partial_success %d rejected: %q", name, ps.GetRejectedLogRecords(), msg)
	if ps.GetRejectedLogRecords() != 1 {
		t.Errorf("%s request: rejected_log_records = %d, want 1", name, ps.GetRejectedLogRecords())
	}
	if !strings.Contains(msg, svc) || !(strings.Contains(msg, "too large") || strings.Contains(msg, "exceeds")) {
		t.Errorf("%s request: partial_success message %q should name the record's service %s and say it is too large", name, msg, svc)
	}
}

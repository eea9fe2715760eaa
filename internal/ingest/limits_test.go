package ingest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"

	"github.com/driftlock/driftlock/internal/testkit"
)

func adminClient(t *testing.T, addrs []string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// setMaxMessageBytes sets the test topic's max.message.bytes on the broker.
func setMaxMessageBytes(t *testing.T, brokers []string, value string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := adminClient(t, brokers).AlterTopicConfigs(ctx,
		[]kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: &value}}, testTopic)
	if err != nil || resp[0].Err != nil {
		t.Fatalf("alter topic config: %v %v", err, resp)
	}
}

func postLogs(t *testing.T, h *harness, req *collogspb.ExportLogsServiceRequest) *collogspb.ExportLogsPartialSuccess {
	t.Helper()
	status, out, _ := h.post("/v1/logs", contentTypeProtobuf, mustMarshal(t, req), nil)
	if status != http.StatusOK {
		t.Fatalf("status %d (%q)", status, out)
	}
	resp := &collogspb.ExportLogsServiceResponse{}
	if err := proto.Unmarshal(out, resp); err != nil {
		t.Fatal(err)
	}
	return resp.GetPartialSuccess()
}

// TestTopicMessageLimitAtStart: the record limit is lowered to fit the
// topic's max.message.bytes read at start.
func TestTopicMessageLimitAtStart(t *testing.T) {
	c, _ := testkit.NewCluster(t, kfake.NumBrokers(1))
	maxBytes := "3000"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := adminClient(t, c.ListenAddrs()).CreateTopic(ctx, 3, 1, map[string]*string{"max.message.bytes": &maxBytes}, testTopic); err != nil {
		t.Fatal(err)
	}
	h := startHarnessOn(t, c, nil)
	ps := postLogs(t, h, logsRequest("svc", "small", strings.Repeat("x", 4000)))
	if ps.GetRejectedLogRecords() != 1 || !strings.Contains(ps.GetErrorMessage(), "log record 1") ||
		!strings.Contains(ps.GetErrorMessage(), "2488 bytes") {
		t.Fatalf("partial_success %v: want log record 1 rejected against the 3000-512 byte limit", ps)
	}
	if n := len(h.consumeAll()); n != 1 {
		t.Errorf("%d records on the topic, want 1", n)
	}
}

// TestKafkaMessageTooLarge: when the topic's limit drops below the
// service's after start, Kafka's MESSAGE_TOO_LARGE for a record becomes a
// partial_success rejection, and the record's small neighbours, which
// shared its batch, are still delivered.
func TestKafkaMessageTooLarge(t *testing.T) {
	h := startHarness(t, nil)
	setMaxMessageBytes(t, h.cfg.Kafka.Brokers, "3000")
	ps := postLogs(t, h, logsRequest("svc", "before", strings.Repeat("x", 4000), "after"))
	if ps.GetRejectedLogRecords() != 1 || !strings.Contains(ps.GetErrorMessage(), "refused by kafka as too large") {
		t.Fatalf("partial_success %v: want 1 record refused by kafka", ps)
	}
	var bodies []string
	for _, r := range h.consumeAll() {
		_, data := decodeData(t, r)
		bodies = append(bodies, data["body"].(string))
	}
	if len(bodies) != 2 || !contains(bodies, "before") || !contains(bodies, "after") {
		t.Errorf("topic holds %q, want before and after", bodies)
	}
}

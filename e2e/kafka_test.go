package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// runID makes this run's topic and group names unique on a shared broker.
var runID = fmt.Sprintf("%x", time.Now().UnixNano()&0xffffffff)

var topicSeq atomic.Int64

// names are the topics and consumer groups of one test.
type names struct {
	Events, Anomalies, Group string
}

// newAdmin returns a Kafka admin client closed when t ends.
func newAdmin(t *testing.T) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ClientID("driftlock-e2e"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// uniqueName turns the test name into a short topic-safe unique name.
func uniqueName(t *testing.T, suffix string) string {
	base := strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-"))
	if len(base) > 40 {
		base = base[len(base)-40:]
	}
	return fmt.Sprintf("e2e-%s-%d-%s-%s", runID, topicSeq.Add(1), strings.Trim(base, "-"), suffix)
}

// createTopic creates a 3-partition topic with the given topic configs and
// deletes it when t ends.
func createTopic(t *testing.T, adm *kadm.Client, name string, configs map[string]*string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := adm.CreateTopic(ctx, 3, 1, configs, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = adm.DeleteTopics(ctx, name)
	})
}

// newNames creates a fresh events and anomalies topic for t.
func newNames(t *testing.T, adm *kadm.Client, eventConfigs map[string]*string) names {
	t.Helper()
	n := names{Events: uniqueName(t, "events"), Anomalies: uniqueName(t, "anomalies"), Group: uniqueName(t, "detector")}
	createTopic(t, adm, n.Events, eventConfigs)
	createTopic(t, adm, n.Anomalies, nil)
	return n
}

// record is one Kafka record as kcat -J prints it.
type record struct {
	Topic     string   `json:"topic"`
	Partition int32    `json:"partition"`
	Offset    int64    `json:"offset"`
	Key       *string  `json:"key"`
	Payload   *string  `json:"payload"`
	Headers   []string `json:"headers"`
}

// Header returns the last value of header name, or "".
func (r record) Header(name string) string {
	v := ""
	for i := 0; i+1 < len(r.Headers); i += 2 {
		if r.Headers[i] == name {
			v = r.Headers[i+1]
		}
	}
	return v
}

// KeyString returns the record key, or "" when it has none.
func (r record) KeyString() string {
	if r.Key == nil {
		return ""
	}
	return *r.Key
}

// Value returns the record value, or "" when it has none.
func (r record) Value() string {
	if r.Payload == nil {
		return ""
	}
	return *r.Payload
}

// readTopic reads every record of topic with kcat, from the beginning to the
// current end of each partition.
func readTopic(t *testing.T, topic string) []record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kcat", "-b", strings.Join(brokers, ","), "-C", "-t", topic,
		"-o", "beginning", "-e", "-J", "-q", "-X", "fetch.message.max.bytes=4000000")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("kcat -C -t %s: %v %s", topic, err, stderr)
	}
	var recs []record
	for _, line := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("kcat output %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// waitRecords reads topic until it holds at least n records.
func waitRecords(t *testing.T, topic string, n int, timeout time.Duration) []record {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		recs := readTopic(t, topic)
		if len(recs) >= n || time.Now().After(deadline) {
			return recs
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// groupLag returns the records of topic not yet committed by group, counting
// partitions without a commit in full.
func groupLag(ctx context.Context, adm *kadm.Client, group, topic string) (int64, error) {
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	committed, err := adm.FetchOffsetsForTopics(ctx, group, topic)
	if err != nil {
		return 0, err
	}
	var lag int64
	ends.Each(func(o kadm.ListedOffset) {
		c, ok := committed.Lookup(o.Topic, o.Partition)
		if !ok || c.At < 0 {
			lag += o.Offset
			return
		}
		lag += max(0, o.Offset-c.At)
	})
	return lag, nil
}

// topicEnd returns the sum of the end offsets of topic's partitions.
func topicEnd(ctx context.Context, adm *kadm.Client, topic string) (int64, error) {
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n, nil
}

package detector

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/anomaly"
	"github.com/driftlock/driftlock/internal/testkit"
)

// TestPartitionAddedAtRuntime adds a partition to the events topic while a
// replica runs, writes a scenario to the new partition only, and checks the
// replica, without a restart, takes the partition and publishes the
// anomalies of its records. The group looks for new partitions at the
// service's default interval (5 s).
func TestPartitionAddedAtRuntime(t *testing.T) {
	_, brokers := testkit.NewCluster(t)
	produce(t, brokers, eventsTopic, nil) // creates the topic with 3 partitions
	cfg := testConfig(brokers, "anomalies-added", "group-added")
	r := startReplica(t, cfg, func(s *Service) { s.timing.partitionWatch = defaultTiming.partitionWatch })
	defer r.stop(t)
	held := func() float64 { return counter(t, r.svc.reg, "driftlock_detector_partitions_held", nil) }
	if !testkit.Poll(30*time.Second, func() bool { return held() == 3 }) {
		t.Fatalf("replica holds %v partitions, want 3", held())
	}

	addPartitions(t, brokers, eventsTopic, 4)
	began := time.Now()
	produceTo(t, brokers, eventsTopic, 3, scenario(300))
	ok := testkit.Poll(30*time.Second, func() bool {
		msgs, err := tryReadTopic(brokers, cfg.Kafka.AnomaliesTopic)
		if err != nil {
			return false
		}
		for _, a := range decodeAll(t, msgs) {
			if a.Window.Partition == 3 && a.Kind == anomaly.KindWindow {
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("no window anomaly of the added partition within 30 s (replica holds %v partitions)", held())
	}
	t.Logf("first window anomaly of the added partition published %v after the partition was written", time.Since(began).Round(time.Millisecond))
	if held() != 4 {
		t.Errorf("replica holds %v partitions, want 4", held())
	}
	if n := counter(t, r.svc.reg, "driftlock_detector_rebalances_total", nil); n < 2 {
		t.Errorf("replica saw %v generations, want a new one for the added partition", n)
	}
}

// addPartitions raises the partition count of topic to n.
func addPartitions(t testing.TB, brokers []string, topic string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, done := testClient(brokers)
	defer done()
	resp, err := client.CreatePartitions(ctx, &kafka.CreatePartitionsRequest{
		Topics: []kafka.TopicPartitionsConfig{{Name: topic, Count: int32(n)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Errors[topic]; err != nil {
		t.Fatalf("add partitions to %s: %v", topic, err)
	}
}

// produceTo writes msgs to one partition of topic.
func produceTo(t testing.TB, brokers []string, topic string, partition int, msgs []kafka.Message) {
	t.Helper()
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{
		Addr: kafka.TCP(brokers...), Topic: topic, Transport: tr, BatchSize: 500, BatchTimeout: time.Millisecond,
		Balancer: kafka.BalancerFunc(func(kafka.Message, ...int) int { return partition }),
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
}

package console

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/kafkabus"
	"github.com/driftlock/driftlock/internal/testkit"
)

// TestPartitionAddedAtRuntime adds a partition to anomaly-events while a
// console runs and checks, without a restart, that an anomaly written to
// the new partition is shown and its alert progress committed. The console
// looks for new partitions at its default interval (5 s).
func TestPartitionAddedAtRuntime(t *testing.T) {
	cfg := testConfig(t)
	bus, err := kafkabus.New(cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := bus.EnsureTopics(ctx, cfg.Kafka.AnomaliesTopic); err != nil { // 3 partitions
		t.Fatal(err)
	}
	r := startConsole(t, cfg, WithPartitionWatch(5*time.Second))

	resp, err := bus.Client().CreatePartitions(ctx, &kafka.CreatePartitionsRequest{
		Topics: []kafka.TopicPartitionsConfig{{Name: cfg.Kafka.AnomaliesTopic, Count: 4}},
	})
	if err != nil || resp.Errors[cfg.Kafka.AnomaliesTopic] != nil {
		t.Fatalf("add a partition: %v %v", err, resp)
	}
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(cfg.Kafka.Brokers...), Topic: cfg.Kafka.AnomaliesTopic, Transport: tr,
		Balancer: kafka.BalancerFunc(func(kafka.Message, ...int) int { return 3 })}
	defer w.Close()
	a := sample("on-new-partition", "checkout", "log", 0.97, 1)
	if err := w.WriteMessages(ctx, kafkaMessage(t, a)); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	testkit.WaitFor(t, 20*time.Second, "the anomaly of the added partition", func() bool { return r.retained(t) == 1 })
	t.Logf("anomaly of the added partition shown %v after it was written", time.Since(began).Round(time.Millisecond))
	var got struct {
		ID string `json:"id"`
	}
	if code := getJSON(t, r.url+"/api/v1/anomalies/on-new-partition", &got); code != http.StatusOK || got.ID != a.ID {
		t.Fatalf("GET the anomaly: %d %+v", code, got)
	}
	testkit.WaitFor(t, 10*time.Second, "alert progress of the added partition committed", func() bool {
		of, err := bus.Client().OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: cfg.Console.GroupID,
			Topics: map[string][]int{cfg.Kafka.AnomaliesTopic: {3}}})
		if err != nil {
			return false
		}
		ps := of.Topics[cfg.Kafka.AnomaliesTopic]
		return len(ps) == 1 && ps[0].CommittedOffset == 1
	})
}

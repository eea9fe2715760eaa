package kafkabus

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/testkit"
)

// newBus starts an in-memory cluster (of opts; testkit.NewCluster's
// default without) and a bus on it, closed when the test ends, and
// returns the bus with a context for its calls.
func newBus(t *testing.T, opts ...kfake.Opt) (*Bus, context.Context) {
	t.Helper()
	_, brokers := testkit.NewCluster(t, opts...)
	cfg := config.Default().Kafka
	cfg.Brokers = brokers
	bus, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return bus, ctx
}

func TestEnsureTopicsWriteRead(t *testing.T) {
	bus, ctx := newBus(t)
	if err := bus.EnsureTopics(ctx, "a", "b"); err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureTopics(ctx, "a"); err != nil {
		t.Fatalf("second create must be a no-op: %v", err)
	}
	n, err := bus.PartitionCount(ctx, "a")
	if err != nil || n != 3 {
		t.Fatalf("partitions = %d, %v; want 3", n, err)
	}
	if err := bus.Ping(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	w, err := bus.NewWriter("a", WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	msgs := []kafka.Message{{Key: []byte("k1"), Value: []byte("v1")}, {Key: []byte("k1"), Value: []byte("v2")}}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	// Records of one key are on the partition murmur2 picks, in order.
	partition := kafka.Murmur2Balancer{}.Balance(msgs[0], 0, 1, 2)
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: bus.cfg.Brokers, Topic: "a", Partition: partition, Dialer: bus.Dialer(), MaxWait: 100 * time.Millisecond})
	defer r.Close()
	for _, want := range []string{"v1", "v2"} {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Value) != want {
			t.Fatalf("read %q, want %q", m.Value, want)
		}
	}
}

func TestNewRejectsBadSettings(t *testing.T) {
	cfg := config.Default().Kafka
	cfg.SASL.Mechanism = "GSSAPI"
	if _, err := New(cfg); err == nil || err.Error() != `invalid value "GSSAPI" for kafka.sasl.mechanism: must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512` {
		t.Fatalf("err = %v", err)
	}
	cfg = config.Default().Kafka
	cfg.TLSEnabled, cfg.CAFile = true, "/nonexistent/ca.pem"
	if _, err := New(cfg); err == nil {
		t.Fatal("missing CA file accepted")
	}
}

// TestPingFollowsTheBroker: Ping fails within a few seconds of the broker
// going away, although kafka-go's cached metadata still answers, and
// succeeds again once a broker is back on the address.
func TestPingFollowsTheBroker(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "a"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.Close() }()
	cfg := config.Default().Kafka
	cfg.Brokers = c.ListenAddrs()
	_, port, _ := net.SplitHostPort(cfg.Brokers[0])
	bus, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	ctx := context.Background()
	if err := bus.Ping(ctx, "a"); err != nil {
		t.Fatalf("Ping with the broker up: %v", err)
	}
	if _, err := bus.PartitionCount(ctx, "a"); err != nil { // fills kafka-go's metadata cache
		t.Fatal(err)
	}
	c.Close()
	waitPing(t, bus, false, 4*time.Second)
	n, _ := strconv.Atoi(port)
	c, err = kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(n), kfake.SeedTopics(1, "a"))
	if err != nil {
		t.Skipf("cannot restart the broker on port %d: %v", n, err)
	}
	waitPing(t, bus, true, 4*time.Second)
}

func waitPing(t *testing.T, bus *Bus, up bool, within time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		err := bus.Ping(context.Background(), "a")
		if (err == nil) == up {
			t.Logf("Ping = %v after %v", err, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > within {
			t.Fatalf("Ping = %v %v after the broker changed, want up=%v", err, within, up)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPartitionCountSeesAddedPartitions: partitions added at runtime are
// counted at once, while kafka-go's cached metadata still holds the old
// count.
func TestPartitionCountSeesAddedPartitions(t *testing.T) {
	bus, ctx := newBus(t, kfake.NumBrokers(1), kfake.SeedTopics(1, "a"))
	if n, err := bus.PartitionCount(ctx, "a"); err != nil || n != 1 {
		t.Fatalf("partitions = %d, %v; want 1", n, err)
	}
	resp, err := bus.Client().CreatePartitions(ctx, &kafka.CreatePartitionsRequest{
		Topics: []kafka.TopicPartitionsConfig{{Name: "a", Count: 3}},
	})
	if err != nil || resp.Errors["a"] != nil {
		t.Fatalf("add partitions: %v %v", err, resp)
	}
	if n, err := bus.PartitionCount(ctx, "a"); err != nil || n != 3 {
		t.Fatalf("partitions after adding two = %d, %v; want 3", n, err)
	}
}

func TestEnsureCompactedTopic(t *testing.T) {
	bus, ctx := newBus(t)
	for range 2 { // the second call finds it and leaves it alone
		if err := bus.EnsureCompactedTopic(ctx, "state", 5); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := bus.PartitionCount(ctx, "state"); err != nil || n != 5 {
		t.Fatalf("partitions = %d, %v; want 5", n, err)
	}
	resp, err := bus.Client().DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: "state", ConfigNames: []string{"cleanup.policy"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	policy := ""
	for _, r := range resp.Resources {
		for _, e := range r.ConfigEntries {
			if e.ConfigName == "cleanup.policy" {
				policy = e.ConfigValue
			}
		}
	}
	if policy != "compact" {
		t.Fatalf("cleanup.policy = %q, want compact", policy)
	}
}

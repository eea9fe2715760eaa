package kafkabus

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/driftlock/driftlock/internal/config"
)

func newBroker(t *testing.T) config.Kafka {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cfg := config.Default().Kafka
	cfg.Brokers = c.ListenAddrs()
	return cfg
}

func TestEnsureTopicsWriteRead(t *testing.T) {
	cfg := newBroker(t)
	bus, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
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
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.Brokers, Topic: "a", Partition: partition, Dialer: bus.Dialer(), MaxWait: 100 * time.Millisecond})
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

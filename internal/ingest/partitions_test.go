package ingest

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	metadataapi "github.com/segmentio/kafka-go/protocol/metadata"

	"github.com/driftlock/driftlock/internal/testkit"
)

// TestPartitionOfMatchesMurmur2Balancer: every stream key lands on the
// partition kafka-go's Murmur2Balancer picks, so a stream stays on its
// partition across the change of producer.
func TestPartitionOfMatchesMurmur2Balancer(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	keys := []string{"", "a", "ab", "abc", "abcd", "checkout|log", "checkout|metric|http.server.duration", "größe|span"}
	for range 5000 {
		b := make([]byte, rng.IntN(48))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		keys = append(keys, string(b))
	}
	for _, n := range []int{1, 2, 3, 5, 7, 12, 64, 100} {
		parts := make([]int, n)
		for i := range parts {
			parts[i] = i
		}
		for _, k := range keys {
			want := kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: []byte(k)}, parts...)
			if got := partitionOf(k, n); got != want {
				t.Fatalf("key %q, %d partitions: partition %d, Murmur2Balancer says %d", k, n, got, want)
			}
		}
	}
}

// metadataTransport answers metadata requests for topic with partitions
// partitions (or err) and counts them.
type metadataTransport struct {
	calls      atomic.Int32
	partitions atomic.Int32
	err        error
}

func (m *metadataTransport) RoundTrip(_ context.Context, _ net.Addr, req kafka.Request) (kafka.Response, error) {
	m.calls.Add(1)
	if m.err != nil {
		return nil, m.err
	}
	r := req.(*metadataapi.Request)
	return &metadataapi.Response{Topics: []metadataapi.ResponseTopic{{
		Name: r.TopicNames[0], Partitions: make([]metadataapi.ResponsePartition, m.partitions.Load()),
	}}}, nil
}

func TestPartitionCounterCachesAndForgets(t *testing.T) {
	tr := &metadataTransport{}
	tr.partitions.Store(3)
	clock := testkit.NewManualClock(time.Now())
	c := &partitionCounter{client: &kafka.Client{Addr: kafka.TCP("127.0.0.1:1"), Transport: tr}, topic: "t", ttl: time.Hour, clock: clock}
	ctx := context.Background()
	for range 5 {
		if n, err := c.count(ctx); n != 3 || err != nil {
			t.Fatalf("count = %d, %v; want 3", n, err)
		}
	}
	tr.partitions.Store(6)
	if n, _ := c.count(ctx); n != 3 || tr.calls.Load() != 1 {
		t.Fatalf("count = %d after %d requests; want the cached 3 after 1", n, tr.calls.Load())
	}
	c.forget()
	if n, _ := c.count(ctx); n != 6 || tr.calls.Load() != 2 {
		t.Fatalf("count = %d after %d requests; want 6 after 2", n, tr.calls.Load())
	}
	clock.Advance(time.Hour - time.Millisecond)
	if c.count(ctx); tr.calls.Load() != 2 {
		t.Errorf("%d requests before the cache expired, want 2", tr.calls.Load())
	}
	for range 3 {
		clock.Advance(time.Hour)
		c.count(ctx)
	}
	if tr.calls.Load() != 5 {
		t.Errorf("%d requests with an expired cache, want 5", tr.calls.Load())
	}
}

func TestPartitionCounterKeepsNoFailure(t *testing.T) {
	for name, tr := range map[string]*metadataTransport{
		"broker down":   {err: errors.New("connection refused")},
		"no partitions": {},
	} {
		c := &partitionCounter{client: &kafka.Client{Addr: kafka.TCP("127.0.0.1:1"), Transport: tr}, topic: "t", ttl: time.Hour, clock: realClock{}}
		for range 2 {
			if n, err := c.count(context.Background()); err == nil {
				t.Errorf("%s: count = %d, want an error", name, n)
			}
		}
		if tr.calls.Load() != 2 {
			t.Errorf("%s: %d requests, want 2 (nothing cached)", name, tr.calls.Load())
		}
	}
}

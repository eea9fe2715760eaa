package ingest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol/metadata"

	"github.com/driftlock/driftlock/internal/kafkabus"
)

// metadataTTL is how long the events topic's partition count and leaders
// are reused. kafka-go's transport, which answers the metadata request
// from its own cache, refreshes that cache every few seconds.
const metadataTTL = time.Second

// refreshedTTL is how long leaders learnt from a broker that stopped
// leading a partition are reused: longer than the transport keeps its
// cached metadata (kafkabus), so that the transport, asked again when they
// expire, knows of the change too.
const refreshedTTL = 15 * time.Second

// partitionCounter knows the events topic's partition count and each
// partition's leader, asking kafka-go's transport at most once per ttl and
// again after forget.
type partitionCounter struct {
	client *kafka.Client
	topic  string
	ttl    time.Duration
	clock  Clock
	mu     sync.Mutex // one metadata request at a time
	last   atomic.Pointer[partitionCount]
}

type partitionCount struct {
	n       int
	leaders []string // host:port by partition; "" when it has none
	expires time.Time
}

// cached returns the partition count if the cache holds a fresh one.
func (c *partitionCounter) cached() (int, bool) {
	if e := c.fresh(); e != nil {
		return e.n, true
	}
	return 0, false
}

func (c *partitionCounter) fresh() *partitionCount {
	if e := c.last.Load(); e != nil && c.clock.Now().Before(e.expires) {
		return e
	}
	return nil
}

// count returns the partition count, from cache when it is fresh.
func (c *partitionCounter) count(ctx context.Context) (int, error) {
	e, err := c.lookup(ctx)
	if err != nil {
		return 0, err
	}
	return e.n, nil
}

// leader returns the address of partition i's leader.
func (c *partitionCounter) leader(ctx context.Context, i int) (string, error) {
	e, err := c.lookup(ctx)
	if err != nil {
		return "", err
	}
	if i >= e.n || e.leaders[i] == "" {
		return "", fmt.Errorf("topic %s partition %d: %w", c.topic, i, kafka.LeaderNotAvailable)
	}
	return e.leaders[i], nil
}

func (c *partitionCounter) lookup(ctx context.Context) (*partitionCount, error) {
	if e := c.fresh(); e != nil {
		return e, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.fresh(); e != nil {
		return e, nil
	}
	resp, err := c.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{c.topic}})
	if err != nil {
		return nil, fmt.Errorf("kafka metadata: %w", err)
	}
	for _, t := range resp.Topics {
		if t.Name != c.topic {
			continue
		}
		if t.Error != nil {
			return nil, fmt.Errorf("topic %s: %w", c.topic, t.Error)
		}
		if len(t.Partitions) == 0 {
			break
		}
		e := &partitionCount{n: len(t.Partitions), leaders: make([]string, len(t.Partitions)), expires: c.clock.Now().Add(c.ttl)}
		for _, p := range t.Partitions {
			if p.ID >= 0 && p.ID < e.n && p.Leader.Host != "" {
				e.leaders[p.ID] = net.JoinHostPort(p.Leader.Host, strconv.Itoa(p.Leader.Port))
			}
		}
		c.last.Store(e)
		return e, nil
	}
	return nil, fmt.Errorf("topic %s: no partitions in the metadata", c.topic)
}

// refresh asks the broker on pc for the topic's partitions and leaders,
// caches the answer and reports whether there was one. It is for when a
// leader says it no longer leads a partition: the transport's cache, which
// lookup asks, may lag the change by seconds.
func (c *partitionCounter) refresh(pc *kafkabus.BrokerConn) bool {
	msg, err := pc.RoundTrip(&metadata.Request{TopicNames: []string{c.topic}})
	if err != nil {
		return false
	}
	res := msg.(*metadata.Response)
	brokers := make(map[int32]string, len(res.Brokers))
	for _, b := range res.Brokers {
		brokers[b.NodeID] = net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
	}
	for _, t := range res.Topics {
		if t.Name != c.topic || t.ErrorCode != 0 || len(t.Partitions) == 0 {
			continue
		}
		e := &partitionCount{n: len(t.Partitions), leaders: make([]string, len(t.Partitions)), expires: c.clock.Now().Add(refreshedTTL)}
		for _, p := range t.Partitions {
			if i := int(p.PartitionIndex); i >= 0 && i < e.n {
				e.leaders[i] = brokers[p.LeaderID]
			}
		}
		c.last.Store(e)
		return true
	}
	return false
}

// forget drops the cached count, after Kafka said a partition has no
// leader here or does not exist.
func (c *partitionCounter) forget() { c.last.Store(nil) }

// partitionOf is the partition of key among n, as kafka.Murmur2Balancer
// (and the Java client) picks it for a non-nil key.
func partitionOf(key string, n int) int {
	return int((murmur2(key) & 0x7fffffff) % uint32(n))
}

// murmur2 is the Java client's murmur2 hash, as kafka-go implements it.
func murmur2(data string) uint32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	length := len(data)
	h := seed ^ uint32(length)
	for i := 0; i+4 <= length; i += 4 {
		k := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := length &^ 3
	switch length % 4 {
	case 3:
		h ^= uint32(data[tail+2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[tail+1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[tail])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

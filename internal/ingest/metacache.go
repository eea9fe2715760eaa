package ingest

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	metadataapi "github.com/segmentio/kafka-go/protocol/metadata"
)

// metadataTTL is how long metadataCache reuses an answer. kafka-go's
// transport refreshes its own metadata every few seconds, so partition
// changes reach the writer at most this much later than they would anyway.
const metadataTTL = time.Second

// metadataCache is the writer's transport with one shortcut: kafka-go's
// Writer asks for the topic's metadata once per message (to count the
// partitions), and the transport answers each time with a fresh copy of its
// cached metadata. metadataCache hands out one read-only answer for a
// whole second instead. Only answers that found the topic without error
// are reused; every other request goes to the transport as it is.
type metadataCache struct {
	next kafka.RoundTripper
	ttl  time.Duration // metadataTTL in production
	last atomic.Pointer[cachedMetadata]
}

type cachedMetadata struct {
	topic   string
	resp    *metadataapi.Response
	expires time.Time
}

// RoundTrip implements kafka.RoundTripper.
func (c *metadataCache) RoundTrip(ctx context.Context, addr net.Addr, req kafka.Request) (kafka.Response, error) {
	m, ok := req.(*metadataapi.Request)
	if !ok || len(m.TopicNames) != 1 || m.AllowAutoTopicCreation {
		return c.next.RoundTrip(ctx, addr, req)
	}
	topic := m.TopicNames[0]
	if e := c.last.Load(); e != nil && e.topic == topic && time.Now().Before(e.expires) {
		return e.resp, nil
	}
	resp, err := c.next.RoundTrip(ctx, addr, req)
	if err != nil {
		return nil, err
	}
	if r, ok := resp.(*metadataapi.Response); ok && topicFound(r, topic) {
		c.last.Store(&cachedMetadata{topic: topic, resp: r, expires: time.Now().Add(c.ttl)})
	}
	return resp, nil
}

// topicFound reports whether r describes topic without error.
func topicFound(r *metadataapi.Response, topic string) bool {
	for _, t := range r.Topics {
		if t.Name == topic {
			return t.ErrorCode == 0 && len(t.Partitions) > 0
		}
	}
	return false
}

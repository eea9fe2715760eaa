package ingest

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	metadataapi "github.com/segmentio/kafka-go/protocol/metadata"
	produceapi "github.com/segmentio/kafka-go/protocol/produce"
)

// countingTransport answers metadata requests with resp (or err) and counts
// the requests it sees.
type countingTransport struct {
	calls int
	resp  kafka.Response
	err   error
}

func (t *countingTransport) RoundTrip(context.Context, net.Addr, kafka.Request) (kafka.Response, error) {
	t.calls++
	return t.resp, t.err
}

func metadataRequest(topic string) *metadataapi.Request {
	return &metadataapi.Request{TopicNames: []string{topic}}
}

func topicMetadata(topic string, code int16, partitions int) *metadataapi.Response {
	return &metadataapi.Response{Topics: []metadataapi.ResponseTopic{{
		Name: topic, ErrorCode: code, Partitions: make([]metadataapi.ResponsePartition, partitions),
	}}}
}

func TestMetadataCacheReusesAnswer(t *testing.T) {
	next := &countingTransport{resp: topicMetadata("t", 0, 3)}
	c := &metadataCache{next: next, ttl: time.Hour}
	addr := kafka.TCP("127.0.0.1:9092")
	for range 5 {
		resp, err := c.RoundTrip(context.Background(), addr, metadataRequest("t"))
		if err != nil || resp != next.resp {
			t.Fatalf("got %v, %v; want the transport's answer", resp, err)
		}
	}
	if next.calls != 1 {
		t.Fatalf("transport asked %d times, want 1", next.calls)
	}
	// Another topic, auto-creation and other requests go to the transport.
	if _, err := c.RoundTrip(context.Background(), addr, metadataRequest("other")); err != nil {
		t.Fatal(err)
	}
	auto := metadataRequest("t")
	auto.AllowAutoTopicCreation = true
	if _, err := c.RoundTrip(context.Background(), addr, auto); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RoundTrip(context.Background(), addr, &produceapi.Request{}); err != nil {
		t.Fatal(err)
	}
	if next.calls != 4 {
		t.Fatalf("transport asked %d times, want 4", next.calls)
	}
}

func TestMetadataCacheExpires(t *testing.T) {
	next := &countingTransport{resp: topicMetadata("t", 0, 3)}
	c := &metadataCache{next: next, ttl: time.Nanosecond}
	for range 3 {
		if _, err := c.RoundTrip(context.Background(), kafka.TCP("x:1"), metadataRequest("t")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	if next.calls != 3 {
		t.Fatalf("transport asked %d times, want 3 (answers expired)", next.calls)
	}
}

func TestMetadataCacheKeepsNoFailure(t *testing.T) {
	for name, next := range map[string]*countingTransport{
		"error":         {err: errors.New("broker down")},
		"unknown topic": {resp: topicMetadata("t", int16(kafka.UnknownTopicOrPartition), 0)},
		"other topic":   {resp: topicMetadata("u", 0, 3)},
		"no partitions": {resp: topicMetadata("t", 0, 0)},
	} {
		c := &metadataCache{next: next, ttl: time.Hour}
		for range 2 {
			resp, err := c.RoundTrip(context.Background(), kafka.TCP("x:1"), metadataRequest("t"))
			if resp != next.resp || !errors.Is(err, next.err) {
				t.Fatalf("%s: got %v, %v; want the transport's answer", name, resp, err)
			}
		}
		if next.calls != 2 {
			t.Errorf("%s: transport asked %d times, want 2 (nothing cached)", name, next.calls)
		}
	}
}

func TestGCMemoryLimit(t *testing.T) {
	if got, want := gcMemoryLimit(64<<20), int64(3*64<<20+128<<20); got != want {
		t.Errorf("gcMemoryLimit(64 MiB) = %d, want %d", got, want)
	}
	if got := gcMemoryLimit(int(^uint(0) >> 1)); got <= 0 {
		t.Errorf("gcMemoryLimit(max int) = %d, want no overflow", got)
	}
}

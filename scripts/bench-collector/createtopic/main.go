// Command createtopic creates one Kafka topic, as `driftlock ingest` does at
// start (kafka.topic_partitions, replication factor 1), for the ingest
// benchmark's Collector target: the benchmark broker does not create topics
// on a producer's request, and the Collector's Kafka exporter creates none.
// An existing topic is left as it is. It retries until the broker answers
// or -timeout passes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	broker := flag.String("broker", "127.0.0.1:19092", "broker address")
	topic := flag.String("topic", "otlp-events", "topic to create")
	partitions := flag.Int("partitions", 3, "partitions of the topic")
	timeout := flag.Duration("timeout", 10*time.Second, "give up after this long")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := create(ctx, *broker, *topic, int32(*partitions)); err != nil {
		fmt.Fprintln(os.Stderr, "createtopic:", err)
		os.Exit(1)
	}
}

// create creates topic unless it exists, retrying while the broker does
// not answer yet.
func create(ctx context.Context, broker, topic string, partitions int32) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for {
		resp, err := adm.CreateTopic(ctx, partitions, 1, nil, topic)
		if err == nil {
			err = resp.Err
		}
		if err == nil || errors.Is(err, kerr.TopicAlreadyExists) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("create topic %s: %w", topic, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

package detector

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/kafkabus"
	"github.com/driftlock/driftlock/internal/testkit"
)

// TestFetcherSkipsDeletedRecordsAndStopsWithCtx reads partition 0 from its
// first retained offset, then has retention delete records it has not read
// yet: the fetcher goes on from the first retained one. Waiting on a
// caught-up partition, it returns as soon as ctx ends.
func TestFetcherSkipsDeletedRecordsAndStopsWithCtx(t *testing.T) {
	_, brokers := testkit.NewCluster(t)
	records := func(from, to int) []kafka.Message {
		var out []kafka.Message
		for i := from; i < to; i++ {
			out = append(out, kafka.Message{Value: []byte(strconv.Itoa(i))})
		}
		return out
	}
	produce(t, brokers, eventsTopic, nil) // creates the topic
	produceTo(t, brokers, eventsTopic, 0, records(0, 3))
	bus, err := kafkabus.New(config.Default().Kafka)
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	f := &fetcher{dialer: bus.Dialer(), brokers: brokers, topic: eventsTopic, partition: 0,
		maxWait: 100 * time.Millisecond, log: testkit.QuietLog(), offset: kafka.FirstOffset}
	defer f.close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	expect := func(offset int64) {
		t.Helper()
		msg, err := f.next(ctx)
		if err != nil {
			t.Fatalf("next: %v, want the record at offset %d", err, offset)
		}
		if msg.Offset != offset || string(msg.Value) != strconv.FormatInt(offset, 10) {
			t.Fatalf("next: offset %d value %q, want offset %d", msg.Offset, msg.Value, offset)
		}
	}
	for o := range int64(3) {
		expect(o)
	}
	produceTo(t, brokers, eventsTopic, 0, records(3, 10))
	testkit.DeleteRecords(t, brokers, eventsTopic, map[int32]int64{0: 7})
	for o := int64(7); o < 10; o++ {
		expect(o)
	}

	waiting, stop := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, stop)
	began := time.Now()
	if msg, err := f.next(waiting); err == nil {
		t.Fatalf("next returned offset %d of a caught-up partition", msg.Offset)
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("next returned %v after it was called, ctx ended after 300 ms", d)
	}
}

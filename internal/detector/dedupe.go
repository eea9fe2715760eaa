package detector

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/anomaly"
)

// idSet is a set of anomaly ids.
type idSet map[string]struct{}

// publishedAfter reads the whole anomalies topic, up to its high watermarks
// at the time of the call, and returns for each partition p of from the ids
// of anomalies whose window is on p and ends at or after from[p]. These are
// anomalies a previous owner published without committing the records they
// came from; the new owner must not publish them again.
//
// The topic is read once per generation. Its cost grows with the topic's
// retention, which is why anomaly-events should be kept short-lived.
func (s *Service) publishedAfter(ctx context.Context, from map[int]int64) (map[int]idSet, error) {
	out := make(map[int]idSet, len(from))
	for p := range from {
		out[p] = idSet{}
	}
	topic := s.cfg.Kafka.AnomaliesTopic
	n, err := s.bus.PartitionCount(ctx, topic)
	if err != nil {
		return nil, err
	}
	for q := range n {
		err := s.scanPartition(ctx, topic, q, func(msg kafka.Message) {
			if a, err := anomaly.Decode(msg.Value); err == nil {
				if ids, ok := out[a.Window.Partition]; ok && a.Window.LastOffset >= from[a.Window.Partition] {
					ids[a.ID] = struct{}{}
				}
			}
		})
		if err != nil {
			return nil, fmt.Errorf("scan anomalies: %w", err)
		}
	}
	return out, nil
}

// scanPartition hands every record of partition p of topic, from its first
// offset to its high watermark at the time of the call, to fn in order.
func (s *Service) scanPartition(ctx context.Context, topic string, p int, fn func(kafka.Message)) error {
	first, end, err := s.partitionBounds(ctx, topic, p)
	if err != nil {
		return err
	}
	return s.scanRange(ctx, topic, p, first, end, fn)
}

// partitionBounds returns partition p's first offset and high watermark.
func (s *Service) partitionBounds(ctx context.Context, topic string, p int) (first, end int64, err error) {
	resp, err := s.bus.Client().ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{
		topic: {kafka.FirstOffsetOf(p), kafka.LastOffsetOf(p)}}})
	if err != nil {
		return 0, 0, fmt.Errorf("list offsets of %s/%d: %w", topic, p, err)
	}
	if len(resp.Topics[topic]) != 1 {
		return 0, 0, fmt.Errorf("list offsets of %s/%d: no answer for the partition", topic, p)
	}
	po := resp.Topics[topic][0]
	if po.Error != nil {
		return 0, 0, fmt.Errorf("list offsets of %s/%d: %w", topic, p, po.Error)
	}
	return po.FirstOffset, po.LastOffset, nil
}

// scanRange hands the records of partition p of topic with offsets in
// [from, to) to fn in order; to must not exceed the high watermark.
func (s *Service) scanRange(ctx context.Context, topic string, p int, from, to int64, fn func(kafka.Message)) error {
	if to <= from {
		return nil
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: s.cfg.Kafka.Brokers, Topic: topic, Partition: p, Dialer: s.bus.Dialer(),
		MaxWait: 100 * time.Millisecond, MaxBytes: 16 << 20,
	})
	defer r.Close()
	if err := r.SetOffset(from); err != nil {
		return fmt.Errorf("read %s/%d: %w", topic, p, err)
	}
	for {
		msg, err := r.FetchMessage(ctx)
		if err != nil {
			return fmt.Errorf("read %s/%d: %w", topic, p, err)
		}
		if msg.Offset >= to { // the records up to it were compacted away
			return nil
		}
		fn(msg)
		if msg.Offset >= to-1 {
			return nil
		}
	}
}

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
	reqs := make([]kafka.OffsetRequest, 0, 2*n)
	for q := range n {
		reqs = append(reqs, kafka.FirstOffsetOf(q), kafka.LastOffsetOf(q))
	}
	resp, err := s.bus.Client().ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("list offsets of %s/%d: %w", topic, po.Partition, po.Error)
		}
		if po.LastOffset <= po.FirstOffset {
			continue
		}
		if err := s.scanAnomalies(ctx, po, from, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scanAnomalies reads one partition of the anomalies topic from its first
// offset to its high watermark.
func (s *Service) scanAnomalies(ctx context.Context, po kafka.PartitionOffsets, from map[int]int64, out map[int]idSet) error {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:   s.cfg.Kafka.Brokers,
		Topic:     s.cfg.Kafka.AnomaliesTopic,
		Partition: po.Partition,
		Dialer:    s.bus.Dialer(),
		MaxWait:   100 * time.Millisecond,
		MaxBytes:  16 << 20,
	})
	defer r.Close()
	if err := r.SetOffset(po.FirstOffset); err != nil {
		return fmt.Errorf("scan anomalies: %w", err)
	}
	for {
		msg, err := r.FetchMessage(ctx)
		if err != nil {
			return fmt.Errorf("scan anomalies partition %d: %w", po.Partition, err)
		}
		if a, err := anomaly.Decode(msg.Value); err == nil {
			if ids, ok := out[a.Window.Partition]; ok && a.Window.LastOffset >= from[a.Window.Partition] {
				ids[a.ID] = struct{}{}
			}
		}
		if msg.Offset >= po.LastOffset-1 {
			return nil
		}
	}
}

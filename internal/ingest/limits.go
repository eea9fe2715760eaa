package ingest

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
)

// batchOverhead is the room a produce batch needs beyond its records: the
// record batch header plus the per-record varints kafka-go does not count.
const batchOverhead = 512

// recordLimit is the largest record (key, value and headers) the service
// produces: ingest.max_record_bytes, lowered to fit the topic's
// max.message.bytes when the broker tells it. Larger records are rejected
// in partial_success rather than failing a whole shared batch.
func (s *Service) recordLimit(ctx context.Context) int {
	limit := s.cfg.MaxRecordBytes
	topicMax, err := s.topicMaxMessageBytes(ctx)
	if err != nil {
		s.log.Warn("cannot read the events topic's max.message.bytes; using ingest.max_record_bytes",
			"topic", s.kafka.EventsTopic, "err", err)
		return limit
	}
	if fit := topicMax - batchOverhead; fit < limit {
		s.log.Info("lowering the record limit to fit the topic's max.message.bytes",
			"max_record_bytes", limit, "max_message_bytes", topicMax, "limit", fit)
		limit = fit
	}
	return limit
}

func (s *Service) topicMaxMessageBytes(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := s.bus.Client().DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{
		Resources: []kafka.DescribeConfigRequestResource{{
			ResourceType: kafka.ResourceTypeTopic,
			ResourceName: s.kafka.EventsTopic,
			ConfigNames:  []string{"max.message.bytes"},
		}},
	})
	if err != nil {
		return 0, fmt.Errorf("describe configs: %w", err)
	}
	for _, r := range resp.Resources {
		if r.Error != nil {
			return 0, fmt.Errorf("describe configs: %w", r.Error)
		}
		for _, e := range r.ConfigEntries {
			if e.ConfigName == "max.message.bytes" {
				return strconv.Atoi(e.ConfigValue)
			}
		}
	}
	return 0, fmt.Errorf("topic %s: max.message.bytes not returned", s.kafka.EventsTopic)
}

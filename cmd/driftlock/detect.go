package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/detector"
	"github.com/driftlock/driftlock/internal/kafkabus"
)

func newDetectCmd() *cobra.Command {
	return serviceCmd("detect", "Run one detector replica (run several for scale)", runDetect)
}

func runDetect(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	bus, err := kafkabus.New(cfg.Kafka)
	if err != nil {
		return err
	}
	defer bus.Close()
	svc, err := detector.New(cfg, bus, log, detector.WithVersion(version))
	if err != nil {
		return err
	}
	log.Info("detector started", "admin", svc.AdminAddr(), "brokers", cfg.Kafka.Brokers,
		"events_topic", cfg.Kafka.EventsTopic, "group_id", cfg.Detector.GroupID)
	return svc.Run(ctx)
}

package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/console"
	"github.com/driftlock/driftlock/internal/kafkabus"
)

func newConsoleCmd() *cobra.Command {
	return serviceCmd("console", "Anomaly console: web UI, REST and live-stream API, alert forwarding", runConsole)
}

func runConsole(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	bus, err := kafkabus.New(cfg.Kafka)
	if err != nil {
		return err
	}
	defer bus.Close()
	svc, err := console.New(cfg, bus, log)
	if err != nil {
		return err
	}
	log.Info("console listening", "addr", svc.Addr(), "topic", cfg.Kafka.AnomaliesTopic, "group", cfg.Console.GroupID)
	return svc.Run(ctx)
}

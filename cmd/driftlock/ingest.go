package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/ingest"
	"github.com/driftlock/driftlock/internal/kafkabus"
)

func newIngestCmd() *cobra.Command {
	return serviceCmd("ingest", "Run the OTLP ingest service (gRPC, HTTP) writing events to Kafka", runIngest)
}

func runIngest(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	bus, err := kafkabus.New(cfg.Kafka)
	if err != nil {
		return err
	}
	defer bus.Close()
	svc, err := ingest.New(cfg, bus, log)
	if err != nil {
		return err
	}
	log.Info("ingest starting", "otlp_grpc", svc.GRPCAddr(), "otlp_http", svc.HTTPAddr(),
		"admin", svc.AdminAddr(), "brokers", cfg.Kafka.Brokers)
	return svc.Run(ctx)
}

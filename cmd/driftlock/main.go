// Command driftlock runs DriftLock's services: OTLP ingest, detector
// replicas, the anomaly console, an all-in-one dev mode and the offline
// evaluation. main only wires; each stage lives in internal/.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/driftlock/driftlock/internal/config"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "driftlock:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "driftlock",
		Short:         "Streaming anomaly detection for OpenTelemetry data on Kafka",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newDevCmd(),
		newIngestCmd(),
		newDetectCmd(),
		newConsoleCmd(),
		newEvalCmd(),
		newHealthcheckCmd(),
		newVersionCmd(),
	)
	return root
}

// serviceCmd builds a service subcommand: --config FILE plus one flag per
// configuration key, a JSON logger, and a context cancelled on SIGTERM/SIGINT.
func serviceCmd(use, short string, run func(ctx context.Context, cfg config.Config, log *slog.Logger) error) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path, cmd.Flags())
			if err != nil {
				return err
			}
			log := slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("service", use)
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			return run(ctx, cfg, log)
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "YAML configuration file")
	config.RegisterFlags(cmd.Flags())
	return cmd
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/console"
	"github.com/driftlock/driftlock/internal/detector"
	"github.com/driftlock/driftlock/internal/ingest"
	"github.com/driftlock/driftlock/internal/kafkabus"
)

func newDevCmd() *cobra.Command {
	cmd := serviceCmd("dev", "Run everything in one process on an embedded in-memory Kafka broker", runDev)
	return cmd
}

// runDev starts an in-memory Kafka-protocol broker, then ingest, one detector
// replica and the console against it, and stops them all when ctx ends.
func runDev(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	broker, err := startDevBroker(cfg.Kafka)
	if err != nil {
		return err
	}
	defer broker.Close()
	cfg.Kafka.Brokers = broker.ListenAddrs()
	bus, err := kafkabus.New(cfg.Kafka)
	if err != nil {
		return err
	}
	defer bus.Close()

	in, err := ingest.New(cfg, bus, log.With("component", "ingest"))
	if err != nil {
		return err
	}
	det, err := detector.New(cfg, bus, log.With("component", "detect"))
	if err != nil {
		return err
	}
	con, err := console.New(cfg, bus, log.With("component", "console"))
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stdout, `DriftLock dev is running.
  Kafka (embedded)   %s   topics %s, %s
  OTLP/gRPC          %s
  OTLP/HTTP          http://%s/v1/{logs,metrics,traces}
  Console and API    http://%s/   (API under /api/v1)
  Metrics            http://%s/metrics  http://%s/metrics  http://%s/metrics
Press Ctrl-C to stop.
`, cfg.Kafka.Brokers[0], cfg.Kafka.EventsTopic, cfg.Kafka.AnomaliesTopic,
		local(in.GRPCAddr()), local(in.HTTPAddr()), local(con.Addr()),
		local(in.AdminAddr()), local(det.AdminAddr()), local(con.Addr()))

	return runAll(ctx, in.Run, det.Run, con.Run)
}

// local shows a wildcard listen address as one a browser on this machine can open.
func local(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// startDevBroker starts the embedded broker on the port of the first
// configured broker (127.0.0.1:9092 by default) with the topics created.
func startDevBroker(k config.Kafka) (*kfake.Cluster, error) {
	addr := k.Brokers[0]
	_, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("kafka.brokers %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("kafka.brokers %q: port is not a number", addr)
	}
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.SeedTopics(int32(k.TopicPartitions), k.EventsTopic, k.AnomaliesTopic),
	)
	if err != nil {
		return nil, fmt.Errorf("start embedded broker on port %d (set another with --kafka.brokers=127.0.0.1:PORT): %w", port, err)
	}
	return c, nil
}

// runAll runs every function until ctx ends or one fails; a failure stops
// the others. It returns the first error.
func runAll(ctx context.Context, runs ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, run := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				cancel()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	var bind string
	cmd := serviceCmd("dev", "Run everything in one process on an embedded in-memory Kafka broker",
		func(ctx context.Context, cfg config.Config, log *slog.Logger) error {
			return runDev(ctx, bindDev(cfg, bind), log, os.Stdout)
		})
	cmd.Flags().StringVar(&bind, "bind", "127.0.0.1",
		"address the dev endpoints listen on when their key names none (0.0.0.0: every interface, with no authentication)")
	return cmd
}

// bindDev puts host in place of a wildcard host (0.0.0.0, ::, none) in the
// ingest, detector and console endpoints: the services' defaults listen on
// every interface, dev on loopback unless told otherwise. An endpoint set
// to a specific address keeps it.
func bindDev(cfg config.Config, host string) config.Config {
	for _, ep := range []*string{&cfg.Ingest.GRPCEndpoint, &cfg.Ingest.HTTPEndpoint, &cfg.Ingest.AdminEndpoint,
		&cfg.Detector.AdminEndpoint, &cfg.Console.HTTPEndpoint} {
		h, port, err := net.SplitHostPort(*ep)
		if err != nil {
			continue // Validate names the key
		}
		if ip := net.ParseIP(h); h == "" || (ip != nil && ip.IsUnspecified()) {
			*ep = net.JoinHostPort(host, port)
		}
	}
	return cfg
}

// runDev starts an in-memory Kafka-protocol broker, then ingest, one detector
// replica and the console against it, prints their endpoints on out, and
// stops them all when ctx ends.
func runDev(ctx context.Context, cfg config.Config, log *slog.Logger, out io.Writer) error {
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
	fmt.Fprintf(out, `DriftLock dev is running.
  Kafka (embedded)   %s   topics %s, %s
  OTLP/gRPC          %s
  OTLP/HTTP          http://%s/v1/{logs,metrics,traces}
  Console and API    http://%s/   (API under /api/v1)
  Metrics            http://%s/metrics  http://%s/metrics  http://%s/metrics
%s
The embedded broker keeps everything in memory: stopping or a crash loses
acknowledged records and the console's history. It refuses records over ~1 MB.
Press Ctrl-C to stop.
`, cfg.Kafka.Brokers[0], cfg.Kafka.EventsTopic, cfg.Kafka.AnomaliesTopic,
		local(in.GRPCAddr()), local(in.HTTPAddr()), local(con.Addr()),
		local(in.AdminAddr()), local(det.AdminAddr()), local(con.Addr()),
		exposure(in.GRPCAddr(), in.HTTPAddr(), in.AdminAddr(), det.AdminAddr(), con.Addr()))

	return runAll(ctx, in.Run, det.Run, con.Run)
}

// exposure says who can reach the endpoints at addrs.
func exposure(addrs ...string) string {
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(a)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return `These endpoints are reachable from other machines, with no authentication.`
		}
	}
	return `Listening on loopback only; --bind 0.0.0.0 opens every endpoint to the network
(no authentication).`
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

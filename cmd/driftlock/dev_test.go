package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/config"
)

func TestBindDev(t *testing.T) {
	cfg := config.Default()
	cfg.Console.HTTPEndpoint = "127.0.0.2:8080"
	cfg.Detector.AdminEndpoint = ":8889"
	got := bindDev(cfg, "127.0.0.1")
	for key, want := range map[string]string{
		"ingest.grpc_endpoint":    "127.0.0.1:4317",
		"ingest.http_endpoint":    "127.0.0.1:4318",
		"ingest.admin_endpoint":   "127.0.0.1:8888",
		"detector.admin_endpoint": "127.0.0.1:8889",
		"console.http_endpoint":   "127.0.0.2:8080", // a specific address is kept
	} {
		if v := endpoint(got, key); v != want {
			t.Errorf("%s = %q, want %q", key, v, want)
		}
	}
	if v := bindDev(config.Default(), "0.0.0.0").Ingest.GRPCEndpoint; v != "0.0.0.0:4317" {
		t.Errorf("--bind 0.0.0.0: ingest.grpc_endpoint = %q", v)
	}
}

func endpoint(cfg config.Config, key string) string {
	return map[string]string{
		"ingest.grpc_endpoint": cfg.Ingest.GRPCEndpoint, "ingest.http_endpoint": cfg.Ingest.HTTPEndpoint,
		"ingest.admin_endpoint": cfg.Ingest.AdminEndpoint, "detector.admin_endpoint": cfg.Detector.AdminEndpoint,
		"console.http_endpoint": cfg.Console.HTTPEndpoint,
	}[key]
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDevListensOnLoopback runs driftlock dev with wildcard endpoints on
// free ports: every endpoint is bound to 127.0.0.1, and the banner says
// so, how to open it up, and what the embedded broker loses.
func TestDevListensOnLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg := config.Default()
	cfg.Kafka.Brokers = []string{"127.0.0.1:" + strconv.Itoa(port)}
	cfg.Ingest.GRPCEndpoint, cfg.Ingest.HTTPEndpoint, cfg.Ingest.AdminEndpoint = "0.0.0.0:0", "0.0.0.0:0", ":0"
	cfg.Detector.AdminEndpoint, cfg.Console.HTTPEndpoint = "0.0.0.0:0", "0.0.0.0:0"
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- runDev(ctx, bindDev(cfg, "127.0.0.1"), discardLog(), out) }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "Press Ctrl-C") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("runDev: %v", err)
	}
	banner := out.String()
	for _, want := range []string{"Listening on loopback only; --bind 0.0.0.0 opens", "keeps everything in memory", "over ~1 MB"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	if strings.Contains(banner, "localhost") || strings.Count(banner, "127.0.0.1:") != 7 {
		t.Errorf("banner should name 127.0.0.1 for the broker and its 6 endpoint URLs:\n%s", banner)
	}
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

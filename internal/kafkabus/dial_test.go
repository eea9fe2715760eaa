package kafkabus

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go/protocol/metadata"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/testkit"
)

// TestDialBroker opens connections to brokers that want TLS, SASL or both,
// and checks that each connection answers a metadata request (a broker
// with SASL enabled answers nothing before authentication).
func TestDialBroker(t *testing.T) {
	pki := testkit.NewPKI(t)
	cert, err := tls.LoadX509KeyPair(pki.CertFile, pki.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	for _, tc := range []struct {
		name      string
		tls       bool
		mechanism string
	}{
		{name: "plaintext"},
		{name: "PLAIN", mechanism: "PLAIN"},
		{name: "SCRAM-SHA-256", mechanism: "SCRAM-SHA-256"},
		{name: "SCRAM-SHA-512 over TLS", tls: true, mechanism: "SCRAM-SHA-512"},
		{name: "TLS", tls: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []kfake.Opt{kfake.NumBrokers(1)}
			cfg := config.Default().Kafka
			if tc.tls {
				opts = append(opts, kfake.TLS(serverTLS))
				cfg.TLSEnabled, cfg.CAFile = true, pki.CAFile
			}
			if tc.mechanism != "" {
				opts = append(opts, kfake.EnableSASL(), kfake.Superuser(tc.mechanism, "ingest", "s3cret"))
				cfg.SASL = config.SASL{Mechanism: tc.mechanism, Username: "ingest", Password: "s3cret"}
			}
			_, addrs := testkit.NewCluster(t, opts...)
			addr := addrs[0]
			if err := dialAndAsk(cfg, addr); err != nil {
				t.Fatal(err)
			}
			if tc.mechanism != "" {
				cfg.SASL.Password = "wrong"
				err := dialAndAsk(cfg, addr)
				if err == nil || !strings.Contains(err.Error(), "sasl "+tc.mechanism) {
					t.Fatalf("wrong password: err = %v, want a sasl %s failure", err, tc.mechanism)
				}
			}
			if tc.tls {
				cfg.CAFile = ""
				err := dialAndAsk(cfg, addr)
				if err == nil || !strings.Contains(err.Error(), "tls: ") {
					t.Fatalf("untrusted certificate: err = %v, want a tls failure", err)
				}
			}
		})
	}
}

// dialAndAsk dials addr with cfg and asks for the cluster's brokers.
func dialAndAsk(cfg config.Kafka, addr string) error {
	bus, err := New(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pc, err := bus.DialBroker(ctx, addr)
	if err != nil {
		return err
	}
	defer pc.Close()
	msg, err := pc.RoundTrip(&metadata.Request{})
	if err != nil {
		return err
	}
	if brokers := msg.(*metadata.Response).Brokers; len(brokers) != 1 {
		return &net.AddrError{Err: "metadata lists no broker", Addr: addr}
	}
	return nil
}

func TestDialBrokerRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	bus, err := New(config.Default().Kafka)
	if err != nil {
		t.Fatal(err)
	}
	if pc, err := bus.DialBroker(context.Background(), addr); err == nil {
		pc.Close()
		t.Fatal("dialled a closed port")
	}
}

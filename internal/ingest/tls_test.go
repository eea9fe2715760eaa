package ingest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/event"
	"github.com/driftlock/driftlock/internal/testkit"
)

// serverTLS is ingest.tls with p's server certificate and, when mutual,
// its CA for client certificates.
func serverTLS(p *testkit.PKI, mutual bool) config.ServerTLS {
	c := config.ServerTLS{CertFile: p.CertFile, KeyFile: p.KeyFile, MinVersion: "1.2"}
	if mutual {
		c.ClientCAFile = p.CAFile
	}
	return c
}

// otlpAddr is the address of transport's OTLP server.
func otlpAddr(h *harness, transport string) string {
	if transport == sourceHTTP {
		return h.svc.HTTPAddr()
	}
	return h.svc.GRPCAddr()
}

// TestTLSSDKExporters: the SDK exporters of both transports export over
// TLS and over mutual TLS; a plaintext client, and under mutual TLS a
// client without a certificate, are refused and write nothing.
func TestTLSSDKExporters(t *testing.T) {
	pki := testkit.NewPKI(t)
	for _, mutual := range []bool{false, true} {
		name := "tls"
		if mutual {
			name = "mtls"
		}
		t.Run(name, func(t *testing.T) {
			h := startHarness(t, func(c *config.Config) {
				c.Ingest.TLS = serverTLS(pki, mutual)
				c.Ingest.Auth.Tokens = []string{"ci:tls-token"}
			})
			ctx := context.Background()
			token := map[string]string{"Authorization": "Bearer tls-token"}
			for _, transport := range []string{sourceGRPC, sourceHTTP} {
				addr := otlpAddr(h, transport)
				refused := []sdkClient{{transport: transport, headers: token}} // plaintext
				if mutual {
					refused = append(refused, sdkClient{transport: transport, headers: token, tls: pki.ClientTLS(false)})
				}
				for _, c := range refused {
					if err := c.exportGauge(ctx, addr, "intruder"); err == nil {
						t.Errorf("%s: a client with TLS %v exported to a %s server", transport, c.tls != nil, name)
					}
				}
				good := sdkClient{transport: transport, headers: token, tls: pki.ClientTLS(mutual)}
				if err := good.exportGauge(ctx, addr, "shop-"+transport); err != nil {
					t.Fatalf("%s over %s: %v", transport, name, err)
				}
				if err := good.emitLogs(ctx, addr, "shop-"+transport, 2); err != nil {
					t.Fatalf("%s logs over %s: %v", transport, name, err)
				}
			}
			recs := h.consumeAll()
			if len(recs) != 2*(1+2) {
				t.Errorf("%d records on the topic, want 6", len(recs))
			}
			for _, r := range recs {
				if strings.HasPrefix(string(r.Key), "intruder") {
					t.Errorf("record %s of a refused client written", r.Key)
				}
			}
		})
	}
}

// TestTLSClientCertificateHeader: under mutual TLS with the client header
// on, the records of an export authenticated by its client certificate
// alone are named by the certificate's common name; with tokens too, the
// token's name wins.
func TestTLSClientCertificateHeader(t *testing.T) {
	pki := testkit.NewPKI(t)
	for _, withToken := range []bool{false, true} {
		t.Run(fmt.Sprintf("token=%v", withToken), func(t *testing.T) {
			h := startHarness(t, func(c *config.Config) {
				c.Ingest.TLS = serverTLS(pki, true)
				c.Ingest.Auth.ClientHeader = true
				if withToken {
					c.Ingest.Auth.Tokens = []string{"ci:tls-token"}
				}
			})
			var headers map[string]string
			want := "shop" // the client certificate's common name
			if withToken {
				headers, want = map[string]string{"Authorization": "Bearer tls-token"}, "ci"
			}
			for _, transport := range []string{sourceGRPC, sourceHTTP} {
				c := sdkClient{transport: transport, headers: headers, tls: pki.ClientTLS(true)}
				if err := c.emitLogs(context.Background(), otlpAddr(h, transport), "svc-"+transport, 2); err != nil {
					t.Fatalf("%s: %v", transport, err)
				}
			}
			recs := h.consumeAll()
			if len(recs) != 4 {
				t.Errorf("%d records on the topic, want 4", len(recs))
			}
			for _, r := range recs {
				if got := header(r, event.HeaderClient); got != want {
					t.Errorf("record %s: %s = %q, want %q", r.Key, event.HeaderClient, got, want)
				}
			}
		})
	}
}

// peerSerial connects to addr over TLS and returns the serial of the
// certificate the server presented.
func peerSerial(t *testing.T, addr string, cfg *tls.Config) int64 {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// TestTLSCertificateReload: rewriting the certificate files changes the
// certificate new connections see, without a restart, on both servers,
// once the files are looked at again (at most once per filesCheckEvery);
// exports go on working.
func TestTLSCertificateReload(t *testing.T) {
	pki := testkit.NewPKI(t)
	clock := testkit.NewManualClock(time.Now())
	h := startHarness(t, func(c *config.Config) {
		c.Ingest.TLS = serverTLS(pki, true)
		c.Kafka.BatchTimeoutMS = 0 // batches go without the clock moving
	}, WithClock(clock))
	cfg := pki.ClientTLS(true)
	for _, transport := range []string{sourceGRPC, sourceHTTP} {
		if got := peerSerial(t, otlpAddr(h, transport), cfg); got != 2 {
			t.Fatalf("%s: serial %d before the rewrite, want 2", transport, got)
		}
	}
	pki.WriteServer(7)
	if got := peerSerial(t, h.svc.HTTPAddr(), cfg); got != 2 {
		t.Errorf("serial %d before the files were looked at again, want the previous 2", got)
	}
	clock.Advance(filesCheckEvery)
	ctx := context.Background()
	for _, transport := range []string{sourceGRPC, sourceHTTP} {
		if got := peerSerial(t, otlpAddr(h, transport), cfg); got != 7 {
			t.Errorf("%s: serial %d after the rewrite, want 7", transport, got)
		}
		if err := (sdkClient{transport: transport, tls: cfg}).exportGauge(ctx, otlpAddr(h, transport), "shop"); err != nil {
			t.Errorf("%s after the rewrite: %v", transport, err)
		}
	}
	// A half-written pair (a new certificate, the old key) keeps the last good one.
	certPEM, _ := pki.Issue(9, "ingest", x509.ExtKeyUsageServerAuth)
	if err := os.WriteFile(pki.CertFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	clock.Advance(filesCheckEvery)
	if got := peerSerial(t, h.svc.HTTPAddr(), cfg); got != 7 {
		t.Errorf("serial %d with a mismatched key, want the previous 7", got)
	}
}

// TestTLSMinVersion: with min_version 1.3 a TLS 1.2 client is refused.
func TestTLSMinVersion(t *testing.T) {
	pki := testkit.NewPKI(t)
	h := startHarness(t, func(c *config.Config) {
		c.Ingest.TLS = serverTLS(pki, false)
		c.Ingest.TLS.MinVersion = "1.3"
	})
	old := pki.ClientTLS(false)
	old.MaxVersion = tls.VersionTLS12
	for _, transport := range []string{sourceGRPC, sourceHTTP} {
		if conn, err := tls.Dial("tcp", otlpAddr(h, transport), old); err == nil {
			conn.Close()
			t.Errorf("%s: a TLS 1.2 client got through min_version 1.3", transport)
		}
		if got := peerSerial(t, otlpAddr(h, transport), pki.ClientTLS(false)); got != 2 {
			t.Errorf("%s: TLS 1.3 client saw serial %d", transport, got)
		}
	}
}

// TestTLSAdmin: with ingest.tls.admin the admin endpoint serves HTTPS
// with the same certificate, asking no client certificate.
func TestTLSAdmin(t *testing.T) {
	pki := testkit.NewPKI(t)
	cluster, _ := testkit.NewCluster(t, kfake.NumBrokers(1))
	h := runHarness(t, cluster.ListenAddrs(), func(c *config.Config) {
		c.Ingest.TLS = serverTLS(pki, true)
		c.Ingest.TLS.Admin = true
	})
	h.cluster = cluster
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: pki.ClientTLS(false)}}
	defer client.CloseIdleConnections()
	testkit.WaitFor(t, 20*time.Second, "admin /readyz over TLS", func() bool {
		resp, err := client.Get("https://" + h.svc.AdminAddr() + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if resp, err := h.client.Get("http://" + h.svc.AdminAddr() + "/readyz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("admin answered plaintext /readyz with 200")
		}
	}
}

// TestTLSBadFiles: a missing or wrong file stops New with the key at fault.
func TestTLSBadFiles(t *testing.T) {
	pki := testkit.NewPKI(t)
	for _, tt := range []struct {
		name string
		cfg  config.ServerTLS
		want string
	}{
		{"missing cert", config.ServerTLS{CertFile: filepath.Join(pki.Dir, "none.pem"), KeyFile: pki.KeyFile, MinVersion: "1.2"}, "ingest.tls.cert_file: "},
		{"key of another cert", config.ServerTLS{CertFile: pki.CAFile, KeyFile: pki.KeyFile, MinVersion: "1.2"}, "ingest.tls.cert_file, key_file: "},
		{"ca not PEM", config.ServerTLS{CertFile: pki.CertFile, KeyFile: pki.KeyFile, ClientCAFile: pki.KeyFile, MinVersion: "1.2"}, "no PEM certificate"},
	} {
		_, err := newTLSFiles(tt.cfg, realClock{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

package ingest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/event"
	"github.com/driftlock/driftlock/internal/testkit"
)

// writeTokens writes a tokens file and returns its path.
func writeTokens(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAuthSDKExporters: with tokens configured, the SDK exporters of both
// transports are refused without a token and with a wrong one (each with
// its status, counted by reason), and the service goes on serving the
// good token, whose records land on the topic, named by the
// driftlock-client header when client_header is on.
func TestAuthSDKExporters(t *testing.T) {
	file := writeTokens(t, "# clients\nci:file-token-1\n\n  anonymous-token  \n")
	for _, clientHeader := range []bool{false, true} {
		t.Run(fmt.Sprintf("client_header=%v", clientHeader), func(t *testing.T) {
			h := startHarness(t, func(c *config.Config) {
				c.Ingest.Auth = config.IngestAuth{Tokens: []string{"env:env-token"}, TokensFile: file, ClientHeader: clientHeader}
			})
			ctx := context.Background()
			for _, transport := range []string{sourceGRPC, sourceHTTP} {
				addr, refused := h.svc.GRPCAddr(), "Unauthenticated"
				if transport == sourceHTTP {
					addr, refused = h.svc.HTTPAddr(), "401"
				}
				for _, hdr := range []map[string]string{nil, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic Y2k6ZmlsZS10b2tlbi0x"}} {
					err := sdkClient{transport: transport, headers: hdr}.exportGauge(ctx, addr, "intruder")
					if err == nil || !strings.Contains(err.Error(), refused) {
						t.Errorf("%s with %v: err = %v, want %s", transport, hdr, err, refused)
					}
				}
				good := sdkClient{transport: transport, headers: map[string]string{"Authorization": "Bearer file-token-1"}}
				if err := good.exportGauge(ctx, addr, "shop-"+transport); err != nil {
					t.Fatalf("%s with a good token: %v", transport, err)
				}
				env := sdkClient{transport: transport, headers: map[string]string{"authorization": "bearer env-token"}}
				if err := env.emitLogs(ctx, addr, "shop-"+transport, 3); err != nil {
					t.Fatalf("%s logs with the environment's token: %v", transport, err)
				}
			}
			checkAuthRecords(t, h.consumeAll(), clientHeader)
			text := h.metricsText()
			for _, want := range []string{
				`driftlock_ingest_auth_failures_total{reason="missing",transport="grpc"} 1`,
				`driftlock_ingest_auth_failures_total{reason="invalid",transport="grpc"} 2`,
				`driftlock_ingest_auth_failures_total{reason="missing",transport="http"} 1`,
				`driftlock_ingest_auth_failures_total{reason="invalid",transport="http"} 2`,
				`driftlock_ingest_requests_total{outcome="unauthenticated",signal="metrics",transport="grpc"} 3`,
				`driftlock_ingest_requests_total{outcome="unauthenticated",signal="metrics",transport="http"} 3`,
			} {
				if !strings.Contains(text, want) {
					t.Errorf("metrics lack %s", want)
				}
			}
		})
	}
}

// checkAuthRecords: only the authenticated exports are on the topic (a
// gauge and 3 log lines per transport), named when clientHeader is on.
func checkAuthRecords(t *testing.T, recs []*kgo.Record, clientHeader bool) {
	t.Helper()
	if len(recs) != 2*(1+3) {
		t.Errorf("%d records on the topic, want 8", len(recs))
	}
	for _, r := range recs {
		if strings.HasPrefix(string(r.Key), "intruder") {
			t.Errorf("record %s of a refused export written", r.Key)
		}
		want := ""
		if clientHeader {
			want = "env"
			if strings.Contains(string(r.Key), "|metric|") {
				want = "ci"
			}
		}
		if got := header(r, event.HeaderClient); got != want {
			t.Errorf("record %s: %s = %q, want %q", r.Key, event.HeaderClient, got, want)
		}
		if n := len(r.Headers); clientHeader != (n == maxHeaders) {
			t.Errorf("record %s: %d headers with client_header %v", r.Key, n, clientHeader)
		}
	}
}

// TestAuthHTTPChallenge: a refused OTLP/HTTP request gets 401 with a
// Bearer challenge and an OTLP status body; the admin endpoint stays open.
func TestAuthHTTPChallenge(t *testing.T) {
	h := startHarness(t, func(c *config.Config) { c.Ingest.Auth.Tokens = []string{"s3cret"} })
	body := mustMarshal(t, logsRequest("svc", "a"))
	for _, tt := range []struct {
		auth, challenge string
	}{
		{"", `Bearer realm="otlp"`},
		{"Bearer nope", `Bearer realm="otlp", error="invalid_token"`},
		{"s3cret", `Bearer realm="otlp", error="invalid_token"`},
	} {
		code, out, hdr := h.post("/v1/logs", contentTypeProtobuf, body, map[string]string{"Authorization": tt.auth})
		if code != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") != tt.challenge || len(out) == 0 {
			t.Errorf("Authorization %q: %d %q (%d body bytes), want 401 %q", tt.auth, code, hdr.Get("WWW-Authenticate"), len(out), tt.challenge)
		}
	}
	if code, _, _ := h.post("/v1/logs", contentTypeProtobuf, body, map[string]string{"Authorization": "Bearer s3cret"}); code != http.StatusOK {
		t.Errorf("good token: %d", code)
	}
	for _, path := range []string{"/readyz", "/metrics", "/healthz"} {
		resp, err := h.client.Get("http://" + h.svc.AdminAddr() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("admin %s without a token: %d", path, resp.StatusCode)
		}
	}
}

func TestAuthenticatorConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  config.IngestAuth
		want string
	}{
		{"empty file", config.IngestAuth{TokensFile: writeTokens(t, "# none yet\n\n")}, "holds no token"},
		{"bad line", config.IngestAuth{TokensFile: writeTokens(t, "ok:1\nci:\n")}, "line 2: must be"},
		{"twice", config.IngestAuth{Tokens: []string{"a:x"}, TokensFile: writeTokens(t, "b:x\n")}, `token "b" is configured twice`},
		{"missing file", config.IngestAuth{TokensFile: filepath.Join(t.TempDir(), "none")}, "no such file"},
	} {
		_, err := newAuthenticator(tt.cfg, realClock{}, testkit.QuietLog(), newMetrics(prometheus.NewRegistry()).tokensReloads)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to say %q", tt.name, err, tt.want)
		}
	}
	if a, err := newAuthenticator(config.IngestAuth{}, realClock{}, testkit.QuietLog(), nil); a != nil || err != nil {
		t.Errorf("no tokens: %v, %v; want auth off", a, err)
	}
}

// TestTokensFileReload: a change of the tokens file reaches the SDK
// exporters of both transports without a restart, at the first request
// after the check interval: a token added is accepted, one removed is
// refused. A file that does not load keeps the previous tokens in use.
func TestTokensFileReload(t *testing.T) {
	file := writeTokens(t, "ci:first-token\n")
	clock := testkit.NewManualClock(time.Now())
	h := startHarness(t, func(c *config.Config) {
		c.Ingest.Auth = config.IngestAuth{TokensFile: file, ClientHeader: true}
		c.Kafka.BatchTimeoutMS = 0 // batches go without the clock moving
	}, WithClock(clock))
	ctx := context.Background()
	expect := func(token string, accepted bool) {
		t.Helper()
		for _, transport := range []string{sourceGRPC, sourceHTTP} {
			addr := h.svc.GRPCAddr()
			if transport == sourceHTTP {
				addr = h.svc.HTTPAddr()
			}
			cl := sdkClient{transport: transport, headers: map[string]string{"Authorization": "Bearer " + token}}
			if err := cl.exportGauge(ctx, addr, "shop"); (err == nil) != accepted {
				t.Errorf("%s with %s: err = %v, want accepted %v", transport, token, err, accepted)
			}
		}
	}
	expect("first-token", true)
	expect("second-token", false)

	rewrite := func(body string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rewrite("# rotated\nbatch:second-token\n")
	expect("second-token", false) // not checked again before filesCheckEvery
	clock.Advance(filesCheckEvery)
	expect("second-token", true)
	expect("first-token", false)

	rewrite("batch:second-token\nbroken:\n")
	clock.Advance(filesCheckEvery)
	expect("second-token", true)
	rewrite("") // no token: refused too, never turning auth off
	clock.Advance(filesCheckEvery)
	expect("second-token", true)
	expect("first-token", false)

	for _, r := range h.consumeAll() {
		if got := header(r, event.HeaderClient); got != "ci" && got != "batch" {
			t.Errorf("record %s: %s = %q, want ci or batch", r.Key, event.HeaderClient, got)
		}
	}
	text := h.metricsText()
	for _, want := range []string{
		`driftlock_ingest_tokens_file_reloads_total{outcome="loaded"} 1`,
		`driftlock_ingest_tokens_file_reloads_total{outcome="failed"} 2`,
	} {
		if !containsLine(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

package console

import (
	"net/http"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/testkit"
)

// TestReadyzFollowsTheBroker: the console's /readyz answers 503 within a
// few seconds of its broker going away.
func TestReadyzFollowsTheBroker(t *testing.T) {
	c, brokers := testkit.NewCluster(t)
	cfg := config.Default()
	cfg.Kafka.Brokers = brokers
	cfg.Console.HTTPEndpoint = "127.0.0.1:0"
	r := startConsole(t, cfg)
	c.Close()
	start := time.Now()
	testkit.WaitFor(t, 5*time.Second, "/readyz 503 after the broker went away", func() bool {
		resp, err := http.Get(r.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	t.Logf("/readyz 503 after %v", time.Since(start).Round(time.Millisecond))
	http.DefaultClient.CloseIdleConnections()
}

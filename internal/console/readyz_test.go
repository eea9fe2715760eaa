package console

import (
	"net/http"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/driftlock/driftlock/internal/config"
)

// TestReadyzFollowsTheBroker: the console's /readyz answers 503 within a
// few seconds of its broker going away.
func TestReadyzFollowsTheBroker(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := config.Default()
	cfg.Kafka.Brokers = c.ListenAddrs()
	cfg.Console.HTTPEndpoint = "127.0.0.1:0"
	r := startConsole(t, cfg)
	c.Close()
	start := time.Now()
	waitFor(t, 5*time.Second, "/readyz 503 after the broker went away", func() bool {
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

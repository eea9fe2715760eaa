package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/testkit"
)

// readyTimeout bounds a service's start-up on a busy machine.
const readyTimeout = 60 * time.Second

// ingest is a running `driftlock ingest`.
type ingest struct {
	*service
	GRPC, HTTP string
}

func kafkaFlags(n names) []string {
	return []string{
		"--kafka.brokers", strings.Join(brokers, ","),
		"--kafka.client_id", "driftlock-e2e",
		"--kafka.events_topic", n.Events,
		"--kafka.anomalies_topic", n.Anomalies,
	}
}

// startIngest starts ingest on free ports and waits until it is ready.
func startIngest(t *testing.T, n names, extra ...string) *ingest {
	t.Helper()
	in := &ingest{GRPC: testkit.FreeAddr(t), HTTP: testkit.FreeAddr(t)}
	admin := testkit.FreeAddr(t)
	args := append([]string{"ingest"}, kafkaFlags(n)...)
	args = append(args, "--ingest.grpc_endpoint", in.GRPC, "--ingest.http_endpoint", in.HTTP,
		"--ingest.admin_endpoint", admin)
	in.service = startService(t, "ingest", admin, append(args, extra...)...)
	in.WaitReady(readyTimeout)
	return in
}

// detectorFlags are the small windows that keep the suite fast.
var detectorFlags = []string{"--detector.window_size", "64", "--detector.hop_size", "16"}

// startDetector starts one detector replica of group n.Group writing to
// n.Anomalies, and waits until it is ready.
func startDetector(t *testing.T, name string, n names, extra ...string) *service {
	t.Helper()
	admin := testkit.FreeAddr(t)
	args := append([]string{"detect"}, kafkaFlags(n)...)
	args = append(args, "--detector.group_id", n.Group, "--detector.admin_endpoint", admin)
	args = append(args, detectorFlags...)
	d := startService(t, name, admin, append(args, extra...)...)
	d.WaitReady(readyTimeout)
	return d
}

// startConsole starts the console reading n.Anomalies and waits until it is ready.
func startConsole(t *testing.T, n names) *service {
	t.Helper()
	addr := testkit.FreeAddr(t)
	args := append([]string{"console"}, kafkaFlags(n)...)
	args = append(args, "--console.http_endpoint", addr, "--console.group_id", n.Group+"-console")
	c := startService(t, "console", addr, args...)
	c.WaitReady(readyTimeout)
	return c
}

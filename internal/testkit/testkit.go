// Package testkit holds what the tests of several packages share: an
// in-memory Kafka cluster (in the test's process, or in its own for
// benchmarks that count their process's CPU time), deleting a topic's
// early records as retention would, polling until a condition holds, a
// logger that stays quiet unless asked, a check that a server closes a
// connection, a clock stepped by hand, loopback addresses for the
// processes a test starts, and a test certificate authority.
// Only tests import it.
package testkit

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// NewCluster starts an in-memory Kafka cluster of one broker on loopback,
// closed when the test ends, and returns it with its addresses. Without
// opts, topics are created on first use with the default partition count.
func NewCluster(t testing.TB, opts ...kfake.Opt) (*kfake.Cluster, []string) {
	t.Helper()
	if len(opts) == 0 {
		opts = []kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(-1)}
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, c.ListenAddrs()
}

// pollEvery is how often Poll and WaitFor check their condition.
const pollEvery = 20 * time.Millisecond

// Poll checks cond until it holds (true) or d has passed (false).
func Poll(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pollEvery)
	}
}

// WaitFor checks cond until it holds and fails the test, naming what it
// waited for, if it does not within d.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(d, cond) {
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
}

// QuietLog returns a logger that discards everything, or logs at debug
// level to stderr when DRIFTLOCK_TEST_LOG is set.
func QuietLog() *slog.Logger {
	if os.Getenv("DRIFTLOCK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// ExpectClosed sends req on a new connection to addr and fails the test
// unless the server closes the connection within d.
func ExpectClosed(t testing.TB, addr, req string, d time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(d))
	if _, err := io.Copy(io.Discard, conn); err != nil { // returns at EOF: the server closed
		t.Fatalf("%s %q: connection still open after %v: %v", addr, req, d, err)
	}
}

// DeleteRecords deletes the records of topic before offset before[p] on
// each partition p, as retention would, and fails t unless the brokers
// then report those offsets as the partitions' first.
func DeleteRecords(t testing.TB, brokers []string, topic string, before map[int32]int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offsets := kadm.Offsets{}
	for p, o := range before {
		offsets.AddOffset(topic, p, o, -1)
	}
	resp, err := adm.DeleteRecords(ctx, offsets)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("delete records of %s: %v", topic, err)
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	for p, o := range before {
		if got, ok := starts.Lookup(topic, p); !ok || got.Offset != o {
			t.Fatalf("partition %d of %s starts at %d after deleting the records before %d", p, topic, got.Offset, o)
		}
	}
}

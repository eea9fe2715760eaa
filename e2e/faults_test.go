package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// faultScenario is the load of the fault tests: four services, two of them
// with a burst, sent in about 40 requests.
func faultScenario() scenario {
	svc := func(s string) string { return s + "-" + runID }
	return scenario{
		Services:  []string{svc("checkout"), svc("payments"), svc("cart"), svc("search")},
		PerStream: 400,
		Bursts:    map[string]burst{svc("checkout"): {From: 150, To: 190}, svc("search"): {From: 300, To: 340}},
	}
}

// faultRun is a pipeline under a fault, compared afterwards with a
// reference detector that reads the same events undisturbed.
type faultRun struct {
	t   *testing.T
	adm *kadm.Client
	n   names
	in  *ingest
}

func newFaultRun(t *testing.T) *faultRun {
	needKafka(t)
	adm := newAdmin(t)
	n := newNames(t, adm, nil)
	return &faultRun{t: t, adm: adm, n: n, in: startIngest(t, n)}
}

// run sends the scenario with hooks, checks that nothing acknowledged was
// lost, waits for the detectors of the run to settle, then runs a reference
// detector over the same events and compares the anomalies.
func (f *faultRun) run(hooks map[int]func()) {
	t := f.t
	reqs := faultScenario().requests(10)
	acked := sendAll(t, f.in, reqs, 250*time.Millisecond, hooks)
	checkAcked(t, f.n.Events, acked)
	waitSettled(t, f.adm, f.n, 4*time.Minute)

	ref := f.n
	ref.Group = uniqueName(t, "reference")
	ref.Anomalies = uniqueName(t, "reference-anomalies")
	createTopic(t, f.adm, ref.Anomalies, nil)
	startDetector(t, "reference-detector", ref)
	waitSettled(t, f.adm, ref, 4*time.Minute)

	got := anomaliesByID(t, f.n.Anomalies)
	want := anomaliesByID(t, ref.Anomalies)
	if len(want) == 0 {
		t.Fatal("the reference run found no anomaly; the comparison would prove nothing")
	}
	compareAnomalies(t, got, want)
}

// waitSettled waits until the group has committed the whole events topic
// and the anomalies topic stopped growing.
func waitSettled(t *testing.T, adm *kadm.Client, n names, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastLag, lastEnd int64 = -1, -1
	same := 0
	start := time.Now()
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		lag, err1 := groupLag(ctx, adm, n.Group, n.Events)
		end, err2 := topicEnd(ctx, adm, n.Anomalies)
		cancel()
		if err1 == nil && err2 == nil {
			if lag == lastLag && end == lastEnd {
				same++
			} else {
				same = 0
			}
			if lag == 0 && same >= 2 {
				t.Logf("group %s settled after %s: %d anomaly records", n.Group, time.Since(start).Round(time.Second), end)
				return
			}
			lastLag, lastEnd = lag, end
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("group %s did not settle within %s (lag %d, anomalies %d)", n.Group, timeout, lastLag, lastEnd)
}

// anomaliesByID reads the anomalies topic and returns each record, without
// detected_at, as canonical JSON by id. Records repeated by a replay must be
// identical.
func anomaliesByID(t *testing.T, topic string) map[string]string {
	t.Helper()
	out := map[string]string{}
	dups := 0
	for _, r := range readTopic(t, topic) {
		checkAnomalySchema(t, r)
		var m map[string]any
		if err := json.Unmarshal([]byte(r.Value()), &m); err != nil {
			t.Fatalf("%s offset %d: %v", topic, r.Offset, err)
		}
		delete(m, "detected_at")
		b, _ := json.Marshal(m)
		id := fmt.Sprint(m["id"])
		if prev, ok := out[id]; ok {
			dups++
			if prev != string(b) {
				t.Errorf("%s: anomaly %s written twice with different contents:\n%s\n%s", topic, id, prev, b)
			}
		}
		out[id] = string(b)
	}
	if dups > 0 {
		t.Logf("%s: %d anomalies written more than once", topic, dups)
	}
	return out
}

// compareAnomalies fails t for every anomaly that differs between the run
// under fault and the reference, compared sorted by id.
func compareAnomalies(t *testing.T, got, want map[string]string) {
	t.Helper()
	ids := map[string]bool{}
	for id := range got {
		ids[id] = true
	}
	for id := range want {
		ids[id] = true
	}
	sorted := make([]string, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Strings(sorted)
	bad := 0
	for _, id := range sorted {
		g, w := got[id], want[id]
		switch {
		case g == w:
			continue
		case g == "":
			t.Errorf("anomaly missing under the fault: %s", w)
		case w == "":
			t.Errorf("anomaly only under the fault: %s", g)
		default:
			t.Errorf("anomaly %s differs:\n got %s\nwant %s", id, g, w)
		}
		if bad++; bad >= 5 {
			t.Errorf("(further differences not shown)")
			break
		}
	}
	t.Logf("%d anomalies under the fault, %d in the reference run", len(got), len(want))
}

// TestDetectorReplicaKilled kills one of two detector replicas mid-stream
// with SIGKILL and starts it again later.
func TestDetectorReplicaKilled(t *testing.T) {
	f := newFaultRun(t)
	startDetector(t, "detector-1", f.n)
	d2 := startDetector(t, "detector-2", f.n)
	f.run(map[int]func(){
		12: func() { d2.Kill() },
		24: func() { startDetector(t, "detector-2-restarted", f.n) },
	})
}

// TestDetectorScaleOut starts with one replica and adds two mid-stream.
func TestDetectorScaleOut(t *testing.T) {
	f := newFaultRun(t)
	startDetector(t, "detector-1", f.n)
	f.run(map[int]func(){
		12: func() {
			startDetector(t, "detector-2", f.n)
			startDetector(t, "detector-3", f.n)
		},
	})
}

// TestBrokerKilled kills the broker with SIGKILL during the load and starts
// it again with the same data. Clients retry what was not acknowledged.
func TestBrokerKilled(t *testing.T) {
	pidFile := brokerPIDFile(t)
	f := newFaultRun(t)
	startDetector(t, "detector-1", f.n)
	startDetector(t, "detector-2", f.n)
	restarted := make(chan error, 1)
	restarting := false
	t.Cleanup(func() {
		if restarting {
			<-restarted // the broker is back before the next test
		}
	})
	f.run(map[int]func(){
		12: func() {
			killBroker(t, pidFile)
			restarting = true
			go func() {
				time.Sleep(3 * time.Second)
				restarted <- startBroker()
			}()
		},
		30: func() {
			if err := <-restarted; err != nil {
				t.Fatalf("restart the broker: %v", err)
			}
			restarted <- nil
			t.Log("broker restarted")
		},
	})
}

// brokerPIDFile returns the PID file of the broker started by
// scripts/kafka-native-setup.sh, or skips when the broker is not that one.
func brokerPIDFile(t *testing.T) string {
	t.Helper()
	needKafka(t)
	dir := os.Getenv("DRIFTLOCK_KAFKA_DIR")
	if dir == "" {
		dir = filepath.Join(repoRoot, ".kafka")
	}
	p := filepath.Join(dir, "kafka.pid")
	if _, err := brokerPID(p); err != nil {
		t.Skipf("the broker is not one started by scripts/kafka-native-setup.sh (%v); cannot kill and restart it", err)
	}
	return p
}

func brokerPID(pidFile string) (int, error) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", pidFile, err)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		return 0, fmt.Errorf("broker pid %d: %w", pid, err)
	}
	return pid, nil
}

// killBroker sends SIGKILL to the broker and waits until it is gone.
func killBroker(t *testing.T, pidFile string) {
	t.Helper()
	pid, err := brokerPID(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100 && alive(pid); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("broker (pid %d) killed with SIGKILL", pid)
}

// alive reports whether pid runs and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// startBroker starts the broker again with the set-up script.
func startBroker() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(repoRoot, "scripts", "kafka-native-setup.sh"), "start").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

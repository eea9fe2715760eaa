package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// brokersEnv names the environment variable that selects the Kafka tests.
const brokersEnv = "DRIFTLOCK_E2E_BROKERS"

var (
	// repoRoot is the module root, one level above this package.
	repoRoot string
	// brokers is the bootstrap list from DRIFTLOCK_E2E_BROKERS; empty skips the Kafka tests.
	brokers []string
	// binPath is the driftlock binary built once for the run.
	binPath string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	repoRoot = root
	if env := strings.TrimSpace(os.Getenv(brokersEnv)); env != "" {
		brokers = strings.Split(env, ",")
		dir, err := os.MkdirTemp("", "driftlock-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		binPath = filepath.Join(dir, "driftlock")
		if err := build(binPath); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
	}
	return m.Run()
}

// build compiles ./cmd/driftlock once for every test of the run.
func build(out string) error {
	cmd := exec.Command("go", "build", "-o", out, "./cmd/driftlock")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build driftlock: %w\n%s", err, b)
	}
	return nil
}

// needKafka skips t unless a broker was named, and fails it when kcat is missing.
func needKafka(t *testing.T) {
	t.Helper()
	if len(brokers) == 0 {
		t.Skipf("set %s (e.g. 127.0.0.1:9092 after scripts/kafka-native-setup.sh start) to run the Kafka end-to-end tests", brokersEnv)
	}
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Fatal("kcat is needed by the end-to-end suite: apt-get install kcat")
	}
}

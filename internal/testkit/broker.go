package testkit

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// brokerProgram is the package of the broker StartBroker runs.
const brokerProgram = "github.com/driftlock/driftlock/internal/testkit/kfakebroker"

// StartBroker builds the kfakebroker program, starts it in its own process
// on a free loopback port and returns its address; the process is stopped
// by its PID when the test ends. A benchmark that measures its own
// process's CPU time runs its broker this way, so that serving fetches and
// produces is not counted. It needs the go command.
func StartBroker(t testing.TB) []string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("building %s needs the go command: %v", brokerProgram, err)
	}
	bin := filepath.Join(t.TempDir(), "kfakebroker")
	if out, err := exec.Command(gobin, "build", "-o", bin, brokerProgram).CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", brokerProgram, err, out)
	}
	cmd := exec.Command(bin, "-port", "0")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() { stopProcess(t, cmd) })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "kfakebroker listening on ")
	if err != nil || !ok {
		t.Fatalf("kfakebroker did not say where it listens: %q, %v", line, err)
	}
	return []string{addr}
}

// stopProcess ends cmd's process by its PID, with SIGTERM and, if it has
// not exited within 10 s, SIGKILL, and waits for it.
func stopProcess(t testing.TB, cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Errorf("kfakebroker (pid %d) still running 10 s after SIGTERM; killed", cmd.Process.Pid)
		_ = cmd.Process.Kill()
		<-exited
	}
}

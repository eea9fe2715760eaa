package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// service is one driftlock subprocess with its log file.
type service struct {
	t       *testing.T
	name    string
	admin   string // host:port serving /readyz
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
	killed  bool
}

// serviceEnv is the test's environment without DRIFTLOCK_* settings, so that
// the flags alone configure each subprocess.
func serviceEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DRIFTLOCK_") {
			env = append(env, kv)
		}
	}
	return env
}

// startService runs `driftlock args...`, logging to a file kept for the
// test's lifetime. The process is stopped when the test ends; a service
// stopped by SIGTERM must exit 0.
func startService(t *testing.T, name, admin string, args ...string) *service {
	t.Helper()
	return startProcess(t, name, admin, binPath, args...)
}

// startProcess is startService for any program bin.
func startProcess(t *testing.T, name, admin, bin string, args ...string) *service {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr, cmd.Env = f, f, serviceEnv()
	// The service dies with the test binary, even when a timeout panics it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	pidFile := notePID(cmd.Process.Pid)
	s := &service{t: t, name: name, admin: admin, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		if pidFile != "" {
			os.Remove(pidFile)
		}
		close(s.exited)
	}()
	t.Logf("started %s (pid %d): %s %s", name, cmd.Process.Pid, filepath.Base(bin), strings.Join(args, " "))
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if t.Failed() {
			s.dumpLog()
		}
	})
	return s
}

// notePID records pid in $DRIFTLOCK_E2E_PIDDIR, when set, so that CI can
// stop a process the suite could not; it returns the file written.
func notePID(pid int) string {
	dir := os.Getenv("DRIFTLOCK_E2E_PIDDIR")
	if dir == "" {
		return ""
	}
	p := filepath.Join(dir, fmt.Sprintf("%d.pid", pid))
	if err := os.WriteFile(p, []byte(fmt.Sprintln(pid)), 0o644); err != nil {
		return ""
	}
	return p
}

func (s *service) running() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM and waits up to 30 s (then SIGKILL). It reports a
// non-zero exit of a service that was stopped by SIGTERM.
func (s *service) Stop() error {
	if !s.running() {
		return s.exitProblem()
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return s.exitProblem()
	case <-time.After(30 * time.Second):
		s.Kill()
		return fmt.Errorf("did not stop within 30 s of SIGTERM (pid %d), killed", s.cmd.Process.Pid)
	}
}

func (s *service) exitProblem() error {
	if s.killed || s.waitErr == nil {
		return nil
	}
	return fmt.Errorf("exit after SIGTERM: %w (want status 0)", s.waitErr)
}

// Kill sends SIGKILL and waits for the process to end.
func (s *service) Kill() {
	if !s.running() {
		return
	}
	s.killed = true
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	s.t.Logf("killed %s (pid %d)", s.name, s.cmd.Process.Pid)
}

// WaitReady polls /readyz until it answers 200.
func (s *service) WaitReady(timeout time.Duration) {
	s.t.Helper()
	url := "http://" + s.admin + "/readyz"
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		if !s.running() {
			s.dumpLog()
			s.t.Fatalf("%s exited before it was ready: %v", s.name, s.waitErr)
		}
		code, body, err := httpGet(context.Background(), url)
		if err == nil && code == http.StatusOK {
			return
		}
		last = fmt.Sprintf("%d %s %v", code, strings.TrimSpace(body), err)
		time.Sleep(200 * time.Millisecond)
	}
	s.dumpLog()
	s.t.Fatalf("%s not ready within %s: last /readyz answer %s", s.name, timeout, last)
}

func (s *service) dumpLog() {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return
	}
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	s.t.Logf("--- last lines of %s log ---\n%s", s.name, bytes.TrimSpace(b))
}

func httpGet(ctx context.Context, url string) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	if err != nil && !errors.Is(err, context.Canceled) {
		return resp.StatusCode, buf.String(), err
	}
	return resp.StatusCode, buf.String(), nil
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// datasets finds the shared data sets as the eval tests do.
func datasets(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("DRIFTLOCK_DATASETS"); dir != "" {
		return dir
	}
	dir := "../../../shared/datasets"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("shared data sets not found (../shared/datasets next to the checkout, or DRIFTLOCK_DATASETS); skipping")
	}
	return dir
}

func runEval(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"eval"}, args...))
	err := cmd.Execute()
	return out.String(), err
}

// TestEvalNABResults scores Numenta's published results through the command
// and checks the JSON last line against NAB's published figures.
func TestEvalNABResults(t *testing.T) {
	nab := filepath.Join(datasets(t), "nab")
	out, err := runEval(t, "nab", "--results", filepath.Join(nab, "published/numenta"),
		"--windows", filepath.Join(nab, "labels/combined_windows.json"), "--json")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var got map[string]float64
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	want := map[string]float64{"standard": 72.3, "reward_low_FP_rate": 65.5, "reward_low_FN_rate": 76.3}
	if len(got) != 3 || got["standard"] != want["standard"] || got["reward_low_FP_rate"] != want["reward_low_FP_rate"] || got["reward_low_FN_rate"] != want["reward_low_FN_rate"] {
		t.Fatalf("got %v, want %v", got, want)
	}
	if last := lines[len(lines)-1]; last != `{"standard":72.3,"reward_low_FP_rate":65.5,"reward_low_FN_rate":76.3}` {
		t.Fatalf("last line %s, want the contract's shape and order", last)
	}
	if !strings.Contains(out, "detector numenta, 45 files, 83 windows") {
		t.Fatalf("report header missing:\n%s", out)
	}
}

func TestEvalFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"nab"}, "eval nab: --data (or --results) is required"},
		{[]string{"bgl"}, "eval bgl: --log is required"},
		{[]string{"hdfs"}, "eval hdfs: --train is required"},
		{[]string{"bgl", "--log", "x.log", "--set", "window_size=3"}, "invalid value 3 for detector.window_size"},
		{[]string{"bgl", "--log", "x.log", "--set", "nope=1"}, "--set detector.nope: unknown key"},
	}
	for _, tt := range tests {
		_, err := runEval(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.want)
		}
	}
}

// TestEvalConfigChangesHash: eval runs the detector's defaults and prints
// their configuration hash; --config and --set change the configuration,
// and the hash printed (the records' detector.config_hash) with it.
func TestEvalConfigChangesHash(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "BGL_tiny.log")
	var b strings.Builder
	for range 300 {
		b.WriteString("- 1117838570 2005.06.03 R02-M1-N0 2005-06-03-15.42.50.675872 R02-M1-N0 RAS KERNEL INFO instruction cache parity error corrected\n")
	}
	if err := os.WriteFile(log, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "driftlock.yaml")
	if err := os.WriteFile(cfg, []byte("detector:\n  event_threshold: 0.6\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hash := func(args ...string) string {
		t.Helper()
		out, err := runEval(t, append([]string{"bgl", "--log", log}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		_, after, ok := strings.Cut(out, "config_hash ")
		if !ok || len(after) < 16 {
			t.Fatalf("no config_hash in the report:\n%s", out)
		}
		return after[:16]
	}
	defaults, fromFile, fromSet := hash(), hash("--config", cfg), hash("--set", "event_threshold=0.6")
	if defaults == fromFile || fromFile != fromSet {
		t.Fatalf("config hash defaults %s, --config %s, --set %s: want the file and --set alike and unlike the defaults", defaults, fromFile, fromSet)
	}
}

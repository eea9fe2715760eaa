package console

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/driftlock/driftlock/internal/anomaly"
)

// chromiumPath finds the browser: $DRIFTLOCK_CHROMIUM, else Debian's chromium.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("DRIFTLOCK_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	t.Skip("chromium not installed (apt-get install chromium, or set DRIFTLOCK_CHROMIUM): browser test skipped")
	return ""
}

// artefactDir is $DRIFTLOCK_ARTIFACTS, else a test temporary directory.
func artefactDir(t *testing.T) string {
	if d := os.Getenv("DRIFTLOCK_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// newBrowser starts headless Chromium for the test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	tctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		_ = chromedp.Cancel(ctx)
		cancel()
		cancelAlloc()
	})
	return tctx
}

// demoAnomalies is a realistic recent history for the screenshot.
func demoAnomalies(now time.Time) []any {
	type demo struct {
		service, signal, metric string
		conf                    float64
		ago                     time.Duration
		expl                    string
	}
	ds := []demo{
		{"checkout", "log", "", 0.93, 47 * time.Minute, "Log lines of checkout compress 21% worse than their baseline. 64 of 1024 events use a message template not seen before: \"cart reservation expired for <id>\"."},
		{"search", "metric", "http.server.duration", 0.96, 41 * time.Minute, "http.server.duration of search moved to a higher range: p99 went from 180 ms to 420 ms over the window."},
		{"checkout", "log", "", 0.97, 33 * time.Minute, "Log lines of checkout compress 29% worse than their baseline. New WARN lines dominate: \"retrying payment authorisation\"."},
		{"inventory", "span", "", 0.91, 28 * time.Minute, "Spans of inventory changed shape: 18% of spans now carry status ERROR with db.system=postgresql."},
		{"auth-gateway", "log", "", 0.95, 22 * time.Minute, "Log lines of auth-gateway compress 24% worse than their baseline. 131 events report \"token introspection timeout\"."},
		{"payments", "metric", "queue.depth", 0.992, 15 * time.Minute, "queue.depth of payments climbs steadily instead of oscillating around 40; the window's values are unlike any baseline window (p = 0.008)."},
		{"checkout", "log", "", 0.995, 9 * time.Minute, "Log lines of checkout compress 42% worse than their baseline. ERROR lines from the payment client dominate the window: \"payment gateway timeout after 30000ms\"."},
		{"search", "metric", "http.server.duration", 0.94, 4 * time.Minute, "http.server.duration of search is still above its baseline range, less than before."},
	}
	var out []any
	for i, d := range ds {
		a := sample(fmt.Sprintf("demo-%02d", i), d.service, d.signal, d.conf, 0)
		a.Stream.Metric = d.metric
		if d.metric != "" {
			a.Stream.Key = d.service + "|metric|" + d.metric
		}
		end := now.Add(-d.ago).Truncate(time.Second)
		a.Window.Start, a.Window.End = end.Add(-90*time.Second).Format(time.RFC3339Nano), end.Format(time.RFC3339Nano)
		a.DetectedAt = end.Add(1200 * time.Millisecond).Format(time.RFC3339Nano)
		a.Explanation = d.expl
		a.Scores.NCD = 0.2 + d.conf/4
		out = append(out, a)
	}
	return out
}

// TestBrowserLiveUI opens the UI in headless Chromium, publishes an
// anomaly to the topic and sees it appear without a reload, then opens its
// page and sees its evidence. Screenshots are saved as test artefacts;
// DRIFTLOCK_UPDATE_SCREENSHOT=1 also writes docs/img/console.png and
// docs/img/console-anomaly.png.
func TestBrowserLiveUI(t *testing.T) {
	ctx := newBrowser(t)
	cfg := testConfig(t)
	now := time.Now().UTC()
	publish(t, cfg, demoAnomalies(now)...)
	r := startConsole(t, cfg)
	dir := artefactDir(t)

	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("open UI", chromedp.Do(ctx,
		chromedp.Navigate(r.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#conn.live`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-id="demo-07"]`)),
		chromedp.Evaluate[chromedp.Void](`window.__sameDocument = 42`),
	))

	live := sample("live-1", "checkout", "log", 0.998, 0)
	end := now.Truncate(time.Second)
	live.Window.Start, live.Window.End = end.Add(-90*time.Second).Format(time.RFC3339Nano), end.Format(time.RFC3339Nano)
	live.DetectedAt = end.Add(time.Second).Format(time.RFC3339Nano)
	live.Explanation = "Log lines of checkout compress 47% worse than their baseline. 312 of 1024 events are ERROR lines with a template not seen before: \"payment gateway timeout after <n>ms\". Check the payment gateway's health and recent deploys of checkout."
	live.Evidence = append(live.Evidence, anomaly.Evidence{Offset: 1102, Timestamp: end.Add(-800 * time.Millisecond).Format(time.RFC3339Nano),
		Summary: "WARN circuit breaker payment-gateway OPEN (failure rate 63%)", Score: 0.64})
	publish(t, cfg, live)

	must("see live anomaly", chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`tr[data-id="live-1"]`))))
	same, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.__sameDocument`))
	must("check no reload", err)
	if same != 42 {
		t.Fatal("the page was reloaded; the anomaly must arrive over the live stream")
	}
	first, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#rows tr:first-child`)))
	must("read first row", err)
	if !strings.Contains(first, "checkout") || !strings.Contains(first, "99.8%") || !strings.Contains(first, "payment gateway timeout") {
		t.Errorf("first row = %q", first)
	}
	must("let the highlight fade", chromedp.Do(ctx, chromedp.Sleep(2800*time.Millisecond)))
	saveScreenshot(t, ctx, dir, "console-list.png", "console.png")

	must("open anomaly page", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`tr[data-id="live-1"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#evidence`)),
		chromedp.WaitVisible(chromedp.CSS(`svg.chart circle.sel`)),
	))
	evidence, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#evidence`)))
	must("read evidence", err)
	for _, want := range []string{"ERROR payment gateway timeout after 30000ms", "circuit breaker payment-gateway OPEN", "1102"} {
		if !strings.Contains(evidence, want) {
			t.Errorf("evidence lacks %q:\n%s", want, evidence)
		}
	}
	expl, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#explanation`)))
	must("read explanation", err)
	if expl != live.Explanation {
		t.Errorf("explanation = %q", expl)
	}
	saveScreenshot(t, ctx, dir, "console-anomaly.png", "console-anomaly.png")

	must("open stream timeline", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a.open-stream`)),
		chromedp.WaitVisible(chromedp.CSS(`#stream-chart svg.chart`)),
	))
	points, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#stream-chart svg.chart circle').length`))
	must("count timeline points", err)
	if points != 4 {
		t.Errorf("timeline of checkout|log shows %d anomalies, want 4", points)
	}
	saveScreenshot(t, ctx, dir, "console-stream.png", "")

	// Back on the list, the signal filter narrows the rows.
	must("filter", chromedp.Do(ctx,
		chromedp.Navigate(r.url+"/#/"),
		chromedp.WaitVisible(chromedp.CSS(`#f-signal`)),
		chromedp.SetValue(chromedp.CSS(`#f-signal`), "span"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('f-signal').dispatchEvent(new Event('change'))`),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('#rows tr').length === 1 && !!document.querySelector('tr[data-id="demo-03"]')`, chromedp.WithPollingTimeout(20*time.Second)),
	))
}

// saveScreenshot writes the viewport to dir/name and, when
// DRIFTLOCK_UPDATE_SCREENSHOT is set and docName is not empty, to
// docs/img/docName.
func saveScreenshot(t *testing.T, ctx context.Context, dir, name, docName string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	paths := []string{filepath.Join(dir, name)}
	if docName != "" && os.Getenv("DRIFTLOCK_UPDATE_SCREENSHOT") != "" {
		paths = append(paths, filepath.Join("..", "..", "docs", "img", docName))
	}
	for _, p := range paths {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
}

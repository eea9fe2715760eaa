package console

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/driftlock/driftlock/internal/anomaly"
	"github.com/driftlock/driftlock/internal/config"
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

// must stops the test when a browser step failed.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// liveRecord is a window anomaly of the checkout logs that ended at end.
func liveRecord(id, incident string, confidence float64, end time.Time) anomaly.Anomaly {
	a := windowOf(id, incident, "checkout", "log", confidence, 0)
	a.Window.Start, a.Window.End = end.Add(-90*time.Second).Format(time.RFC3339Nano), end.Format(time.RFC3339Nano)
	a.DetectedAt = end.Add(time.Second).Format(time.RFC3339Nano)
	a.Explanation = "Log lines of checkout compress 47% worse than their baseline. 312 of 1024 events are ERROR lines with a template not seen before: \"payment gateway timeout after <n>ms\". Check the payment gateway's health and recent deploys of checkout."
	a.Evidence[0].Timestamp = end.Add(-2 * time.Second).Format(time.RFC3339Nano)
	a.Evidence[1].Timestamp = end.Add(-time.Second).Format(time.RFC3339Nano)
	a.Evidence = append(a.Evidence, anomaly.Evidence{Offset: 1102, Timestamp: end.Add(-800 * time.Millisecond).Format(time.RFC3339Nano),
		Summary: "WARN circuit breaker payment-gateway OPEN (failure rate 63%)", Score: 0.64})
	return a
}

// TestBrowserLiveUI opens the UI in headless Chromium, publishes an
// anomaly to the topic and sees its incident appear without a reload, then
// a second record of the same incident update that row; it opens the
// record's page and sees its evidence, then a metric event anomaly's chart
// and a log event anomaly's burst. Screenshots are saved as test
// artefacts; DRIFTLOCK_UPDATE_SCREENSHOT=1 also writes docs/img/console.png,
// docs/img/console-anomaly.png and docs/img/console-metric-anomaly.png.
func TestBrowserLiveUI(t *testing.T) {
	ctx := newBrowser(t)
	cfg := testConfig(t)
	now := time.Now().UTC()
	publish(t, cfg, demoAnomalies(now)...)
	r := startConsole(t, cfg)
	dir := artefactDir(t)
	must(t, "open UI", chromedp.Do(ctx,
		chromedp.Navigate(r.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#conn.live`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-incident="demo-07"]`)),
		chromedp.Evaluate[chromedp.Void](`window.__sameDocument = 42`),
	))
	end := now.Truncate(time.Second)
	live := liveRecord("live-1", "inc-live", 0.998, end.Add(-time.Minute))
	publish(t, cfg, live)
	checkLiveIncident(t, ctx, cfg, end)
	saveScreenshot(t, ctx, dir, "console-list.png", "console.png")
	checkAnomalyPage(t, ctx, live)
	saveScreenshot(t, ctx, dir, "console-anomaly.png", "console-anomaly.png")

	must(t, "open stream timeline", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a.open-stream`)),
		chromedp.WaitVisible(chromedp.CSS(`#stream-chart svg.chart`)),
	))
	points, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#stream-chart svg.chart circle').length`))
	must(t, "count timeline points", err)
	if points != 5 {
		t.Errorf("timeline of checkout|log shows %d anomalies, want 5", points)
	}
	saveScreenshot(t, ctx, dir, "console-stream.png", "")

	checkMetricChart(t, ctx, r.url, dir)
	saveScreenshot(t, ctx, dir, "console-metric-anomaly.png", "console-metric-anomaly.png")
	checkLogBurst(t, ctx, r.url)
	saveScreenshot(t, ctx, dir, "console-log-event.png", "")

	// Back on the list, the filters narrow the incidents.
	must(t, "open the list", chromedp.Do(ctx, chromedp.Navigate(r.url+"/#/"), chromedp.WaitVisible(chromedp.CSS(`#f-kind`))))
	for _, f := range []struct{ kind, signal, want string }{{"event", "", demoMetricIncident + ",2b8e6d4f1a3c4e5d9f7a0b1c2d3e4f5a"}, {"", "span", "demo-03"}} {
		must(t, "filter kind "+f.kind+" signal "+f.signal, chromedp.Do(ctx,
			chromedp.Evaluate[chromedp.Void](`document.getElementById('f-signal').value = '`+f.signal+`';
				document.getElementById('f-kind').value = '`+f.kind+`';
				document.getElementById('f-kind').dispatchEvent(new Event('change'))`),
			chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#rows tr.incident')].map((tr) => tr.dataset.incident).join(',') === '`+f.want+`'`,
				chromedp.WithPollingTimeout(20*time.Second)),
		))
	}
}

// checkLiveIncident sees live-1's incident arrive over the live stream,
// expands it, and sees a second record of the incident join the same row.
func checkLiveIncident(t *testing.T, ctx context.Context, cfg config.Config, end time.Time) {
	must(t, "see live incident", chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`tr[data-incident="inc-live"]`))))
	same, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.__sameDocument`))
	must(t, "check no reload", err)
	if same != 42 {
		t.Fatal("the page was reloaded; the anomaly must arrive over the live stream")
	}
	first, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#rows tr:first-child`)))
	must(t, "read first row", err)
	if !strings.Contains(first, "checkout") || !strings.Contains(first, "99.8%") || !strings.Contains(first, "payment gateway timeout") {
		t.Errorf("first row = %q", first)
	}
	must(t, "expand the incident", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`tr[data-incident="inc-live"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-id="live-1"]`)),
	))
	publish(t, cfg, liveRecord("live-2", "inc-live", 0.97, end))
	must(t, "see the incident updated", chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`tr[data-id="live-2"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('tr[data-incident="inc-live"]').length === 1 &&
			document.querySelector('tr[data-incident="inc-live"] td.num').textContent === '2' &&
			document.querySelector('#rows tr:first-child').dataset.incident === 'inc-live'`, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Sleep(2800*time.Millisecond), // let the highlight fade
	))
}

// checkAnomalyPage opens a record from its expanded incident.
func checkAnomalyPage(t *testing.T, ctx context.Context, live anomaly.Anomaly) {
	must(t, "open anomaly page", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`tr[data-id="live-1"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#evidence`)),
		chromedp.WaitVisible(chromedp.CSS(`svg.chart circle.sel`)),
	))
	evidence, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#evidence`)))
	must(t, "read evidence", err)
	for _, want := range []string{"ERROR payment gateway timeout after 30000ms", "circuit breaker payment-gateway OPEN", "1102"} {
		if !strings.Contains(evidence, want) {
			t.Errorf("evidence lacks %q:\n%s", want, evidence)
		}
	}
	expl, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#explanation`)))
	must(t, "read explanation", err)
	if expl != live.Explanation {
		t.Errorf("explanation = %q", expl)
	}
}

// checkMetricChart sees the metric event anomaly's values drawn as an SVG
// chart with its anomalous value marked in a colour unlike the line's, on
// the incident page and on the anomaly page.
func checkMetricChart(t *testing.T, ctx context.Context, base, dir string) {
	const marked = `(() => {
		const c = [...document.querySelectorAll('#series svg.chart circle.anom')];
		const line = document.querySelector('#series svg.chart polyline.vals');
		return c.length + ' ' + (line.getAttribute('points').split(' ').length) + ' ' +
			(c.length > 0 && getComputedStyle(c[0]).fill !== getComputedStyle(line).stroke);
	})()`
	must(t, "open the metric incident", chromedp.Do(ctx,
		chromedp.Navigate(base+"/#/incident/"+demoMetricIncident),
		chromedp.WaitVisible(chromedp.CSS(`#series svg.chart circle.anom`)),
		chromedp.WaitVisible(chromedp.CSS(`#incident-records tr[data-id="demo-05"]`)),
	))
	for _, step := range []string{"incident page", "anomaly page"} {
		if step == "incident page" {
			saveScreenshot(t, ctx, dir, "console-incident.png", "")
		} else {
			must(t, "open the metric event anomaly", chromedp.Do(ctx,
				chromedp.Click(chromedp.CSS(`#incident-records tr[data-id="demo-pay-ev"]`)),
				chromedp.WaitVisible(chromedp.CSS(`.head .kind-event`)),
				chromedp.WaitVisible(chromedp.CSS(`#series svg.chart circle.anom`)),
				chromedp.WaitVisible(chromedp.CSS(`svg.chart circle.sel`)),
			))
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](marked))
		must(t, "read the chart", err)
		if got != "1 256 true" {
			t.Errorf("%s: chart has (marked points, values, contrasting colour) = %s, want 1 256 true", step, got)
		}
	}
}

// checkLogBurst sees a log event anomaly's evidence as lines in offset
// order, the triggering one marked.
func checkLogBurst(t *testing.T, ctx context.Context, base string) {
	must(t, "open the log event anomaly", chromedp.Do(ctx,
		chromedp.Navigate(base+"/#/anomaly/demo-auth-ev"),
		chromedp.WaitVisible(chromedp.CSS(`#evidence .line.trigger`)),
	))
	offs, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#evidence .line .off')].map((e) => e.textContent).join(',')`))
	must(t, "read the burst", err)
	if offs != "▶ 90412,90413,90414,90415,90416" {
		t.Errorf("burst lines = %s", offs)
	}
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

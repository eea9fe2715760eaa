package ingest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/testkit"
)

// TestFileWatch: the files are looked at once per filesCheckEvery at most;
// a change loads once; a change that does not load, or a file gone, is
// reported once, and the files load when they change again.
func TestFileWatch(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	write := func(path, body string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(a, "1")
	write(b, "1")
	clock := testkit.NewManualClock(time.Now())
	w, err := newFileWatch(clock, []string{"x.a", "x.b", "x.unset"}, []string{a, b, ""})
	if err != nil {
		t.Fatal(err)
	}
	loads := 0
	var failure error
	load := func() error {
		loads++
		return failure
	}
	poll := func(step string, wantLoaded bool, wantErr string, wantLoads int) {
		t.Helper()
		loaded, err := w.poll(load)
		if loaded != wantLoaded || (err == nil) != (wantErr == "") || (err != nil && !strings.Contains(err.Error(), wantErr)) || loads != wantLoads {
			t.Fatalf("%s: poll = %v, %v after %d loads; want %v, %q after %d", step, loaded, err, loads, wantLoaded, wantErr, wantLoads)
		}
	}
	write(a, "22")
	poll("changed, before filesCheckEvery", false, "", 0)
	clock.Advance(filesCheckEvery)
	poll("changed", true, "", 1)
	write(a, "333")
	poll("changed again at once", false, "", 1)
	clock.Advance(filesCheckEvery)
	poll("changed again", true, "", 2)
	clock.Advance(filesCheckEvery)
	poll("unchanged", false, "", 2)

	failure = errors.New("half written")
	write(b, "22")
	clock.Advance(filesCheckEvery)
	poll("a change that does not load", false, "half written", 3)
	clock.Advance(filesCheckEvery)
	poll("the same change", false, "", 3)
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	clock.Advance(filesCheckEvery)
	poll("a file gone", false, "x.b: ", 3)
	clock.Advance(filesCheckEvery)
	poll("still gone", false, "", 3)
	failure = nil
	write(b, "4444")
	clock.Advance(filesCheckEvery)
	poll("back", true, "", 4)
}

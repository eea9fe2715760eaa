package ingest

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// filesCheckEvery is how often, at most, files read again when they change
// (the tokens file, the TLS files) are looked at: by the first request or
// handshake after this time.
const filesCheckEvery = time.Second

// fileStamp tells whether a file changed: its modification time and size.
type fileStamp struct {
	mod  time.Time
	size int64
}

// fileWatch tells when files the service loaded changed, so that they are
// loaded again. It stats them at most once per filesCheckEvery of its
// clock. A change that does not load (a certificate written but not its
// key yet, a bad tokens line) is reported once and tried again only when
// the files change again.
type fileWatch struct {
	keys  []string // the configuration key of each file, for errors
	paths []string // "" for an optional file not set: stamped zero
	clock Clock
	next  atomic.Int64 // Unix nanoseconds of the next look

	mu     sync.Mutex  // held while the files are looked at and loaded
	stamp  []fileStamp // of the files loaded last
	failed []fileStamp // of the last change that did not load; nil if none
}

// newFileWatch stamps the files at paths, each named by the key at the same
// index; an error names the key of a file it cannot stat. The caller
// loads them after.
func newFileWatch(clock Clock, keys, paths []string) (*fileWatch, error) {
	w := &fileWatch{keys: keys, paths: paths, clock: clock}
	var err error
	if w.stamp, err = w.stat(); err != nil {
		return nil, err
	}
	w.next.Store(clock.Now().Add(filesCheckEvery).UnixNano())
	return w, nil
}

// stat stamps the files, up to the first that cannot be stat'ed.
func (w *fileWatch) stat() ([]fileStamp, error) {
	st := make([]fileStamp, len(w.paths))
	for i, p := range w.paths {
		if p == "" {
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return st, fmt.Errorf("%s: %w", w.keys[i], err)
		}
		st[i] = fileStamp{mod: fi.ModTime(), size: fi.Size()}
	}
	return st, nil
}

// poll calls load when it is time to look at the files and they changed
// since they last loaded or failed to. It reports whether load ran and
// succeeded, and the error of a change that did not load (load's, or the
// files' own, load then not called) the first time it is seen.
func (w *fileWatch) poll(load func() error) (bool, error) {
	now := w.clock.Now().UnixNano()
	next := w.next.Load()
	if now < next || !w.next.CompareAndSwap(next, now+int64(filesCheckEvery)) {
		return false, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	st, err := w.stat()
	if slices.Equal(st, w.stamp) || slices.Equal(st, w.failed) { // unchanged, or a failure already reported
		return false, nil
	}
	if err == nil {
		err = load()
	}
	if err != nil {
		w.failed = st
		return false, err
	}
	w.stamp, w.failed = st, nil
	return true, nil
}

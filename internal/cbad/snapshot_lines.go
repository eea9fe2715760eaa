package cbad

import (
	"fmt"
	"slices"
)

// firsts writes the window's lines in line order: each line's index, its
// events in the window and its kept first event, as a difference from the
// number of events pushed (0 for none), with its summary.
func (w *snapWriter) firsts(m map[uint32]windowLine) {
	ids := make([]uint32, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b uint32) int { return int(w.index[a]) - int(w.index[b]) })
	w.uvarint(uint64(len(ids)))
	for _, id := range ids {
		wl := m[id]
		w.uvarint(w.index[id])
		w.varint(int64(wl.n))
		if wl.first < 0 {
			w.uvarint(0)
			continue
		}
		w.uvarint(uint64(w.s.pushed - wl.first))
		w.str(wl.summary)
	}
}

// firsts reads what snapWriter.firsts wrote.
func (r *snapReader) firsts(s *Stream) {
	n := r.Count(3)
	if n == 0 {
		return
	}
	s.firsts = make(map[uint32]windowLine, n)
	prev := uint64(0)
	for range n {
		id, wl := r.Uvarint(), windowLine{n: int32(r.Varint()), first: -1}
		if back := r.Uvarint(); back > 0 {
			wl.first, wl.summary = s.pushed-int64(back), r.Str()
		}
		if r.Err() != nil {
			return
		}
		if id <= prev || id >= uint64(len(s.lineTab)) {
			r.Failf("window line %d after %d of %d lines", id, prev, len(s.lineTab)-1)
			return
		}
		prev = id
		s.firsts[uint32(id)] = wl
	}
}

// checkLines checks that the interned lines' counts are those of the items
// that hold them, so that a restored stream never looks up a line it
// released.
func (s *Stream) checkLines() error {
	base := make([]int32, max(len(s.lineTab), 1)) // [0]: metric events
	live := make([]int32, max(len(s.lineTab), 1))
	for i := 0; i < s.base.len(); i++ {
		base[s.base.at(i).line()]++
	}
	for i := 0; i < s.window.len(); i++ {
		live[s.window.at(i).line()]++
	}
	for i := range s.pending {
		live[s.pending[i].line()]++
	}
	for id, ls := range s.lineTab {
		if ls != nil && (ls.base != base[id] || ls.live != live[id]) {
			return fmt.Errorf("line %q counted %d/%d, held by %d/%d items", ls.line, ls.base, ls.live, base[id], live[id])
		}
	}
	return s.checkFirsts()
}

// checkFirsts checks that the window's lines are those of its events, with
// their counts, and that a kept first event is in the window and of its
// line.
func (s *Stream) checkFirsts() error {
	win := make(map[uint32]int32, len(s.firsts))
	for i := 0; i < s.window.len(); i++ {
		if it := s.window.at(i); it.nv == 0 {
			win[it.ref]++
		}
	}
	oldest := s.pushed - int64(s.window.len())
	if oldest < 0 || len(win) != len(s.firsts) {
		return fmt.Errorf("%d lines in a window of %d lines after %d events", len(s.firsts), len(win), s.pushed)
	}
	for id, wl := range s.firsts {
		if wl.n != win[id] {
			return fmt.Errorf("window line %d counted %d, held by %d events", id, wl.n, win[id])
		}
		if wl.first >= 0 && (wl.first < oldest || wl.first >= s.pushed || s.window.at(int(wl.first-oldest)).ref != id) {
			return fmt.Errorf("window line %d kept for event %d, not one of its events in the window", id, wl.first)
		}
	}
	return nil
}

package cbad

import "unsafe"

// internLine returns the id of the canonical line b, interning it when new,
// and counts it live.
func (s *Stream) internLine(b []byte) uint32 {
	if id, ok := s.lineIDs[string(b)]; ok {
		s.lineTab[id].live++
		return id
	}
	line := string(b)
	var id uint32
	if n := len(s.freeIDs); n > 0 {
		id, s.freeIDs = s.freeIDs[n-1], s.freeIDs[:n-1]
	} else {
		if len(s.lineTab) == 0 {
			s.lineTab = append(s.lineTab, nil) // id 0 means no line
		}
		id = uint32(len(s.lineTab))
		s.lineTab = append(s.lineTab, nil)
	}
	s.lineTab[id] = &lineStat{line: line, live: 1}
	s.lineIDs[line] = id
	return id
}

// lineText returns the canonical line of id.
func (s *Stream) lineText(id uint32) string { return s.lineTab[id].line }

// release forgets the interned line id when no event holds it and the long
// memory has forgotten it.
func (s *Stream) release(id uint32) {
	if ls := s.lineTab[id]; ls.base <= 0 && ls.live <= 0 && ls.seen < 0.5 {
		s.forget(id)
	}
}

// forget frees the line id.
func (s *Stream) forget(id uint32) {
	delete(s.lineIDs, s.lineTab[id].line)
	s.lineTab[id] = nil
	s.freeIDs = append(s.freeIDs, id)
}

// drop lets go of what an event leaving the stream holds: its line (see
// release) or its further features.
func (s *Stream) drop(it *feats) {
	switch {
	case it.nv == 0:
		s.release(it.ref)
	case it.ref != 0:
		s.extra[it.ref-1] = [maxFeatures - 1]float64{}
		s.freeExtra = append(s.freeExtra, it.ref-1)
	}
}

// newExtra keeps a metric event's further features and returns their ref.
func (s *Stream) newExtra(x [maxFeatures - 1]float64) uint32 {
	if n := len(s.freeExtra); n > 0 {
		slot := s.freeExtra[n-1]
		s.freeExtra = s.freeExtra[:n-1]
		s.extra[slot] = x
		return slot + 1
	}
	s.extra = append(s.extra, x)
	return uint32(len(s.extra))
}

// feature returns the event's f-th feature (0 the primary value); 0 beyond
// its features.
func (s *Stream) feature(it *feats, f int) float64 {
	switch {
	case f == 0:
		return it.v
	case f >= int(it.nv):
		return 0
	}
	return s.extra[it.ref-1][f-1]
}

// linesSize approximates the memory the line table retains.
func (s *Stream) linesSize() int {
	n := 8*cap(s.lineTab) + 4*cap(s.freeIDs)
	for _, ls := range s.lineTab {
		if ls != nil {
			// the text, the stats and the entry of lineIDs
			n += len(ls.line) + int(unsafe.Sizeof(*ls)) + 32
		}
	}
	return n
}

// lineName returns the event's canonical line; empty for a metric event.
func (s *Stream) lineName(it *item) string {
	if it.nv != 0 {
		return ""
	}
	return s.lineTab[it.ref].line
}

// windowLine is where a canonical line stands in the window: how many of
// the window's events carry it (n) and the number and summary of the
// line's first event since it entered the window, while that event is in
// the window (first is -1 once it left). So a summary is kept per distinct
// line of the window, not per event, and it is the summary of the line's
// first event in the window unless the line entered the window earlier.
type windowLine struct {
	n       int32
	first   int64
	summary string
}

// enterWindow counts the newest event of the window, of line id and
// summary sum, into the line's place in the window.
func (s *Stream) enterWindow(id uint32, sum string) {
	if s.firsts == nil {
		s.firsts = make(map[uint32]windowLine)
	}
	wl := s.firsts[id]
	if wl.n == 0 {
		wl.first, wl.summary = s.pushed-1, sum
	}
	wl.n++
	s.firsts[id] = wl
}

// leaveWindow counts out the event it that leaves the full window.
func (s *Stream) leaveWindow(it *item) {
	if it.nv != 0 {
		return
	}
	wl := s.firsts[it.ref]
	if wl.n--; wl.n <= 0 {
		delete(s.firsts, it.ref)
		return
	}
	if wl.first == s.pushed-int64(s.window.size) {
		wl.first, wl.summary = -1, ""
	}
	s.firsts[it.ref] = wl
}

// windowSummary describes the window's i-th event, a log record or span: by
// its own summary when it is the kept first of its line, else by its
// canonical line.
func (s *Stream) windowSummary(i int) string {
	it := s.window.at(i)
	if wl := s.firsts[it.ref]; wl.first >= 0 && wl.first == s.pushed-int64(s.window.len()-i) {
		return wl.summary
	}
	return truncate(s.lineText(it.ref), maxSummary)
}

// firstsSize approximates the memory of the window's lines and their kept
// summaries.
func (s *Stream) firstsSize() int {
	n := 0
	for _, wl := range s.firsts {
		// the entry (key, value and the map's share of control bytes)
		n += len(wl.summary) + int(unsafe.Sizeof(wl)) + 16
	}
	return n
}

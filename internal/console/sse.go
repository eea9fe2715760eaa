package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// sseWriteTimeout bounds one write to a live-stream client; a client that
// does not read for this long is dropped.
const sseWriteTimeout = 10 * time.Second

// serveSSE streams anomalies as Server-Sent Events: "event: anomaly",
// "id: <sequence>", data the anomaly JSON. A client resuming with the
// Last-Event-ID header (or ?last_event_id=) first gets the anomalies it
// missed that are still held. Comment lines keep idle connections alive.
func (s *Service) serveSSE(w http.ResponseWriter, r *http.Request) {
	after, replay, err := lastEventID(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	sub, missed, err := s.store.subscribe(after, replay)
	if errors.Is(err, errTooManyClients) {
		s.m.sseRejected.Inc()
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("%v (console.max_sse_clients=%d)", err, s.cfg.Console.MaxSSEClients))
		return
	}
	defer s.store.unsubscribe(sub)
	rc := http.NewResponseController(w)
	// The server's read timeout is for requests; a stream lasts. Each
	// write sets its own deadline (writeSSE).
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if !s.writeSSE(w, rc, []byte("retry: 3000\n: connected\n\n")) {
		return
	}
	for _, e := range missed {
		if !s.writeSSE(w, rc, eventBytes(e)) {
			return
		}
	}
	s.streamLive(w, r, rc, sub)
}

func (s *Service) streamLive(w http.ResponseWriter, r *http.Request, rc *http.ResponseController, sub *subscriber) {
	beat := time.NewTicker(s.opts.heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.stop:
			return
		case <-sub.gone:
			s.log.Info("live-stream client dropped: it did not keep up", "remote", r.RemoteAddr)
			return
		case e := <-sub.ch:
			if !s.writeSSE(w, rc, eventBytes(e)) {
				return
			}
		case <-beat.C:
			if !s.writeSSE(w, rc, []byte(": heartbeat\n\n")) {
				return
			}
		}
	}
}

func (s *Service) writeSSE(w http.ResponseWriter, rc *http.ResponseController, b []byte) bool {
	_ = rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
	if _, err := w.Write(b); err != nil {
		return false
	}
	return rc.Flush() == nil
}

// eventBytes frames one anomaly as an SSE event; its JSON has no newline.
func eventBytes(e *entry) []byte {
	b := make([]byte, 0, len(e.data)+48)
	b = append(b, "event: anomaly\nid: "...)
	b = strconv.AppendUint(b, e.Sequence, 10)
	b = append(b, "\ndata: "...)
	b = append(b, e.data...)
	return append(b, "\n\n"...)
}

// lastEventID reads the resume point: the Last-Event-ID header, else the
// last_event_id query parameter. replay is false when neither is given.
func lastEventID(r *http.Request) (after uint64, replay bool, err error) {
	v := strings.TrimSpace(r.Header.Get("Last-Event-ID"))
	name := "Last-Event-ID header"
	if v == "" {
		v, name = r.URL.Query().Get("last_event_id"), "query parameter last_event_id"
	}
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("invalid %s: %q is not an event id (a non-negative integer)", name, v)
	}
	return n, true, nil
}

package console

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/driftlock/driftlock/internal/anomaly"
)

// Paging limits of the list endpoints.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// filter selects anomalies; zero fields match everything.
type filter struct {
	service, signal, stream string
	kind, incident          string
	since, until            time.Time
	minConfidence           float64
}

// page selects a slice of the newest-first result.
type page struct {
	limit  int
	cursor uint64 // only sequences below it; 0 means from the newest
	offset int
}

// paramError is a bad query parameter; the API answers it with 400.
type paramError struct{ param, msg string }

func (e *paramError) Error() string {
	return fmt.Sprintf("invalid query parameter %s: %s", e.param, e.msg)
}

func badParam(param, format string, args ...any) error {
	return &paramError{param: param, msg: fmt.Sprintf(format, args...)}
}

var signals = map[string]bool{"log": true, "metric": true, "span": true}

// parseFilter reads service, signal, stream, kind, incident, since, until
// and min_confidence.
func parseFilter(q url.Values) (filter, error) {
	f := filter{service: q.Get("service"), signal: q.Get("signal"), stream: q.Get("stream"),
		kind: q.Get("kind"), incident: q.Get("incident")}
	if f.signal != "" && !signals[f.signal] {
		return f, badParam("signal", "%q is not one of log, metric, span", f.signal)
	}
	if f.kind != "" && f.kind != anomaly.KindWindow && f.kind != anomaly.KindEvent {
		return f, badParam("kind", "%q is not one of window, event", f.kind)
	}
	var err error
	if f.since, err = parseTime(q, "since"); err != nil {
		return f, err
	}
	if f.until, err = parseTime(q, "until"); err != nil {
		return f, err
	}
	if !f.since.IsZero() && !f.until.IsZero() && f.until.Before(f.since) {
		return f, badParam("until", "must not be before since")
	}
	if v := q.Get("min_confidence"); v != "" {
		c, err := strconv.ParseFloat(v, 64)
		if err != nil || !(c >= 0 && c <= 1) { // also rejects NaN
			return f, badParam("min_confidence", "%q is not a number between 0 and 1", v)
		}
		f.minConfidence = c
	}
	return f, nil
}

func parseTime(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, badParam(name, "%q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", v)
	}
	return t, nil
}

// parsePage reads limit and either cursor or offset.
func parsePage(q url.Values) (page, error) {
	p := page{limit: defaultLimit}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return p, badParam("limit", "%q is not an integer between 1 and %d", v, maxLimit)
		}
		p.limit = n
	}
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			return p, badParam("cursor", "%q is not a cursor returned as next_cursor", v)
		}
		p.cursor = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, badParam("offset", "%q is not a non-negative integer", v)
		}
		if p.cursor != 0 {
			return p, badParam("offset", "cannot be combined with cursor")
		}
		p.offset = n
	}
	return p, nil
}

func (f filter) match(e *entry) bool {
	return (f.service == "" || e.Stream.Service == f.service) &&
		(f.signal == "" || e.Stream.Signal == f.signal) &&
		(f.stream == "" || e.Stream.Key == f.stream) &&
		(f.kind == "" || e.Kind == f.kind) &&
		(f.incident == "" || e.Incident == f.incident) &&
		(f.since.IsZero() || !e.at.Before(f.since)) &&
		(f.until.IsZero() || e.at.Before(f.until)) &&
		e.Scores.Confidence >= f.minConfidence
}

func (f filter) matchStream(s *StreamSummary) bool {
	return (f.service == "" || s.Service == f.service) &&
		(f.signal == "" || s.Signal == f.signal) &&
		(f.stream == "" || s.Key == f.stream)
}

// result is one page of matches walked newest first: the items kept, the
// number of matches over everything held, and the cursor of the next page
// (0 when this is the last page).
type result[T any] struct {
	items      []T
	total      int
	nextCursor uint64

	p    page
	skip int
	last uint64 // sequence of the last item kept
}

func newResult[T any](p page) result[T] { return result[T]{p: p, skip: p.offset} }

// offer counts one match of sequence seq, the newest not yet offered, and
// keeps it (built by item) when it falls on the page.
func (r *result[T]) offer(seq uint64, item func() T) {
	r.total++
	switch {
	case r.p.cursor != 0 && seq >= r.p.cursor:
	case r.skip > 0:
		r.skip--
	case len(r.items) < r.p.limit:
		r.items, r.last = append(r.items, item()), seq
	case r.nextCursor == 0:
		r.nextCursor = r.last
	}
}

// query returns the page p of the anomalies that match f, newest first.
func (s *store) query(f filter, p page) result[Item] {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := newResult[Item](p)
	for i := s.n - 1; i >= 0; i-- {
		if e := s.at(i); f.match(e) {
			r.offer(e.Sequence, func() Item { return e.Item })
		}
	}
	return r
}

// TimelinePoint is one anomaly of a stream's timeline. NCD and PValue are
// zero for event anomalies.
type TimelinePoint struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	Incident    string    `json:"incident"`
	Sequence    uint64    `json:"sequence"`
	Start       string    `json:"start"`
	End         time.Time `json:"time"`
	Confidence  float64   `json:"confidence"`
	NCD         float64   `json:"ncd"`
	PValue      float64   `json:"p_value"`
	Threshold   float64   `json:"threshold"`
	Explanation string    `json:"explanation"`
}

// timeline returns the newest limit anomalies that match f, in time order.
func (s *store) timeline(f filter, limit int) []TimelinePoint {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var pts []TimelinePoint
	for i := s.n - 1; i >= 0 && len(pts) < limit; i-- {
		e := s.at(i)
		if !f.match(e) {
			continue
		}
		pts = append(pts, TimelinePoint{
			ID: e.ID, Kind: e.Kind, Incident: e.Incident, Sequence: e.Sequence, Start: e.Window.Start, End: e.at,
			Confidence: e.Scores.Confidence, NCD: e.Scores.NCD, PValue: e.Scores.PValue,
			Threshold: e.Threshold, Explanation: e.Explanation,
		})
	}
	sort.Slice(pts, func(i, j int) bool {
		if !pts[i].End.Equal(pts[j].End) {
			return pts[i].End.Before(pts[j].End)
		}
		return pts[i].Sequence < pts[j].Sequence
	})
	return pts
}

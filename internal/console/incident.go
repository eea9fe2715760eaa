package console

import (
	"slices"
	"time"

	"github.com/driftlock/driftlock/internal/anomaly"
)

// Incident is one incident as the API returns it: the anomalies held that
// share an incident id, summed up.
type Incident struct {
	ID     string         `json:"id"`
	Stream anomaly.Stream `json:"stream"`
	// Kinds are the kinds of its records, sorted.
	Kinds []string `json:"kinds"`
	// Start is the earliest window start of its records, End the latest
	// window end.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Records counts its records held.
	Records       int     `json:"records"`
	MaxConfidence float64 `json:"max_confidence"`
	Threshold     float64 `json:"threshold"`
	// The latest record is the one stored last (highest sequence).
	LatestID          string `json:"latest_anomaly_id"`
	LatestSequence    uint64 `json:"latest_sequence"`
	LatestExplanation string `json:"latest_explanation"`
	// AnomalyIDs are its records, oldest first.
	AnomalyIDs []string `json:"anomaly_ids"`
}

// summarizeIncident sums up the held records of one incident, oldest first.
func summarizeIncident(es []*entry) Incident {
	latest := es[len(es)-1]
	inc := Incident{ID: latest.Incident, Stream: latest.Stream, Start: es[0].from, End: es[0].at,
		Records: len(es), Threshold: latest.Threshold, LatestID: latest.ID,
		LatestSequence: latest.Sequence, LatestExplanation: latest.Explanation,
		AnomalyIDs: make([]string, 0, len(es))}
	for _, e := range es {
		if !slices.Contains(inc.Kinds, e.Kind) {
			inc.Kinds = append(inc.Kinds, e.Kind)
		}
		if e.from.Before(inc.Start) {
			inc.Start = e.from
		}
		if e.at.After(inc.End) {
			inc.End = e.at
		}
		inc.MaxConfidence = max(inc.MaxConfidence, e.Scores.Confidence)
		inc.AnomalyIDs = append(inc.AnomalyIDs, e.ID)
	}
	slices.Sort(inc.Kinds)
	return inc
}

// forgetInIncident drops e, the oldest anomaly held, from its incident;
// callers hold the write lock. Being the oldest held, e is the first of
// its incident's records.
func (s *store) forgetInIncident(e *entry) {
	es := s.incidents[e.Incident]
	if len(es) <= 1 {
		delete(s.incidents, e.Incident)
		return
	}
	es[0] = nil
	s.incidents[e.Incident] = es[1:]
}

// queryIncidents returns the page p of the incidents that have a record
// matching f, ordered by their latest record, newest first. The cursor is
// a latest sequence: a page after it holds incidents updated before it.
func (s *store) queryIncidents(f filter, p page) result[Incident] {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := newResult[Incident](p)
	visited := make(map[string]bool)
	for i := s.n - 1; i >= 0; i-- {
		e := s.at(i)
		if visited[e.Incident] {
			continue
		}
		visited[e.Incident] = true // e is the incident's latest record
		if es := s.incidents[e.Incident]; slices.ContainsFunc(es, f.match) {
			r.offer(e.Sequence, func() Incident { return summarizeIncident(es) })
		}
	}
	return r
}

// incident returns an incident and its records held, oldest first.
func (s *store) incident(id string) (Incident, []Item, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	es, ok := s.incidents[id]
	if !ok {
		return Incident{}, nil, false
	}
	items := make([]Item, len(es))
	for i, e := range es {
		items[i] = e.Item
	}
	return summarizeIncident(es), items, true
}

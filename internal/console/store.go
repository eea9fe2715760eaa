package console

import (
	"encoding/json"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/driftlock/driftlock/internal/anomaly"
)

// Item is an anomaly as the API returns it: the record plus the sequence
// number the console gave it (the SSE event id and the paging cursor).
type Item struct {
	Sequence uint64 `json:"sequence"`
	anomaly.Anomaly
}

// entry is one stored anomaly.
type entry struct {
	Item
	from time.Time // window start (at when unparseable)
	at   time.Time // window end (detected_at when unparseable)
	data []byte    // Item as JSON, shared by every SSE client
}

// StreamSummary is the latest judgement of one stream.
type StreamSummary struct {
	Key       string `json:"key"`
	Service   string `json:"service"`
	Signal    string `json:"signal"`
	Metric    string `json:"metric,omitempty"`
	Anomalies int64  `json:"anomaly_count"`
	// Retained is how many of its anomalies are still in memory.
	Retained      int            `json:"retained"`
	LatestID      string         `json:"latest_anomaly_id"`
	LatestAt      time.Time      `json:"latest_anomaly_at"`
	LatestScores  anomaly.Scores `json:"latest_scores"`
	Threshold     float64        `json:"threshold"`
	LatestSummary string         `json:"latest_explanation"`
}

// errTooManyClients is returned by subscribe when the client cap is reached.
var errTooManyClients = errors.New("too many live-stream clients")

// store keeps the newest anomalies in a ring, ordered by sequence, plus a
// bounded summary per stream, and fans new anomalies out to subscribers.
// Incidents are the held anomalies grouped by incident id, so they are
// bounded by the ring too.
// Sequences are contiguous: the ring holds [oldest, next). They start at
// the console's start time in microseconds, so they keep growing across
// restarts and a live-stream client resuming from an earlier run gets the
// new run's whole view instead of a wrong slice of it.
type store struct {
	mu         sync.RWMutex
	ring       []*entry
	head, n    int
	next       uint64 // sequence of the next anomaly
	byID       map[string]*entry
	incidents  map[string][]*entry // held anomalies of each incident, oldest first
	streams    map[string]*StreamSummary
	maxStreams int
	subs       map[*subscriber]struct{}
	maxSubs    int
	subBuf     int
	m          *metrics
}

// newStore returns an empty store whose first anomaly gets sequence base+1.
func newStore(base uint64, maxAnomalies, maxSubs, subBuf int, m *metrics) *store {
	return &store{
		ring:       make([]*entry, maxAnomalies),
		next:       base + 1,
		byID:       make(map[string]*entry, maxAnomalies),
		incidents:  make(map[string][]*entry),
		streams:    make(map[string]*StreamSummary),
		maxStreams: max(maxAnomalies, 100),
		subs:       make(map[*subscriber]struct{}),
		maxSubs:    maxSubs,
		subBuf:     subBuf,
		m:          m,
	}
}

// add stores a unless its id is already held, and reports whether it was
// new. A record without kind or incident is a window record and its own
// incident, as anomaly.Decode reads it.
func (s *store) add(a anomaly.Anomaly) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[a.ID]; ok {
		return false
	}
	if a.Kind == "" {
		a.Kind = anomaly.KindWindow
	}
	if a.Incident == "" {
		a.Incident = a.ID
	}
	e := &entry{Item: Item{Sequence: s.next, Anomaly: a}, at: anomalyTime(a)}
	e.from = e.at
	if t, err := time.Parse(time.RFC3339Nano, a.Window.Start); err == nil {
		e.from = t.UTC()
	}
	e.data, _ = json.Marshal(e.Item) // cannot fail: plain strings and numbers
	s.next++
	if s.n == len(s.ring) {
		s.evictOldest()
	}
	s.ring[(s.head+s.n)%len(s.ring)] = e
	s.n++
	s.byID[a.ID] = e
	s.incidents[a.Incident] = append(s.incidents[a.Incident], e)
	s.summarize(e)
	s.m.received.Inc()
	s.m.retained.Set(float64(s.n))
	s.m.incidents.Set(float64(len(s.incidents)))
	s.broadcast(e)
	return true
}

// tally counts an anomaly of the history that is too old to be held: it
// only updates its stream's summary.
func (s *store) tally(a anomaly.Anomaly) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.summarize(&entry{Item: Item{Anomaly: a}, at: anomalyTime(a)})
	s.streams[a.Stream.Key].Retained--
	s.m.evicted.Inc()
}

func (s *store) evictOldest() {
	old := s.ring[s.head]
	s.ring[s.head] = nil
	s.head = (s.head + 1) % len(s.ring)
	s.n--
	delete(s.byID, old.ID)
	s.forgetInIncident(old)
	if sum, ok := s.streams[old.Stream.Key]; ok {
		sum.Retained--
	}
	s.m.evicted.Inc()
}

func (s *store) summarize(e *entry) {
	sum, ok := s.streams[e.Stream.Key]
	if !ok {
		if len(s.streams) >= s.maxStreams {
			s.evictIdlestStream()
		}
		sum = &StreamSummary{Key: e.Stream.Key, Service: e.Stream.Service, Signal: e.Stream.Signal, Metric: e.Stream.Metric}
		s.streams[e.Stream.Key] = sum
	}
	sum.Anomalies++
	sum.Retained++
	if sum.LatestID == "" || !e.at.Before(sum.LatestAt) {
		sum.LatestID, sum.LatestAt, sum.LatestScores = e.ID, e.at, e.Scores
		sum.Threshold, sum.LatestSummary = e.Threshold, e.Explanation
	}
}

// evictIdlestStream forgets the stream whose latest anomaly is oldest,
// preferring streams with no anomaly left in the ring.
func (s *store) evictIdlestStream() {
	idler := func(a, b *StreamSummary) bool {
		if (a.Retained == 0) != (b.Retained == 0) {
			return a.Retained == 0
		}
		return a.LatestAt.Before(b.LatestAt)
	}
	var victim *StreamSummary
	for _, sum := range s.streams {
		if victim == nil || idler(sum, victim) {
			victim = sum
		}
	}
	delete(s.streams, victim.Key)
	s.m.streamsEvicted.Inc()
}

// get returns the anomaly with id.
func (s *store) get(id string) (Item, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.byID[id]
	if !ok {
		return Item{}, false
	}
	return e.Item, true
}

// at returns the i-th entry from the oldest; callers hold the lock.
func (s *store) at(i int) *entry { return s.ring[(s.head+i)%len(s.ring)] }

// latest is the sequence of the newest anomaly, the base when none.
func (s *store) latest() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.next - 1
}

// counts returns the anomalies held, the newest sequence, the streams and
// the incidents held.
func (s *store) counts() (retained int, latest uint64, streams, incidents int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.n, s.next - 1, len(s.streams), len(s.incidents)
}

// streamList returns the stream summaries, most recent anomaly first.
func (s *store) streamList(f filter) []StreamSummary {
	s.mu.RLock()
	out := make([]StreamSummary, 0, len(s.streams))
	for _, sum := range s.streams {
		if f.matchStream(sum) {
			out = append(out, *sum)
		}
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].LatestAt.Equal(out[j].LatestAt) {
			return out[i].LatestAt.After(out[j].LatestAt)
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// stream returns the summary of one stream.
func (s *store) stream(key string) (StreamSummary, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sum, ok := s.streams[key]
	if !ok {
		return StreamSummary{}, false
	}
	return *sum, true
}

// anomalyTime is when an anomaly happened: its window end, else its
// detection time, else the zero time.
func anomalyTime(a anomaly.Anomaly) time.Time {
	for _, v := range []string{a.Window.End, a.DetectedAt} {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

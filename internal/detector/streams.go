package detector

import (
	"container/list"
	"fmt"

	"github.com/driftlock/driftlock/internal/cbad"
	"github.com/driftlock/driftlock/internal/event"
)

// scorer is the part of *cbad.Stream the detector uses.
type scorer interface {
	Push(ev event.Decoded, offset int64) (cbad.Result, error)
	SizeBytes() int
	// AppendSnapshot appends the encoding of the scorer's state (see
	// cbad.Stream.AppendSnapshot).
	AppendSnapshot(dst []byte) []byte
}

// scorerFactory builds the scorer of one stream.
type scorerFactory func(key string, cfg cbad.Config) (scorer, error)

func newCBADScorer(key string, cfg cbad.Config) (scorer, error) {
	return cbad.NewStream(key, cfg)
}

// stream is the window state of one stream.
type stream struct {
	id     streamID
	scorer scorer
}

// streamTable holds the streams of one partition, at most max of them. When a
// new stream would exceed max, the stream least recently seen (by offset,
// since one goroutine feeds the table in offset order) is evicted and starts
// afresh if it comes back. The rule depends only on the partition's record
// sequence, so eviction gives the same results on any replica.
type streamTable struct {
	max       int
	cfg       cbad.Config
	newScorer scorerFactory
	byKey     map[string]*list.Element
	order     *list.List // of *stream, most recently seen first
}

func newStreamTable(max int, cfg cbad.Config, f scorerFactory) *streamTable {
	return &streamTable{max: max, cfg: cfg, newScorer: f, byKey: make(map[string]*list.Element), order: list.New()}
}

// get returns the stream of id, creating it when needed; evicted reports
// whether another stream was dropped to make room.
func (t *streamTable) get(id streamID) (st *stream, evicted bool, err error) {
	if el, ok := t.byKey[id.key]; ok {
		t.order.MoveToFront(el)
		return el.Value.(*stream), false, nil
	}
	sc, err := t.newScorer(id.key, t.cfg)
	if err != nil {
		return nil, false, fmt.Errorf("new stream %s: %w", id.key, err)
	}
	if t.order.Len() >= t.max {
		oldest := t.order.Back()
		t.order.Remove(oldest)
		delete(t.byKey, oldest.Value.(*stream).id.key)
		evicted = true
	}
	st = &stream{id: id, scorer: sc}
	t.byKey[id.key] = t.order.PushFront(st)
	return st, evicted, nil
}

// len is the number of streams held.
func (t *streamTable) len() int { return t.order.Len() }

// sizeBytes sums the streams' approximate state sizes.
func (t *streamTable) sizeBytes() int {
	n := 0
	for el := t.order.Front(); el != nil; el = el.Next() {
		n += el.Value.(*stream).scorer.SizeBytes()
	}
	return n
}

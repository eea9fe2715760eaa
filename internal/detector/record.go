package detector

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"time"

	"github.com/driftlock/driftlock/internal/anomaly"
	"github.com/driftlock/driftlock/internal/cbad"
	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/event"
)

// ConfigHash identifies the settings that decide which anomalies are found:
// every scoring setting, plus max_streams because evicting a stream restarts
// its windows. It is the first 16 hex digits of a SHA-256.
func ConfigHash(d config.Detector) string {
	s := fmt.Sprintf("%+v\nmax_streams=%d\ndeterminism=%t\n", d.Scoring(), d.MaxStreams, d.Determinism)
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// AnomalyID is the id of the detection of the window [first, last] of a
// stream on a partition under the settings configHash: the first 32 hex
// digits of a SHA-256 over them, so every replay yields the same id. Event
// records (kind "event") also hash their kind; window records do not.
func AnomalyID(kind, streamKey string, partition int, first, last int64, configHash string) string {
	h := sha256.New()
	if kind != anomaly.KindWindow {
		h.Write([]byte(kind))
		h.Write([]byte{0})
	}
	return idOf(h, streamKey, partition, first, last, configHash)
}

// IncidentID is the id of the incident of a stream on a partition whose
// first event is at offset start, under the settings configHash.
func IncidentID(streamKey string, partition int, start int64, configHash string) string {
	h := sha256.New()
	h.Write([]byte("incident"))
	h.Write([]byte{0})
	return idOf(h, streamKey, partition, start, start, configHash)
}

func idOf(h hash.Hash, streamKey string, partition int, first, last int64, configHash string) string {
	var buf [8]byte
	h.Write([]byte(streamKey))
	h.Write([]byte{0})
	binary.BigEndian.PutUint64(buf[:], uint64(int64(partition)))
	h.Write(buf[:])
	binary.BigEndian.PutUint64(buf[:], uint64(first))
	h.Write(buf[:])
	binary.BigEndian.PutUint64(buf[:], uint64(last))
	h.Write(buf[:])
	h.Write([]byte(configHash))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// streamID is a stream's key and its parts.
type streamID struct {
	key     string
	service string
	signal  event.Type
	metric  string
}

// recordBuilder turns the scoring core's decisions into anomaly-events
// records.
type recordBuilder struct {
	version, configHash string
	// threshold and eventThreshold are what a window's confidence and an
	// event's score had to reach.
	threshold, eventThreshold float64
	seed                      int64
	clock                     func() time.Time
}

func newRecordBuilder(d config.Detector, version string, clock func() time.Time) recordBuilder {
	return recordBuilder{
		version: version, configHash: ConfigHash(d), threshold: d.Threshold,
		eventThreshold: d.EventThreshold, seed: d.Seed, clock: clock,
	}
}

// base fills what every record of stream id carries.
func (b recordBuilder) base(kind string, id streamID, partition int, incident int64, explanation string, evidence []cbad.Evidence) anomaly.Anomaly {
	a := anomaly.Anomaly{
		Kind:        kind,
		Incident:    IncidentID(id.key, partition, incident, b.configHash),
		Stream:      anomaly.Stream{Key: id.key, Service: id.service, Signal: string(id.signal), Metric: id.metric},
		Threshold:   b.threshold,
		Explanation: explanation,
		Evidence:    make([]anomaly.Evidence, 0, len(evidence)),
		Detector:    anomaly.Detector{Version: b.version, ConfigHash: b.configHash, Seed: b.seed},
		DetectedAt:  formatTime(b.clock()),
	}
	for _, e := range evidence {
		a.Evidence = append(a.Evidence, anomaly.Evidence{
			Offset: e.Offset, Timestamp: formatTime(e.Timestamp), Summary: e.Summary, Score: e.Score,
		})
	}
	return a
}

// window turns an anomalous judgement into a window record.
func (b recordBuilder) window(id streamID, partition int, j *cbad.Judgement) anomaly.Anomaly {
	a := b.base(anomaly.KindWindow, id, partition, j.Incident, j.Explanation, j.Evidence)
	a.ID = AnomalyID(anomaly.KindWindow, id.key, partition, j.FirstOffset, j.LastOffset, b.configHash)
	a.Window = anomaly.Window{
		Start: formatTime(j.Start), End: formatTime(j.End), Events: j.Events,
		Partition: partition, FirstOffset: j.FirstOffset, LastOffset: j.LastOffset,
	}
	a.Scores = anomaly.Scores{
		NCD:             j.Scores.NCD,
		PValue:          j.Scores.PValue,
		Confidence:      j.Scores.Confidence,
		BaselineRatio:   j.Scores.BaselineRatio,
		WindowRatio:     j.Scores.WindowRatio,
		BaselineEntropy: j.Scores.BaselineEntropy,
		WindowEntropy:   j.Scores.WindowEntropy,
	}
	return a
}

// event turns an event anomaly, decided while processing the record at
// offset, into an event record. Its window ends at that record, so that a
// new owner of the partition finds it among the records published after
// its committed offset (see publishedAfter).
func (b recordBuilder) event(id streamID, partition int, offset int64, ea *cbad.EventAnomaly) anomaly.Anomaly {
	a := b.base(anomaly.KindEvent, id, partition, ea.Incident, ea.Explanation, ea.Evidence)
	a.Threshold = b.eventThreshold
	a.ID = AnomalyID(anomaly.KindEvent, id.key, partition, ea.FirstOffset, offset, b.configHash)
	a.Window = anomaly.Window{
		Start: formatTime(ea.Start), End: formatTime(ea.End), Events: ea.Events,
		Partition: partition, FirstOffset: ea.FirstOffset, LastOffset: offset,
	}
	a.Scores = anomaly.Scores{Confidence: ea.Confidence, Event: ea.Score}
	for _, p := range ea.Series {
		a.Series = append(a.Series, anomaly.Point{Offset: p.Offset, Timestamp: formatTime(p.Timestamp), Value: p.Value, Anomalous: p.Anomalous})
	}
	return a
}

// formatTime formats t as RFC 3339 with milliseconds in UTC.
func formatTime(t time.Time) string { return event.FormatTimestamp(t) }

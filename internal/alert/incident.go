package alert

import (
	"time"

	"github.com/driftlock/driftlock/internal/anomaly"
)

// Notice is one anomaly on its way to the targets, with what its incident's
// alert says once it is delivered.
type Notice struct {
	Anomaly anomaly.Anomaly
	// Incident is the anomaly's incident (its id when the record has none).
	Incident string
	// Update is false for the first record of the incident, true for a
	// later one, which updates the alert the first raised.
	Update bool
	// Records counts the incident's records so far, this one included.
	Records int
	// MaxConfidence is the highest confidence of those records.
	MaxConfidence float64
	// Severity is the alert's severity label: that of MaxConfidence. It
	// only rises, so an incident keeps one label set until it escalates.
	Severity string
	// Escalated is the severity label the incident's alert had before this
	// record raised it; that alert is resolved. Empty when unchanged.
	Escalated string
	// StartsAt is when the incident began: the first record's window end
	// (RFC 3339), or its detection time.
	StartsAt string
	// At is when the notice was made; EndsAt is when the alert resolves
	// unless a later record of the incident extends it.
	At, EndsAt time.Time
}

// incidentState is what the forwarder remembers of one incident.
type incidentState struct {
	records       int
	maxConfidence float64
	startsAt      string
}

// note records a as the incident's latest record and returns its notice;
// callers hold f.mu.
func (f *Forwarder) note(a anomaly.Anomaly) Notice {
	id := a.Incident
	if id == "" {
		id = a.ID
	}
	st, update := f.incidents.get(id)
	before := Severity(st.maxConfidence)
	if !update {
		st.startsAt = startsAt(a)
	}
	st.records++
	st.maxConfidence = max(st.maxConfidence, a.Scores.Confidence)
	f.incidents.put(id, st)
	now := f.cfg.Now().UTC()
	n := Notice{Anomaly: a, Incident: id, Update: update, Records: st.records, MaxConfidence: st.maxConfidence,
		Severity: Severity(st.maxConfidence), StartsAt: st.startsAt, At: now, EndsAt: now.Add(f.cfg.ResolveAfter)}
	if update && n.Severity != before {
		n.Escalated = before
	}
	return n
}

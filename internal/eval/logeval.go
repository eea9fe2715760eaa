package eval

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	"github.com/driftlock/driftlock/internal/anomaly"
	"github.com/driftlock/driftlock/internal/eval/loghub"
	"github.com/driftlock/driftlock/internal/event"
)

// LogReport is the outcome of a BGL, Thunderbird or other loghub log
// evaluation.
type LogReport struct {
	// Service is the service name the lines were sent as (from the file name).
	Service string
	Lines   int
	// Passes is how many times the file was streamed, one pass after the
	// other; the figures are of the last pass.
	Passes int
	// Anomalous is the number of labelled lines.
	Anomalous int
	// Flagged is the number of lines named as evidence by an anomaly record.
	Flagged int
	Line    loghub.PRF
	Run     loghub.RunStats
	// Counts tallies the records of the last pass; Earlier those of the
	// passes before it.
	Counts, Earlier Counts
	// InRun is how many records of the last pass point into a labelled run
	// (their first evidence line is anomalous).
	InRun int
	// Pred and Truth are the per-line predictions and labels.
	Pred, Truth []bool
	// Parsed are the lines, for reporting misses and false alarms.
	Parsed []loghub.Line
}

// EvalLog streams a loghub log through the detector as one stream,
// passes times in a row (later passes shifted in time past the earlier
// ones), and compares the lines the last pass's records name as evidence
// with the labels.
func EvalLog(ctx context.Context, path string, passes int, setup Setup, progress func(done, total int)) (LogReport, error) {
	parsed, err := loghub.ReadLog(path)
	if err != nil {
		return LogReport{}, err
	}
	r := LogReport{Service: serviceOf(path), Lines: len(parsed), Parsed: parsed, Passes: max(passes, 1)}
	st, err := setup.open(event.StreamKey(r.Service, event.TypeLog, ""))
	if err != nil {
		return LogReport{}, err
	}
	var span time.Duration
	if n := len(parsed); n > 0 {
		span = parsed[n-1].Time.Sub(parsed[0].Time) + time.Second
	}
	total := r.Passes * len(parsed)
	var last []anomaly.Anomaly
	for p := range r.Passes {
		last = last[:0]
		for i, l := range parsed {
			if err := ctx.Err(); err != nil {
				return LogReport{}, err
			}
			l.Time = l.Time.Add(time.Duration(p) * span)
			ev, err := loghub.LineEvent(r.Service, l)
			if err != nil {
				return LogReport{}, err
			}
			_, records, err := st.push(ev)
			if err != nil {
				return LogReport{}, err
			}
			last = append(last, records...)
			if done := p*len(parsed) + i + 1; progress != nil && (done%100 == 0 || done == total) {
				progress(done, total)
			}
		}
	}
	r.Counts = countRecords(last)
	r.Earlier = countRecords(st.records[:len(st.records)-len(last)])
	r.finish(last, int64((r.Passes-1)*len(parsed)))
	return r, nil
}

// finish scores the last pass's records, whose offsets start at base.
func (r *LogReport) finish(records []anomaly.Anomaly, base int64) {
	r.Pred, r.Truth = make([]bool, len(r.Parsed)), make([]bool, len(r.Parsed))
	for i, l := range r.Parsed {
		r.Truth[i] = l.Anomalous()
	}
	at := func(off int64) (int, bool) {
		i := off - base
		return int(i), i >= 0 && i < int64(len(r.Pred))
	}
	for _, a := range records {
		for k, e := range a.Evidence {
			i, ok := at(e.Offset)
			if !ok {
				continue
			}
			r.Pred[i] = true
			if k == 0 && r.Truth[i] {
				r.InRun++
			}
		}
	}
	r.Line = loghub.Binary(r.Pred, r.Truth)
	r.Run = loghub.Runs(r.Pred, r.Truth)
	r.Anomalous = r.Line.TP + r.Line.FN
	r.Flagged = r.Line.TP + r.Line.FP
}

// serviceOf names the service after the file: BGL_2k.log is "bgl".
func serviceOf(path string) string {
	base := strings.ToLower(filepath.Base(path))
	if i := strings.IndexAny(base, "_."); i > 0 {
		base = base[:i]
	}
	return base
}

// Per1000 is count per 1,000 lines.
func (r LogReport) Per1000(count int) float64 {
	if r.Lines == 0 {
		return 0
	}
	return 1000 * float64(count) / float64(r.Lines)
}

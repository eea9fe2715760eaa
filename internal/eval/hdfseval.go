package eval

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/driftlock/driftlock/internal/cbad"
	"github.com/driftlock/driftlock/internal/eval/loghub"
	"github.com/driftlock/driftlock/internal/event"
)

// HDFSService is the service name HDFS sessions are sent as.
const HDFSService = "hdfs"

// hdfsEpoch is the made-up time of the first HDFS record; the sessions carry
// no timestamps, so records are one millisecond apart from it.
var hdfsEpoch = time.Date(2008, 11, 9, 20, 0, 0, 0, time.UTC)

// HDFSReport is the outcome of an HDFS evaluation.
type HDFSReport struct {
	Train, Test, TestAnomalous int
	Metrics                    loghub.PRF
	// Ceiling is the best any detector of template sequences could score
	// on the test sessions (loghub.SequenceCeiling).
	Ceiling loghub.PRF
	// Pred are the test sessions' predictions, in order.
	Pred []bool
}

// EvalHDFS builds the stream's baseline from the train sessions (their
// labels unread), then streams the test sessions and flags each by the
// HDFS rule; predictions are compared with the test labels.
func EvalHDFS(ctx context.Context, train, test []loghub.Session, setup HDFSSetup, progress func(done, total int)) (HDFSReport, error) {
	st, err := cbad.NewStream(event.StreamKey(HDFSService, event.TypeLog, ""), setup.Core)
	if err != nil {
		return HDFSReport{}, err
	}
	r := HDFSReport{Train: len(train), Test: len(test), Pred: make([]bool, len(test))}
	var offset int64
	total := len(train) + len(test)
	for i, s := range append(train[:len(train):len(train)], test...) {
		if err := ctx.Err(); err != nil {
			return HDFSReport{}, err
		}
		hits := 0
		for _, body := range setup.records(s) {
			ev, err := loghub.LogEvent(HDFSService, hdfsEpoch.Add(time.Duration(offset)*time.Millisecond), "", body, nil)
			if err != nil {
				return HDFSReport{}, err
			}
			res, err := st.Push(ev, offset)
			if err != nil {
				return HDFSReport{}, fmt.Errorf("session %s: %w", s.BlockID, err)
			}
			offset++
			if res.Score >= setup.Threshold {
				hits++
			}
		}
		if i >= len(train) {
			r.Pred[i-len(train)] = hits >= setup.MinEvents
		}
		if progress != nil && ((i+1)%200 == 0 || i+1 == total) {
			progress(i+1, total)
		}
	}
	r.score(test)
	return r, nil
}

// records returns the bodies of the log records a session is sent as.
func (s HDFSSetup) records(sess loghub.Session) []string {
	if !s.Sessions {
		return sess.Templates
	}
	distinct := slices.Clone(sess.Templates)
	slices.Sort(distinct)
	return []string{strings.Join(slices.Compact(distinct), "\n")}
}

func (r *HDFSReport) score(test []loghub.Session) {
	truth := make([]bool, len(test))
	for i, s := range test {
		truth[i] = s.Anomalous()
		if truth[i] {
			r.TestAnomalous++
		}
	}
	r.Metrics = loghub.Binary(r.Pred, truth)
	r.Ceiling = loghub.SequenceCeiling(test)
}

package eval

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

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
	// Counts tallies the records raised on the test sessions.
	Counts Counts
	// Pred are the test sessions' predictions, in order.
	Pred []bool
}

// EvalHDFS streams the train sessions (their labels unread), then the test
// sessions, through the detector as the stream hdfs|log, each session one
// log record whose body lists its distinct templates, sorted (a block
// summary). A test session is flagged when an anomaly record names it as
// evidence.
func EvalHDFS(ctx context.Context, train, test []loghub.Session, setup Setup, progress func(done, total int)) (HDFSReport, error) {
	st, err := setup.open(event.StreamKey(HDFSService, event.TypeLog, ""))
	if err != nil {
		return HDFSReport{}, err
	}
	r := HDFSReport{Train: len(train), Test: len(test), Pred: make([]bool, len(test))}
	total := len(train) + len(test)
	fromTest := 0
	for i, s := range append(train[:len(train):len(train)], test...) {
		if err := ctx.Err(); err != nil {
			return HDFSReport{}, err
		}
		if i == len(train) {
			fromTest = len(st.records)
		}
		ev, err := loghub.LogEvent(HDFSService, hdfsEpoch.Add(time.Duration(i)*time.Millisecond), "", sessionBody(s), nil)
		if err != nil {
			return HDFSReport{}, err
		}
		if _, _, err := st.push(ev); err != nil {
			return HDFSReport{}, fmt.Errorf("session %s: %w", s.BlockID, err)
		}
		if progress != nil && ((i+1)%200 == 0 || i+1 == total) {
			progress(i+1, total)
		}
	}
	for _, a := range st.records {
		for _, e := range a.Evidence {
			if k := e.Offset - int64(len(train)); k >= 0 && k < int64(len(test)) {
				r.Pred[k] = true
			}
		}
	}
	r.Counts = countRecords(st.records[fromTest:])
	r.score(test)
	return r, nil
}

// sessionBody is the body of the log record a session is sent as: its
// distinct templates, sorted, one per line.
func sessionBody(sess loghub.Session) string {
	distinct := slices.Clone(sess.Templates)
	slices.Sort(distinct)
	return strings.Join(slices.Compact(distinct), "\n")
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

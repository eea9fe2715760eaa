package eval

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/driftlock/driftlock/internal/cbad"
	"github.com/driftlock/driftlock/internal/eval/loghub"
	"github.com/driftlock/driftlock/internal/event"
)

// LogReport is the outcome of a BGL or Thunderbird evaluation.
type LogReport struct {
	// Service is the service name the lines were sent as (from the file name).
	Service string
	Lines   int
	// Anomalous is the number of labelled lines.
	Anomalous int
	Flagged   int
	Line      loghub.PRF
	Run       loghub.RunStats
	// Pred and Truth are the per-line predictions and labels.
	Pred, Truth []bool
	// Parsed are the lines, for reporting misses and false alarms.
	Parsed []loghub.Line
}

// EvalLog runs the core over a loghub BGL or Thunderbird log, one stream for
// the whole file, and compares flagged lines with the labels.
func EvalLog(ctx context.Context, path string, setup LogSetup, progress func(done, total int)) (LogReport, error) {
	parsed, err := readLines(path)
	if err != nil {
		return LogReport{}, err
	}
	r := LogReport{Service: serviceOf(path), Lines: len(parsed), Parsed: parsed}
	st, err := cbad.NewStream(event.StreamKey(r.Service, event.TypeLog, ""), setup.Core)
	if err != nil {
		return LogReport{}, err
	}
	r.Pred, r.Truth = make([]bool, len(parsed)), make([]bool, len(parsed))
	for i, l := range parsed {
		if err := ctx.Err(); err != nil {
			return LogReport{}, err
		}
		ev, err := loghub.LineEvent(r.Service, l)
		if err != nil {
			return LogReport{}, err
		}
		res, err := st.Push(ev, int64(i))
		if err != nil {
			return LogReport{}, err
		}
		r.Truth[i] = l.Anomalous()
		setup.flag(r.Pred, i, loghub.SeverityNumber(l.Level), res)
		if progress != nil && ((i+1)%100 == 0 || i+1 == len(parsed)) {
			progress(i+1, len(parsed))
		}
	}
	r.finish()
	return r, nil
}

// flag applies the line rule to the result of pushing line i, of the
// given severity number.
func (s LogSetup) flag(pred []bool, i int, severity int32, res cbad.Result) {
	if res.Score >= s.Threshold && (severity == 0 || severity >= s.MinSeverity) {
		pred[i] = true
	}
	if !s.Evidence || res.Judgement == nil || !res.Judgement.Anomalous {
		return
	}
	for _, ev := range res.Judgement.Evidence {
		if ev.Offset >= 0 && ev.Offset < int64(len(pred)) {
			pred[ev.Offset] = true
		}
	}
}

func (r *LogReport) finish() {
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

func readLines(path string) ([]loghub.Line, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	defer f.Close()
	var out []loghub.Line
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		l, err := loghub.ParseLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, n, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

// Per1000 is count per 1,000 lines.
func (r LogReport) Per1000(count int) float64 {
	if r.Lines == 0 {
		return 0
	}
	return 1000 * float64(count) / float64(r.Lines)
}

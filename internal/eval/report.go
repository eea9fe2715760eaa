package eval

import (
	"context"
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/driftlock/driftlock/internal/eval/loghub"
)

// RunHDFSFiles reads the session files and runs EvalHDFS. Without a test
// file, the train file is split by line order: the first split fraction
// builds the baseline, the rest is scored.
func RunHDFSFiles(ctx context.Context, trainPath, testPath string, split float64, setup Setup, progress func(done, total int)) (HDFSReport, error) {
	if trainPath == "" {
		return HDFSReport{}, fmt.Errorf("eval hdfs: --train is required")
	}
	train, err := loghub.ReadSessions(trainPath)
	if err != nil {
		return HDFSReport{}, err
	}
	var test []loghub.Session
	switch {
	case testPath != "":
		if test, err = loghub.ReadSessions(testPath); err != nil {
			return HDFSReport{}, err
		}
	case split > 0 && split < 1:
		train, test = loghub.Split(train, split)
	default:
		return HDFSReport{}, fmt.Errorf("eval hdfs: --test is required (or --split between 0 and 1)")
	}
	return EvalHDFS(ctx, train, test, setup, progress)
}

// round3 rounds a defined ratio to 0.001; an undefined one stays nil.
func round3(r loghub.Ratio) loghub.Ratio {
	if r == nil {
		return nil
	}
	v := math.Round(*r*1000) / 1000
	return &v
}

func show(r loghub.Ratio) string {
	if r == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", *r)
}

// JSON returns precision, recall and F1 (null when undefined), and the F1
// ceiling of any detector of template sequences on the same sessions.
func (r HDFSReport) JSON() *Fields {
	m := r.Metrics
	return (&Fields{}).Add("precision", round3(m.Precision)).Add("recall", round3(m.Recall)).Add("f1", round3(m.F1)).
		Add("ceiling_f1", round3(r.Ceiling.F1)).Add("records", r.Counts.Records)
}

// WriteText writes the HDFS figures.
func (r HDFSReport) WriteText(w io.Writer) error {
	m := r.Metrics
	fmt.Fprintf(w, "HDFS: baseline from %d sessions, %d test sessions (%d anomalous)\n\n", r.Train, r.Test, r.TestAnomalous)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "precision\trecall\tF1\tTP\tFP\tFN\tTN\t")
	fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t\n", show(m.Precision), show(m.Recall), show(m.F1), m.TP, m.FP, m.FN, m.TN)
	if err := tw.Flush(); err != nil {
		return err
	}
	c := r.Ceiling
	_, err := fmt.Fprintf(w, "\nceiling: sessions with identical template sequences get one verdict from any detector of\n"+
		"sequences; knowing the labels, the best choice of such groups scores precision %s, recall %s, F1 %s\n",
		show(c.Precision), show(c.Recall), show(c.F1))
	return err
}

// JSON returns the line-level figures (precision, recall, f1), the run-level
// ones (run_*), and the rates per 1,000 lines.
func (r LogReport) JSON() *Fields {
	return (&Fields{}).
		Add("precision", round3(r.Line.Precision)).
		Add("recall", round3(r.Line.Recall)).
		Add("f1", round3(r.Line.F1)).
		Add("run_precision", round3(r.Run.Precision)).
		Add("run_recall", round3(r.Run.Recall)).
		Add("run_f1", round3(r.Run.F1)).
		Add("anomalies_per_1000_lines", math.Round(r.Per1000(r.Flagged)*10)/10).
		Add("false_alarms_per_1000_lines", math.Round(r.Per1000(r.Line.FP)*10)/10).
		Add("lines", r.Lines).
		Add("anomalous_lines", r.Anomalous).
		Add("flagged_lines", r.Flagged).
		Add("runs", r.Run.Runs).
		Add("runs_detected", r.Run.Detected).
		Add("false_alarm_runs", r.Run.FalseAlarms).
		Add("records", r.Counts.Records).
		Add("event_records", r.Counts.Event).
		Add("window_records", r.Counts.Window).
		Add("incidents", r.Counts.Incidents).
		Add("records_in_run", r.InRun).
		Add("records_earlier_passes", r.Earlier.Records)
}

// WriteText writes the line- and run-level tables and the first misses and
// false alarms.
func (r LogReport) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%s: %d lines, %d labelled anomalous in %d runs; %d flagged (%.1f per 1,000 lines, %.1f false alarms per 1,000 lines)\n",
		r.Service, r.Lines, r.Anomalous, r.Run.Runs, r.Flagged, r.Per1000(r.Flagged), r.Per1000(r.Line.FP))
	if r.Passes > 1 {
		fmt.Fprintf(w, "streamed %d times in a row; figures of the last pass (the earlier passes raised %d records)\n", r.Passes, r.Earlier.Records)
	}
	fmt.Fprintf(w, "anomaly records: %d (%d event, %d window) in %d incidents; %d point into a labelled run\n\n",
		r.Counts.Records, r.Counts.Event, r.Counts.Window, r.Counts.Incidents, r.InRun)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "level\tprecision\trecall\tF1\thits\tfalse alarms\tmisses\t")
	fmt.Fprintf(tw, "line\t%s\t%s\t%s\t%d\t%d\t%d\t\n", show(r.Line.Precision), show(r.Line.Recall), show(r.Line.F1), r.Line.TP, r.Line.FP, r.Line.FN)
	fmt.Fprintf(tw, "run\t%s\t%s\t%s\t%d\t%d\t%d\t\n", show(r.Run.Precision), show(r.Run.Recall), show(r.Run.F1), r.Run.Detected, r.Run.FalseAlarms, r.Run.Runs-r.Run.Detected)
	if err := tw.Flush(); err != nil {
		return err
	}
	r.writeExamples(w, "false alarms (first 10)", func(i int) bool { return r.Pred[i] && !r.Truth[i] })
	r.writeExamples(w, "missed anomalous lines (first 10)", func(i int) bool { return !r.Pred[i] && r.Truth[i] })
	return nil
}

func (r LogReport) writeExamples(w io.Writer, title string, pick func(i int) bool) {
	shown := 0
	for i := range r.Parsed {
		if !pick(i) {
			continue
		}
		if shown == 0 {
			fmt.Fprintf(w, "\n%s:\n", title)
		}
		l := r.Parsed[i]
		fmt.Fprintf(w, "  line %d [%s] %s %s %s\n", i+1, l.Label, l.Level, l.Component, truncate(l.Content, 90))
		if shown++; shown == 10 {
			return
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

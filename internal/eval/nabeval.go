package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"text/tabwriter"

	"github.com/driftlock/driftlock/internal/cbad"
	"github.com/driftlock/driftlock/internal/eval/nab"
)

// NABOptions says what to score on NAB.
type NABOptions struct {
	// Data is NAB's data folder; the core runs over every CSV under it.
	Data string
	// Results, when set, is a published detector's results folder to score
	// instead of running the core.
	Results string
	// Windows is labels/combined_windows.json.
	Windows string
	// Profiles is config/profiles.json; empty means NAB's three profiles.
	Profiles string
	// Thresholds is config/thresholds.json, used with Results: a known
	// detector is scored at its published thresholds, others are swept.
	Thresholds string
	Setup      NABSetup
	// Workers is how many files run at once (default GOMAXPROCS).
	Workers int
	// Progress is called after each file run.
	Progress func(done, total int)
}

// NABReport is the outcome of a NAB evaluation.
type NABReport struct {
	Detector string
	Files    int
	Windows  int
	Results  []nab.Result
	// Series are the per-row anomaly scores that were scored.
	Series []nab.Series
}

// EvalNAB runs (or loads) a detector's scores over NAB and scores them.
func EvalNAB(ctx context.Context, o NABOptions) (NABReport, error) {
	labels, err := nab.LoadWindows(o.Windows)
	if err != nil {
		return NABReport{}, err
	}
	profiles := nab.DefaultProfiles()
	if o.Profiles != "" {
		if profiles, err = nab.LoadProfiles(o.Profiles); err != nil {
			return NABReport{}, err
		}
	}
	detector, series, thresholds, err := nabScores(ctx, o)
	if err != nil {
		return NABReport{}, err
	}
	c, err := nab.NewCorpus(series, labels)
	if err != nil {
		return NABReport{}, err
	}
	return NABReport{
		Detector: detector, Files: c.Files(), Windows: c.Windows(),
		Results: c.Score(profiles, thresholds), Series: series,
	}, nil
}

// nabScores returns the detector's name, its per-row scores and, for a known
// published detector, its published thresholds.
func nabScores(ctx context.Context, o NABOptions) (string, []nab.Series, map[string]float64, error) {
	if o.Results == "" {
		series, err := nab.Run(ctx, nab.RunConfig{
			Data:      o.Data,
			NewStream: func(key string) (nab.Stream, error) { return cbad.NewStream(key, o.Setup.Core) },
			NewRule:   o.Setup.rule,
			Workers:   o.Workers,
			Progress:  o.Progress,
		})
		return "driftlock", series, nil, err
	}
	detector, series, err := nab.LoadResults(o.Results)
	if err != nil || o.Thresholds == "" {
		return detector, series, nil, err
	}
	ths, err := nab.LoadThresholds(o.Thresholds)
	if errors.Is(err, fs.ErrNotExist) {
		return detector, series, nil, nil
	}
	return detector, series, ths[detector], err
}

// rule returns a fresh row rule: the event score when its tail is below
// Ratio times every tail of the previous Onset rows, else 0; or, with
// Judgements, the confidence of anomalous window judgements.
func (s NABSetup) rule() nab.RowRule {
	if s.Judgements {
		return func(r cbad.Result) float64 {
			if j := r.Judgement; j != nil && j.Anomalous {
				return j.Scores.Confidence
			}
			return 0
		}
	}
	if s.Onset <= 0 {
		return func(r cbad.Result) float64 { return r.Score }
	}
	m := newSlidingMax(s.Onset)
	return func(r cbad.Result) float64 {
		prev, ok := m.max()
		m.push(r.Score)
		if ok && (r.Score <= prev || 1-r.Score >= s.Ratio*(1-prev)) {
			return 0
		}
		return r.Score
	}
}

// JSON returns the normalised score of each profile, rounded to 0.1.
func (r NABReport) JSON() *Fields {
	out := &Fields{}
	for _, res := range r.Results {
		out.Add(res.Profile.Name, math.Round(res.Normalized*10)/10)
	}
	return out
}

// WriteText writes the summary table, then the per-file table of profile
// (all profiles when profile is "all").
func (r NABReport) WriteText(w io.Writer, profile string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "NAB: detector %s, %d files, %d windows\n\n", r.Detector, r.Files, r.Windows)
	fmt.Fprintln(tw, "profile\tthreshold\tchosen by\traw\tnull\tnormalised\twindows hit\tFP rows\t")
	for _, res := range r.Results {
		how := "published"
		if res.Swept {
			how = "sweep"
		}
		hit, fp := 0, 0
		for _, f := range res.Files {
			hit += f.WindowsHit
			fp += f.FP
		}
		fmt.Fprintf(tw, "%s\t%.6g\t%s\t%.3f\t%.1f\t%.1f\t%d/%d\t%d\t\n",
			res.Profile.Name, res.Threshold, how, res.Raw, res.Null, res.Normalized, hit, r.Windows, fp)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, res := range r.Results {
		if profile == "all" || res.Profile.Name == profile {
			if err := writeFiles(w, res); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeFiles(w io.Writer, res nab.Result) error {
	fmt.Fprintf(w, "\nper file, profile %s, threshold %.6g\n", res.Profile.Name, res.Threshold)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "file\trows\twindows hit\tTP rows\tFP rows\tFN rows\tscore\t")
	for _, f := range res.Files {
		fmt.Fprintf(tw, "%s\t%d\t%d/%d\t%d\t%d\t%d\t%.3f\t\n", f.Path, f.Rows, f.WindowsHit, f.Windows, f.TP, f.FP, f.FN, f.Score)
	}
	return tw.Flush()
}

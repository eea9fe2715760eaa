package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"sync"
	"text/tabwriter"

	"github.com/driftlock/driftlock/internal/anomaly"
	"github.com/driftlock/driftlock/internal/eval/nab"
	"github.com/driftlock/driftlock/internal/event"
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
	Setup      Setup
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
	// Results are the scores of each profile: at the detector's own
	// decisions (every row an anomaly record names is a detection) when the
	// detector was run, then at NAB's swept threshold; only the latter for a
	// results folder without published thresholds.
	Results []nab.Result
	// Own is set when DriftLock was run (not a results folder read);
	// Counts then tallies the records it would have published.
	Own    bool
	Counts Counts
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
	detector, series, thresholds, counts, err := nabScores(ctx, o)
	if err != nil {
		return NABReport{}, err
	}
	c, err := nab.NewCorpus(series, labels)
	if err != nil {
		return NABReport{}, err
	}
	rep := NABReport{Detector: detector, Files: c.Files(), Windows: c.Windows(), Series: series, Counts: counts}
	if o.Results == "" {
		rep.Own = true
		thresholds = map[string]float64{}
		for _, p := range profiles {
			thresholds[p.Name] = math.SmallestNonzeroFloat64
		}
		rep.Results = c.Score(profiles, thresholds)
		thresholds = nil
	}
	rep.Results = append(rep.Results, c.Score(profiles, thresholds)...)
	return rep, nil
}

// nabScores returns the detector's name, its per-row scores and, for a known
// published detector, its published thresholds.
func nabScores(ctx context.Context, o NABOptions) (string, []nab.Series, map[string]float64, Counts, error) {
	if o.Results == "" {
		var mu sync.Mutex
		var all []anomaly.Anomaly
		series, err := nab.Run(ctx, nab.RunConfig{
			Data: o.Data,
			NewStream: func(key string) (nab.Stream, error) {
				st, err := o.Setup.open(key)
				return nabStream{st, &mu, &all}, err
			},
			Workers:  o.Workers,
			Progress: o.Progress,
		})
		return "driftlock", series, nil, countRecords(all), err
	}
	detector, series, err := nab.LoadResults(o.Results)
	if err != nil || o.Thresholds == "" {
		return detector, series, nil, Counts{}, err
	}
	ths, err := nab.LoadThresholds(o.Thresholds)
	if errors.Is(err, fs.ErrNotExist) {
		return detector, series, nil, Counts{}, nil
	}
	return detector, series, ths[detector], Counts{}, err
}

// nabStream feeds one NAB file through the detector and adds its records
// to a shared list.
type nabStream struct {
	st  *stream
	mu  *sync.Mutex
	all *[]anomaly.Anomaly
}

func (n nabStream) Push(ev event.Event, offset int64) ([]anomaly.Anomaly, error) {
	if offset != n.st.next {
		return nil, fmt.Errorf("row offset %d, want %d", offset, n.st.next)
	}
	_, records, err := n.st.push(ev)
	n.mu.Lock()
	*n.all = append(*n.all, records...)
	n.mu.Unlock()
	return records, err
}

// JSON returns the normalised score of each profile, rounded to 0.1.
// The detector's own figures come first under the profiles' names, NAB's
// swept threshold after them as <profile>_swept.
func (r NABReport) JSON() *Fields {
	out := &Fields{}
	for _, res := range r.Results {
		key := res.Profile.Name
		if res.Swept && r.Own {
			key += "_swept"
		}
		out.Add(key, math.Round(res.Normalized*10)/10)
	}
	return out
}

// WriteText writes the summary table, then the per-file table of profile
// (all profiles when profile is "all").
func (r NABReport) WriteText(w io.Writer, profile string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "NAB: detector %s, %d files, %d windows\n\n", r.Detector, r.Files, r.Windows)
	if r.Own {
		fmt.Fprintf(w, "anomaly records: %d (%d event, %d window) in %d incidents\n\n", r.Counts.Records, r.Counts.Event, r.Counts.Window, r.Counts.Incidents)
	}
	fmt.Fprintln(tw, "profile\tthreshold\tchosen by\traw\tnull\tnormalised\twindows hit\tFP rows\t")
	for _, res := range r.Results {
		how := "published"
		switch {
		case res.Swept:
			how = "sweep"
		case r.Own:
			how = "detector"
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

package nab

import (
	"fmt"
	"slices"
	"sort"
)

// FileResult is one data file's NAB score at the corpus threshold, with
// NAB's row counts (rows in probation are not counted).
type FileResult struct {
	Path                string
	Score               float64
	TP, TN, FP, FN      int
	Rows                int
	Windows, WindowsHit int
}

// Result is a corpus's NAB score under one profile.
type Result struct {
	Profile Profile
	// Threshold is the anomaly score at or above which a row is a detection.
	Threshold float64
	// Swept is true when Threshold was chosen by the sweep.
	Swept bool
	// Raw is the summed score of all files; Null is the score of a detector
	// that never fires, Perfect that of one that hits every window at once.
	Raw, Null, Perfect float64
	// Normalized is 100·(Raw − Null)/(Perfect − Null).
	Normalized float64
	Files      []FileResult
}

// corpusFile is one file's scorable points and where they sit in the corpus.
type corpusFile struct {
	path    string
	rows    int
	windows int
	points  []point
}

// Corpus is a set of scored files with their labels, ready to be swept and
// scored under any profile.
type Corpus struct {
	files   []corpusFile
	points  []point
	order   []int32
	windows int
}

// NewCorpus pairs every series with its labelled windows. Each series must
// have an entry in labels (an empty list for a file without anomalies) and
// one score per timestamp.
func NewCorpus(series []Series, labels Labels) (*Corpus, error) {
	sorted := slices.Clone(series)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	c := &Corpus{}
	for _, s := range sorted {
		ws, ok := labels[s.Path]
		if !ok {
			return nil, fmt.Errorf("no labelled windows for %s", s.Path)
		}
		if len(s.Timestamps) != len(s.Scores) {
			return nil, fmt.Errorf("%s: %d timestamps but %d scores", s.Path, len(s.Timestamps), len(s.Scores))
		}
		pts := filePoints(s, spans(s.Timestamps, ws), c.windows)
		c.files = append(c.files, corpusFile{path: s.Path, rows: len(s.Scores), windows: len(ws), points: pts})
		c.points = append(c.points, pts...)
		c.windows += len(ws)
	}
	c.order = make([]int32, len(c.points))
	for i := range c.order {
		c.order[i] = int32(i)
	}
	sort.SliceStable(c.order, func(i, j int) bool { return c.points[c.order[i]].score > c.points[c.order[j]].score })
	return c, nil
}

// Windows is the number of labelled windows of the corpus's files.
func (c *Corpus) Windows() int { return c.windows }

// Files is the number of files in the corpus.
func (c *Corpus) Files() int { return len(c.files) }

// Sweep scores the corpus at the threshold that gives it the highest score
// under pr: NAB's optimise-then-score.
func (c *Corpus) Sweep(pr Profile) Result {
	threshold, _ := sweep(c.points, c.order, c.windows, pr)
	r := c.ScoreAt(pr, threshold)
	r.Swept = true
	return r
}

// ScoreAt scores the corpus with threshold fixed.
func (c *Corpus) ScoreAt(pr Profile, threshold float64) Result {
	r := Result{Profile: pr, Threshold: threshold, Perfect: pr.TP * float64(c.windows)}
	for _, f := range c.files {
		t := scoreAt(f.points, threshold, pr)
		fr := FileResult{
			Path: f.path, Score: t.total(), Rows: f.rows,
			TP: t.tp, TN: t.tn, FP: t.fpN, FN: t.fn,
			Windows: f.windows, WindowsHit: len(t.hit),
		}
		r.Files = append(r.Files, fr)
		r.Raw += fr.Score
		r.Null -= pr.FN * float64(len(t.order))
	}
	if r.Perfect != r.Null {
		r.Normalized = 100 * (r.Raw - r.Null) / (r.Perfect - r.Null)
	}
	return r
}

// Score scores the corpus under every profile: at the given threshold of
// each profile when thresholds has one, else at the swept best threshold.
func (c *Corpus) Score(profiles []Profile, thresholds map[string]float64) []Result {
	out := make([]Result, 0, len(profiles))
	for _, pr := range profiles {
		if th, ok := thresholds[pr.Name]; ok {
			out = append(out, c.ScoreAt(pr, th))
			continue
		}
		out = append(out, c.Sweep(pr))
	}
	return out
}

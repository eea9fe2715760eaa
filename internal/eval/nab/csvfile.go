package nab

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ListCSV returns the paths, relative to dir and with forward slashes, of
// every .csv file under dir except NAB's "*_scores.csv" summaries, sorted.
func ListCSV(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".csv") || strings.HasSuffix(path, "_scores.csv") {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no .csv files under %s", dir)
	}
	sort.Strings(out)
	return out, nil
}

// ReadColumn reads a NAB CSV file (a header row, then one row per
// timestamp) and returns the timestamp column and the named column as text.
func ReadColumn(path, column string) ([]time.Time, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: header: %w", path, err)
	}
	ti, ci := index(header, "timestamp"), index(header, column)
	if ti < 0 || ci < 0 {
		return nil, nil, fmt.Errorf("%s: want columns timestamp and %s, have %v", path, column, header)
	}
	var ts []time.Time
	var vals []string
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return ts, vals, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		t, err := ParseTime(rec[ti])
		if err != nil {
			return nil, nil, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		ts = append(ts, t)
		vals = append(vals, strings.TrimSpace(rec[ci]))
	}
}

func index(header []string, name string) int {
	for i, h := range header {
		if strings.TrimSpace(h) == name {
			return i
		}
	}
	return -1
}

// ReadScores reads a results file's timestamp and anomaly_score columns.
func ReadScores(path string) ([]time.Time, []float64, error) {
	ts, text, err := ReadColumn(path, "anomaly_score")
	if err != nil {
		return nil, nil, err
	}
	scores := make([]float64, len(text))
	for i, s := range text {
		if scores[i], err = strconv.ParseFloat(s, 64); err != nil {
			return nil, nil, fmt.Errorf("%s row %d: anomaly_score %q: %w", path, i+1, s, err)
		}
	}
	return ts, scores, nil
}

// LoadResults reads a detector's NAB results folder, laid out as
// <dir>/<folder>/<detector>_<file>.csv with an anomaly_score column. The
// detector is named by the folder when every file carries its name, else by
// the first file's prefix up to "_". Series paths are the data files'
// (<folder>/<file>.csv).
func LoadResults(dir string) (string, []Series, error) {
	files, err := ListCSV(dir)
	if err != nil {
		return "", nil, err
	}
	detector := detectorName(dir, files)
	out := make([]Series, 0, len(files))
	for _, rel := range files {
		folder, name := pathSplit(rel)
		data, ok := strings.CutPrefix(name, detector+"_")
		if !ok {
			return "", nil, fmt.Errorf("results file %s is not named %s_<file>.csv", rel, detector)
		}
		ts, scores, err := ReadScores(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return "", nil, err
		}
		out = append(out, Series{Path: folder + data, Timestamps: ts, Scores: scores})
	}
	return detector, out, nil
}

// pathSplit splits "a/b/c.csv" into "a/b/" and "c.csv".
func pathSplit(rel string) (string, string) {
	i := strings.LastIndex(rel, "/")
	return rel[:i+1], rel[i+1:]
}

func detectorName(dir string, files []string) string {
	base := filepath.Base(filepath.Clean(dir))
	all := true
	for _, rel := range files {
		if _, name := pathSplit(rel); !strings.HasPrefix(name, base+"_") {
			all = false
			break
		}
	}
	if all {
		return base
	}
	_, name := pathSplit(files[0])
	before, _, _ := strings.Cut(name, "_")
	return before
}

// WriteResults writes series as a NAB results folder,
// <dir>/<detector>/<folder>/<detector>_<file>.csv with timestamp and
// anomaly_score columns, which --results (and NAB itself) can score.
func WriteResults(dir, detector string, series []Series) error {
	for _, s := range series {
		folder, name := pathSplit(s.Path)
		path := filepath.Join(dir, detector, filepath.FromSlash(folder), detector+"_"+name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("write results: %w", err)
		}
		var b strings.Builder
		b.WriteString("timestamp,anomaly_score\n")
		for i, t := range s.Timestamps {
			fmt.Fprintf(&b, "%s,%s\n", t.Format("2006-01-02 15:04:05"), strconv.FormatFloat(s.Scores[i], 'g', -1, 64))
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("write results: %w", err)
		}
	}
	return nil
}

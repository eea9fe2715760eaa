// Package nab scores anomaly detectors on the Numenta Anomaly Benchmark the
// way NAB's own scorer does (nab/sweeper.py, optimizer.py, runner.py), and
// runs DriftLock's scoring core over NAB's data files.
package nab

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// Window is one labelled anomaly window; both ends are inclusive.
type Window struct {
	Start, End time.Time
}

// Labels maps a data file's path relative to the data folder
// ("realTweets/Twitter_volume_AAPL.csv") to its windows, in time order.
type Labels map[string][]Window

// timeLayouts are the timestamp forms found in NAB's data, results and label files.
var timeLayouts = []string{
	"2006-01-02 15:04:05.000000",
	"2006-01-02 15:04:05",
	time.RFC3339Nano,
}

// ParseTime parses a NAB timestamp ("2014-04-10 07:15:00" or with
// ".000000"), as UTC.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q: want YYYY-MM-DD hh:mm:ss[.ffffff]", s)
}

// LoadWindows reads NAB's labels/combined_windows.json.
func LoadWindows(path string) (Labels, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read windows: %w", err)
	}
	var doc map[string][][2]string
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse windows %s: %w", path, err)
	}
	labels := make(Labels, len(doc))
	for file, pairs := range doc {
		ws := make([]Window, 0, len(pairs))
		for _, p := range pairs {
			start, err := ParseTime(p[0])
			if err != nil {
				return nil, fmt.Errorf("windows of %s: %w", file, err)
			}
			end, err := ParseTime(p[1])
			if err != nil {
				return nil, fmt.Errorf("windows of %s: %w", file, err)
			}
			ws = append(ws, Window{Start: start, End: end})
		}
		sort.Slice(ws, func(i, j int) bool { return ws[i].Start.Before(ws[j].Start) })
		labels[file] = ws
	}
	return labels, nil
}

// Profile is one of NAB's cost profiles: the weights of a true positive, a
// false positive and a false negative.
type Profile struct {
	Name       string
	TP, FP, FN float64
}

// The names of NAB's three profiles.
const (
	Standard   = "standard"
	LowFPRate  = "reward_low_FP_rate"
	LowFNRate  = "reward_low_FN_rate"
	probePct   = 0.15
	probeLimit = probePct * 5000
)

// DefaultProfiles returns NAB's config/profiles.json: standard (1, 0.11, 1),
// reward_low_FP_rate (1, 0.22, 1), reward_low_FN_rate (1, 0.11, 2).
func DefaultProfiles() []Profile {
	return []Profile{
		{Name: Standard, TP: 1, FP: 0.11, FN: 1},
		{Name: LowFPRate, TP: 1, FP: 0.22, FN: 1},
		{Name: LowFNRate, TP: 1, FP: 0.11, FN: 2},
	}
}

// LoadProfiles reads NAB's config/profiles.json. The three standard
// profiles come first in their usual order, any others after by name.
func LoadProfiles(path string) ([]Profile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read profiles: %w", err)
	}
	var doc map[string]struct {
		CostMatrix struct {
			TP float64 `json:"tpWeight"`
			FP float64 `json:"fpWeight"`
			FN float64 `json:"fnWeight"`
		}
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse profiles %s: %w", path, err)
	}
	out := make([]Profile, 0, len(doc))
	for name, p := range doc {
		out = append(out, Profile{Name: name, TP: p.CostMatrix.TP, FP: p.CostMatrix.FP, FN: p.CostMatrix.FN})
	}
	rank := map[string]int{Standard: 0, LowFPRate: 1, LowFNRate: 2}
	sort.Slice(out, func(i, j int) bool {
		ri, okI := rank[out[i].Name]
		rj, okJ := rank[out[j].Name]
		switch {
		case okI && okJ:
			return ri < rj
		case okI != okJ:
			return okI
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// Thresholds holds each published detector's threshold per profile, as in
// NAB's config/thresholds.json: detector -> profile -> threshold.
type Thresholds map[string]map[string]float64

// LoadThresholds reads NAB's config/thresholds.json.
func LoadThresholds(path string) (Thresholds, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read thresholds: %w", err)
	}
	var doc map[string]map[string]struct {
		Threshold float64 `json:"threshold"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse thresholds %s: %w", path, err)
	}
	out := make(Thresholds, len(doc))
	for det, profiles := range doc {
		out[det] = make(map[string]float64, len(profiles))
		for name, v := range profiles {
			out[det][name] = v.Threshold
		}
	}
	return out, nil
}

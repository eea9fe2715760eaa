package loghub

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// structuredEpoch is the made-up time of a structured log's first line:
// the files' own times lack a year or a date, so lines are one second
// apart from it.
var structuredEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// ReadStructured reads a loghub `<System>_2k.log_structured.csv` file (a
// header naming at least Content; Level and Component when the system has
// them) as unlabelled lines, one second apart.
func ReadStructured(path string) ([]Line, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	content, ok := col["Content"]
	if !ok {
		return nil, fmt.Errorf("%s: no Content column in %v", path, header)
	}
	field := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var out []Line
	for n := 2; ; n++ {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, n, err)
		}
		if content >= len(rec) {
			return nil, fmt.Errorf("%s line %d: %d fields, no Content", path, n, len(rec))
		}
		out = append(out, Line{
			Label: "-", Time: structuredEpoch.Add(time.Duration(len(out)) * time.Second),
			Component: field(rec, "Component"), Level: field(rec, "Level"), Content: rec[content],
		})
	}
}

// ReadLog reads a labelled loghub log (BGL, Thunderbird) or an
// unlabelled structured one (*_structured.csv).
func ReadLog(path string) ([]Line, error) {
	if strings.HasSuffix(path, "_structured.csv") {
		return ReadStructured(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	defer f.Close()
	var out []Line
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		l, err := ParseLine(sc.Text())
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

// Package loghub reads the labelled system logs of logpai/loghub (BGL,
// Thunderbird, HDFS sessions), turns them into the log events ingest would
// write, and measures how well per-event predictions match the labels.
package loghub

import (
	"fmt"
	"strings"
	"time"
)

// Line is one parsed line of a loghub BGL or Thunderbird log.
type Line struct {
	// Label is the first token: "-" for a normal line, else an alert category.
	Label string
	// Time is the line's unix timestamp (second resolution).
	Time time.Time
	// Node is the reporting node.
	Node string
	// Component is the emitting component (KERNEL, APP, crond(pam_unix), ...).
	Component string
	// Level is the severity token (BGL only: INFO, WARNING, SEVERE, ERROR,
	// FAILURE, FATAL).
	Level string
	// Content is the free-text message.
	Content string
}

// Anomalous reports whether the line is labelled as an alert.
func (l Line) Anomalous() bool { return l.Label != "-" }

// ParseLine parses one line in either loghub format:
//
//	BGL:         label unix date node time node type component level content...
//	Thunderbird: label unix date node month day hh:mm:ss location component[pid]: content...
func ParseLine(s string) (Line, error) {
	f := strings.Fields(s)
	if len(f) < 6 {
		return Line{}, fmt.Errorf("line has %d fields, want at least 6", len(f))
	}
	var unix int64
	if _, err := fmt.Sscan(f[1], &unix); err != nil {
		return Line{}, fmt.Errorf("unix timestamp %q: %w", f[1], err)
	}
	l := Line{Label: f[0], Time: time.Unix(unix, 0).UTC(), Node: f[3]}
	if _, err := time.Parse("Jan", f[4]); err == nil {
		return parseThunderbird(l, s, f)
	}
	if len(f) < 9 {
		return Line{}, fmt.Errorf("BGL line has %d fields, want at least 9", len(f))
	}
	l.Component, l.Level = f[7], f[8]
	l.Content = rest(s, 9)
	return l, nil
}

// parseThunderbird reads the fields after the node: month, day, time,
// location, then "component[pid]: content" (the component is optional).
func parseThunderbird(l Line, s string, f []string) (Line, error) {
	if len(f) < 8 {
		return Line{}, fmt.Errorf("thunderbird line has %d fields, want at least 8", len(f))
	}
	msg := rest(s, 8)
	head, tail, ok := strings.Cut(msg, ": ")
	if !ok || strings.ContainsAny(head, " \t") {
		l.Content = msg
		return l, nil
	}
	if i := strings.IndexByte(head, '['); i > 0 && strings.HasSuffix(head, "]") {
		head = head[:i]
	}
	l.Component, l.Content = head, tail
	return l, nil
}

// rest returns s from its n-th whitespace-separated field on.
func rest(s string, n int) string {
	for range n {
		s = strings.TrimLeft(s, " \t")
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			return ""
		}
		s = s[i:]
	}
	return strings.TrimLeft(s, " \t")
}

package loghub

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
)

// Session is one HDFS block session: the Drain templates of its log lines,
// in order, and its label (1 anomalous, 0 normal).
type Session struct {
	BlockID   string   `json:"block_id"`
	Label     int      `json:"label"`
	Templates []string `json:"templates"`
}

// Anomalous reports whether the session is labelled anomalous.
func (s Session) Anomalous() bool { return s.Label != 0 }

// ReadSessions reads a JSONL file of sessions.
func ReadSessions(path string) ([]Session, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open sessions: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var out []Session
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var s Session
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

// Split cuts sessions by line order: the first fraction for training, the
// rest for testing.
func Split(sessions []Session, fraction float64) (train, test []Session) {
	n := int(float64(len(sessions)) * fraction)
	return sessions[:n], sessions[n:]
}

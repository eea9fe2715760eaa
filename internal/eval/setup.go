// Package eval runs DriftLock's scoring core offline over labelled data
// (NAB metrics, loghub BGL/Thunderbird logs, HDFS sessions) and measures
// detection quality. Labels are read only for scoring, never by the core.
//
// One setup per data family lives in this file: the scoring-core
// configuration and the decision rule that turns per-event results into
// predictions. The same setup is used for every file of a family.
package eval

import (
	"fmt"
	"strings"

	"github.com/driftlock/driftlock/internal/cbad"
)

// Seed is the seed of every evaluation run.
const Seed = 42

// NABSetup is the configuration used on NAB.
type NABSetup struct {
	Core cbad.Config
	// Onset keeps a row's event score only when the row is clearly more
	// surprising than every row of the Onset rows before it: its tail
	// (1 − score) is below Ratio times the smallest tail among them. Other
	// rows get 0. An alert then marks where a change starts, not every row
	// of it: NAB counts each detection row outside a window as a false
	// positive and only the earliest one inside, so repeats can only cost.
	// Onset 0 keeps every score.
	Onset int
	// Ratio is the factor of the Onset rule: 1 only asks for a higher score.
	Ratio float64
	// Judgements scores rows by window judgements only, as the detector
	// service raises anomalies: the row that completes a window judged
	// anomalous gets the judgement's confidence, every other row 0. Onset
	// and the event scores are then not used.
	Judgements bool
}

// LogSetup is the configuration used on BGL and Thunderbird lines.
type LogSetup struct {
	Core cbad.Config
	// Threshold flags a line whose event score is at least this.
	Threshold float64
	// MinSeverity is the lowest OpenTelemetry severity number a line needs to
	// be flagged; lines without a severity (0) are always eligible. 0 turns
	// the gate off.
	MinSeverity int32
	// Evidence also flags the lines an anomalous judgement names as evidence.
	Evidence bool
}

// HDFSSetup is the configuration used on HDFS sessions.
type HDFSSetup struct {
	Core cbad.Config
	// Sessions sends each block session as one log record whose body lists
	// the session's distinct templates, sorted (a block summary), instead of
	// one log record per template.
	Sessions bool
	// Threshold flags a session when at least MinEvents of its records
	// score at least Threshold.
	Threshold float64
	MinEvents int
}

// NAB returns the NAB setup.
func NAB() NABSetup {
	c := cbad.DefaultConfig()
	c.Seed = Seed
	c.ScoreEvents = true
	c.WindowSize, c.HopSize, c.BaselineSize, c.BlockSize = 64, 16, 8192, 4
	c.ContextOrder, c.ContextWeight = 8, 1
	c.SeasonCycles = 7
	return NABSetup{Core: c, Onset: 160, Ratio: 0.9}
}

// NABDetector returns the setup that scores what the detector service
// raises on NAB with the scoring settings core: anomalous window judgements.
func NABDetector(core cbad.Config) NABSetup {
	core.Seed = Seed
	return NABSetup{Core: core, Judgements: true}
}

// BGL returns the setup used on BGL and Thunderbird.
func BGL() LogSetup {
	c := cbad.DefaultConfig()
	c.Seed = Seed
	c.ScoreEvents = true
	c.WindowSize, c.HopSize, c.BaselineSize, c.BlockSize = 64, 16, 256, 4
	return LogSetup{Core: c, Threshold: 0.5, MinSeverity: 17, Evidence: false}
}

// HDFS returns the HDFS setup.
func HDFS() HDFSSetup {
	c := cbad.DefaultConfig()
	c.Seed = Seed
	c.ScoreEvents = true
	c.WindowSize, c.HopSize, c.BaselineSize, c.BlockSize = 64, 16, 8192, 4
	return HDFSSetup{Core: c, Sessions: true, Threshold: 0.3, MinEvents: 1}
}

// Describe renders a core configuration on one line.
func Describe(c cbad.Config) string {
	return fmt.Sprintf("window_size=%d hop_size=%d baseline_size=%d block_size=%d threshold=%g "+
		"permutations=%d stop_after=%d min_effect=%g adapt_after=%d compressor=%s levels=%d "+
		"max_attr_values=%d score_events=%t context_order=%d context_weight=%g season_cycles=%d seed=%d",
		c.WindowSize, c.HopSize, c.BaselineSize, c.BlockSize, c.Threshold,
		c.Permutations, c.StopAfter, c.MinEffect, c.AdaptAfter, c.Compressor, c.Levels,
		c.MaxAttrValues, c.ScoreEvents, c.ContextOrder, c.ContextWeight, c.SeasonCycles, c.Seed)
}

// String renders the NAB setup.
func (s NABSetup) String() string {
	if s.Judgements {
		return lines(Describe(s.Core), "row score: the confidence of an anomalous window judgement at the row that completes the window, else 0 (what the detector service raises)")
	}
	return lines(Describe(s.Core), fmt.Sprintf("row score: event score when its tail (1-score) is below %g x the smallest tail of the previous %d rows, else 0", s.Ratio, s.Onset))
}

// String renders the log setup.
func (s LogSetup) String() string {
	return lines(Describe(s.Core), fmt.Sprintf("line flagged: event score >= %g and severity number >= %d (or no severity); "+
		"also lines named as evidence of an anomalous judgement: %t", s.Threshold, s.MinSeverity, s.Evidence))
}

// String renders the HDFS setup.
func (s HDFSSetup) String() string {
	unit := "one log record per template"
	if s.Sessions {
		unit = "one log record per session listing its distinct templates"
	}
	return lines(Describe(s.Core), unit+fmt.Sprintf("; session flagged: at least %d record(s) with score >= %g", s.MinEvents, s.Threshold))
}

func lines(ls ...string) string { return "  " + strings.Join(ls, "\n  ") }

package eval

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/driftlock/driftlock/internal/cbad"
)

// coreKey sets one scoring-core field by its configuration key name.
func coreKey(c *cbad.Config, key, value string) (bool, error) {
	ints := map[string]*int{
		"window_size": &c.WindowSize, "hop_size": &c.HopSize, "permutations": &c.Permutations,
		"baseline_size": &c.BaselineSize, "block_size": &c.BlockSize, "stop_after": &c.StopAfter,
		"adapt_after": &c.AdaptAfter, "max_attr_values": &c.MaxAttrValues, "levels": &c.Levels,
		"context_order": &c.ContextOrder, "season_cycles": &c.SeasonCycles,
	}
	floats := map[string]*float64{"threshold": &c.Threshold, "min_effect": &c.MinEffect, "context_weight": &c.ContextWeight}
	var err error
	switch {
	case ints[key] != nil:
		*ints[key], err = strconv.Atoi(value)
	case floats[key] != nil:
		*floats[key], err = strconv.ParseFloat(value, 64)
	case key == "seed":
		c.Seed, err = strconv.ParseInt(value, 10, 64)
	case key == "compressor":
		c.Compressor = value
	default:
		return false, nil
	}
	if err != nil {
		return true, fmt.Errorf("--set %s=%s: %w", key, value, err)
	}
	return true, nil
}

// ruleKey sets one decision-rule field from a table of named fields.
func ruleKey(key, value string, ints map[string]*int, floats map[string]*float64, bools map[string]*bool) (bool, error) {
	var err error
	switch {
	case ints[key] != nil:
		*ints[key], err = strconv.Atoi(value)
	case floats[key] != nil:
		*floats[key], err = strconv.ParseFloat(value, 64)
	case bools[key] != nil:
		*bools[key], err = strconv.ParseBool(value)
	default:
		return false, nil
	}
	if err != nil {
		return true, fmt.Errorf("--set %s=%s: %w", key, value, err)
	}
	return true, nil
}

// apply applies "key=value" overrides through set, then validates the core.
func apply(overrides []string, core *cbad.Config, rule func(k, v string) (bool, error)) error {
	for _, o := range overrides {
		key, value, ok := strings.Cut(o, "=")
		if !ok {
			return fmt.Errorf("--set %q: want key=value", o)
		}
		key = strings.TrimSpace(key)
		done, err := coreKey(core, key, strings.TrimSpace(value))
		if !done && err == nil {
			done, err = rule(key, strings.TrimSpace(value))
		}
		if err != nil {
			return err
		}
		if !done {
			return fmt.Errorf("--set %s: unknown key", key)
		}
	}
	return core.Validate()
}

// Override changes the NAB setup by "key=value" pairs: scoring-core keys
// (window_size, hop_size, ...) or rule keys (onset, ratio, judgements).
func (s *NABSetup) Override(kv []string) error {
	return apply(kv, &s.Core, func(k, v string) (bool, error) {
		return ruleKey(k, v, map[string]*int{"onset": &s.Onset}, map[string]*float64{"ratio": &s.Ratio}, map[string]*bool{"judgements": &s.Judgements})
	})
}

// Override changes the log setup by "key=value" pairs: scoring-core keys or
// rule keys (line_threshold, min_severity, evidence).
func (s *LogSetup) Override(kv []string) error {
	sev := int(s.MinSeverity)
	err := apply(kv, &s.Core, func(k, v string) (bool, error) {
		return ruleKey(k, v, map[string]*int{"min_severity": &sev}, map[string]*float64{"line_threshold": &s.Threshold}, map[string]*bool{"evidence": &s.Evidence})
	})
	s.MinSeverity = int32(sev)
	return err
}

// Override changes the HDFS setup by "key=value" pairs: scoring-core keys or
// rule keys (session_threshold, min_events, sessions).
func (s *HDFSSetup) Override(kv []string) error {
	return apply(kv, &s.Core, func(k, v string) (bool, error) {
		return ruleKey(k, v, map[string]*int{"min_events": &s.MinEvents}, map[string]*float64{"session_threshold": &s.Threshold}, map[string]*bool{"sessions": &s.Sessions})
	})
}

package cbad

import "fmt"

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		WindowSize:     1024,
		HopSize:        256,
		Threshold:      0.9,
		Seed:           42,
		Compressor:     "zstd",
		Permutations:   200,
		BaselineSize:   1024,
		BlockSize:      1,
		MinEffect:      0.03,
		StopAfter:      10,
		AdaptAfter:     8,
		MaxAttrValues:  8,
		Levels:         8,
		Memory:         1 << 16,
		EventWarmup:    256,
		EventThreshold: 0.75,
		ContextOrder:   8,
		ContextWeight:  1,
		SeasonCycles:   7,
	}
}

// Validate returns the first invalid field as one line naming the key, the
// value and what is allowed.
func (c Config) Validate() error { return c.ValidateAs("") }

// ValidateAs is Validate with prefix before every key named, for settings
// that live in a section of a larger configuration ("detector.").
func (c Config) ValidateAs(prefix string) error {
	checks := []struct {
		ok      bool
		key     string
		value   any
		allowed string
	}{
		{c.WindowSize >= 8 && c.WindowSize <= 1<<20, "window_size", c.WindowSize, "must be between 8 and 1048576"},
		{c.HopSize >= 1 && c.HopSize <= c.WindowSize, "hop_size", c.HopSize, "must be between 1 and " + prefix + "window_size"},
		{c.Threshold > 0 && c.Threshold < 1, "threshold", c.Threshold, "must be greater than 0 and less than 1"},
		{c.Compressor == "zstd" || c.Compressor == "gzip" || c.Compressor == "lz4", "compressor", fmt.Sprintf("%q", c.Compressor), "must be one of zstd, gzip, lz4"},
		{c.Permutations >= 19 && c.Permutations <= 100_000, "permutations", c.Permutations, "must be between 19 and 100000"},
		{c.BaselineSize == 0 || (c.BaselineSize >= 8 && c.BaselineSize <= 1<<20), "baseline_size", c.BaselineSize, "must be 0 (" + prefix + "window_size) or between 8 and 1048576"},
		{c.BlockSize >= 1 && c.BlockSize <= c.HopSize, "block_size", c.BlockSize, "must be between 1 and " + prefix + "hop_size"},
		{c.MinEffect >= 0 && c.MinEffect < 1, "min_effect", c.MinEffect, "must be at least 0 and less than 1"},
		{c.StopAfter >= 1, "stop_after", c.StopAfter, "must be at least 1"},
		{c.AdaptAfter >= 1, "adapt_after", c.AdaptAfter, "must be at least 1"},
		{c.MaxAttrValues >= 0 && c.MaxAttrValues <= 256, "max_attr_values", c.MaxAttrValues, "must be between 0 and 256"},
		{c.Levels >= 2 && c.Levels <= 64, "levels", c.Levels, "must be between 2 and 64"},
		{c.ContextOrder >= 0 && c.ContextOrder <= 8, "context_order", c.ContextOrder, "must be between 0 and 8"},
		{c.ContextWeight >= 0 && c.ContextWeight <= 1, "context_weight", c.ContextWeight, "must be between 0 and 1"},
		{c.SeasonCycles >= 0 && c.SeasonCycles <= 16, "season_cycles", c.SeasonCycles, "must be between 0 and 16"},
		{c.EventThreshold > 0 && c.EventThreshold < 1, "event_threshold", c.EventThreshold, "must be greater than 0 and less than 1"},
		{c.EventWarmup >= 0 && c.EventWarmup <= 1<<20, "event_warmup", c.EventWarmup, "must be between 0 and 1048576"},
		{c.Memory >= 16 && c.Memory <= 1<<30, "memory", c.Memory, "must be between 16 and 1073741824"},
	}
	for _, ch := range checks {
		if !ch.ok {
			return fmt.Errorf("invalid value %v for %s%s: %s", ch.value, prefix, ch.key, ch.allowed)
		}
	}
	return nil
}

// baselineSize is BaselineSize with 0 meaning WindowSize.
func (c Config) baselineSize() int {
	if c.BaselineSize == 0 {
		return c.WindowSize
	}
	return c.BaselineSize
}

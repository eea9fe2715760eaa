package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/driftlock/driftlock/internal/eval"
	"github.com/driftlock/driftlock/internal/eval/nab"
)

func newEvalCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Measure detection quality offline on labelled data (nab, hdfs, bgl)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newEvalNABCmd(), newEvalHDFSCmd(), newEvalBGLCmd())
	return cmd
}

func newEvalNABCmd() *cobra.Command {
	var o eval.NABOptions
	var profile, outDir string
	var sf setupFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "nab --data DIR --windows FILE",
		Short: "Run the detector over NAB's data files and print the NAB scores of the three profiles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.Setup, err = sf.load(); err != nil {
				return err
			}
			return runEvalNAB(cmd, o, profile, outDir, asJSON)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Data, "data", "", "NAB data folder (<folder>/<file>.csv with timestamp,value)")
	f.StringVar(&o.Windows, "windows", "", "labels/combined_windows.json (default: ../labels/ next to --data)")
	f.StringVar(&o.Results, "results", "", "score a published detector's results folder (<folder>/<detector>_<file>.csv) instead of running DriftLock")
	f.StringVar(&o.Profiles, "profiles", "", "config/profiles.json (default: ../config/ next to the windows file, else NAB's three profiles)")
	f.StringVar(&o.Thresholds, "thresholds", "", "config/thresholds.json, for --results (default: ../config/ next to the windows file)")
	f.StringVar(&profile, "profile", "standard", `profile whose per-file table is printed ("all" for every profile)`)
	f.StringVar(&outDir, "out", "", "also write the per-row scores as a NAB results folder under this directory")
	sf.register(f)
	f.IntVar(&o.Workers, "workers", 0, "files run at once (default: number of CPUs)")
	f.BoolVar(&asJSON, "json", false, "print the normalised scores as one JSON object on the last line (the detector's own, then <profile>_swept)")
	return cmd
}

// runEvalNAB runs eval nab: the detector (or a published results folder),
// the scores, the tables and the JSON line.
func runEvalNAB(cmd *cobra.Command, o eval.NABOptions, profile, outDir string, asJSON bool) error {
	if err := nabPaths(&o); err != nil {
		return err
	}
	if o.Results == "" {
		o.Progress = progressBar("nab files")
	}
	rep, err := eval.EvalNAB(cmd.Context(), o)
	if err != nil {
		return err
	}
	if outDir != "" {
		if err := nab.WriteResults(outDir, rep.Detector, rep.Series); err != nil {
			return err
		}
	}
	out := cmd.OutOrStdout()
	if o.Results == "" {
		fmt.Fprintf(out, "detector configuration:\n%s\n\n", o.Setup)
	}
	if err := rep.WriteText(out, profile); err != nil {
		return err
	}
	return printJSON(out, asJSON, rep.JSON())
}

// nabPaths checks the NAB flags and fills in the default label and config paths.
func nabPaths(o *eval.NABOptions) error {
	if o.Data == "" && o.Results == "" {
		return fmt.Errorf("eval nab: --data (or --results) is required")
	}
	if o.Windows == "" {
		if o.Data == "" {
			return fmt.Errorf("eval nab: --windows is required with --results")
		}
		o.Windows = filepath.Join(o.Data, "..", "labels", "combined_windows.json")
	}
	config := filepath.Join(filepath.Dir(o.Windows), "..", "config")
	if o.Profiles == "" && exists(filepath.Join(config, "profiles.json")) {
		o.Profiles = filepath.Join(config, "profiles.json")
	}
	if o.Thresholds == "" {
		o.Thresholds = filepath.Join(config, "thresholds.json")
	}
	return nil
}

func newEvalHDFSCmd() *cobra.Command {
	var train, test string
	var split float64
	var sf setupFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "hdfs --train FILE --test FILE",
		Short: "Build a baseline from HDFS train sessions and print precision, recall and F1 on the test sessions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			setup, err := sf.load()
			if err != nil {
				return err
			}
			rep, err := eval.RunHDFSFiles(cmd.Context(), train, test, split, setup, progressBar("hdfs sessions"))
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "detector configuration:\n%s\n\n", setup)
			if err := rep.WriteText(out); err != nil {
				return err
			}
			return printJSON(out, asJSON, rep.JSON())
		},
	}
	f := cmd.Flags()
	f.StringVar(&train, "train", "", "JSONL sessions the baseline is built from (labels unread)")
	f.StringVar(&test, "test", "", "JSONL sessions to score")
	f.Float64Var(&split, "split", 0, "without --test: score the last part of --train after building the baseline from this first fraction (e.g. 0.7)")
	sf.register(f)
	f.BoolVar(&asJSON, "json", false, "print precision, recall and F1 as one JSON object on the last line")
	return cmd
}

func newEvalBGLCmd() *cobra.Command {
	var path string
	var passes int
	var sf setupFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "bgl --log FILE",
		Short: "Run the detector over a loghub BGL or Thunderbird log and print line- and run-level figures",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return fmt.Errorf("eval bgl: --log is required")
			}
			setup, err := sf.load()
			if err != nil {
				return err
			}
			rep, err := eval.EvalLog(cmd.Context(), path, passes, setup, progressBar("log lines"))
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "detector configuration:\n%s\n\n", setup)
			if err := rep.WriteText(out); err != nil {
				return err
			}
			return printJSON(out, asJSON, rep.JSON())
		},
	}
	cmd.Flags().StringVar(&path, "log", "", "loghub log file (first token of a line is its label), or an unlabelled <System>_2k.log_structured.csv")
	cmd.Flags().IntVar(&passes, "passes", 1, "stream the file this many times in a row and report the last pass")
	sf.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the figures as one JSON object on the last line")
	return cmd
}

// setupFlags are the flags that choose the detector configuration an
// evaluation runs: the defaults, a configuration file, --set overrides.
type setupFlags struct {
	config string
	set    []string
}

func (sf *setupFlags) register(f *pflag.FlagSet) {
	f.StringVar(&sf.config, "config", "", "detector configuration file (as `driftlock detect --config`); default: the defaults")
	f.StringArrayVar(&sf.set, "set", nil, "override a configuration key, key=value (repeatable; window_size means detector.window_size)")
}

func (sf *setupFlags) load() (eval.Setup, error) { return eval.LoadSetup(sf.config, sf.set) }

// printJSON prints v on one line when on is set.
func printJSON(w io.Writer, on bool, v any) error {
	if !on {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// progressBar returns a progress callback drawing a bar on stderr when it is
// a terminal, and nil (no output) otherwise.
func progressBar(label string) func(done, total int) {
	st, err := os.Stderr.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return func(done, total int) {
		const width = 30
		n := width
		if total > 0 {
			n = done * width / total
		}
		fmt.Fprintf(os.Stderr, "\r%s [%s%s] %d/%d", label, strings.Repeat("#", n), strings.Repeat(" ", width-n), done, total)
		if done >= total {
			fmt.Fprint(os.Stderr, "\r\033[K")
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

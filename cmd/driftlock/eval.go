package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newEvalCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "eval",
		Short: "not available yet",
		RunE:  func(*cobra.Command, []string) error { return errors.New("eval: not available yet") },
	}
}

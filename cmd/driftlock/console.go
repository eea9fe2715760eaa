package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newConsoleCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "console",
		Short: "not available yet",
		RunE:  func(*cobra.Command, []string) error { return errors.New("console: not available yet") },
	}
}

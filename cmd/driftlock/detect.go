package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newDetectCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "detect",
		Short: "not available yet",
		RunE:  func(*cobra.Command, []string) error { return errors.New("detect: not available yet") },
	}
}

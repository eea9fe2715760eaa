package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newIngestCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ingest",
		Short: "not available yet",
		RunE:  func(*cobra.Command, []string) error { return errors.New("ingest: not available yet") },
	}
}

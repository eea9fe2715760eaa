//go:build !unix

package otlpconv

func processCPU() int64 { return -1 }

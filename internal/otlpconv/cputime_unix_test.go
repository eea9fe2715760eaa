//go:build unix

package otlpconv

import "syscall"

// processCPU is the CPU time the process used so far, in nanoseconds, or -1.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

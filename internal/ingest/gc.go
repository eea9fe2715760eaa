package ingest

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"sync"
)

// Garbage collector tuning of the ingest process. Most of the ingest's
// allocations live for one request, so the collector's cost is mostly how
// often it runs: at the default GOGC=100 it took a fifth to a quarter of
// the CPU under load. gcPercent makes it run about a quarter as often; the
// soft memory limit makes it run more often again as the heap approaches
// gcMemoryLimit, so the heap stays bounded by the in-flight budget rather
// than by a multiple of the live heap.
const (
	gcPercent = 400
	// gcLimitPerInflightByte: the limit is this many times
	// ingest.max_inflight_bytes, plus gcLimitBase for everything else
	// (request bodies being decoded, gRPC and HTTP buffers, the runtime).
	gcLimitPerInflightByte = 3
	gcLimitBase            = 128 << 20
)

var tuneGCOnce sync.Once

// tuneGC sets the collector's target percentage and soft memory limit from
// the in-flight budget, once per process, unless the operator set GOGC or
// GOMEMLIMIT, which then decide alone.
func tuneGC(maxInflightBytes int, log *slog.Logger) {
	tuneGCOnce.Do(func() {
		if _, ok := os.LookupEnv("GOGC"); ok {
			return
		}
		if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
			return
		}
		limit := gcMemoryLimit(maxInflightBytes)
		debug.SetGCPercent(gcPercent)
		debug.SetMemoryLimit(limit)
		log.Info("garbage collector tuned for ingest (set GOGC or GOMEMLIMIT to override)",
			"gogc", gcPercent, "memory_limit_bytes", limit)
	})
}

// gcMemoryLimit is the soft memory limit for an in-flight budget.
func gcMemoryLimit(maxInflightBytes int) int64 {
	n := int64(maxInflightBytes)
	if n > (math.MaxInt64-gcLimitBase)/gcLimitPerInflightByte {
		return math.MaxInt64
	}
	return n*gcLimitPerInflightByte + gcLimitBase
}

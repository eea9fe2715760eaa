package otlpconv

import (
	"strconv"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"

	"github.com/driftlock/driftlock/internal/event"
)

func countLogs(req *collogspb.ExportLogsServiceRequest) int {
	n := 0
	for _, rl := range req.GetResourceLogs() {
		for _, sl := range rl.GetScopeLogs() {
			n += len(sl.GetLogRecords())
		}
	}
	return n
}

func (b *batch) logs(req *collogspb.ExportLogsServiceRequest) {
	for _, rl := range req.GetResourceLogs() {
		b.setResource(rl.GetResource().GetAttributes())
		key := event.StreamKey(b.keySvc, event.TypeLog, "")
		for _, sl := range rl.GetScopeLogs() {
			for _, lr := range sl.GetLogRecords() {
				b.log(lr, key)
				b.index++
			}
		}
	}
}

// log encodes one log record as event.LogData.
func (b *batch) log(lr *logspb.LogRecord, key string) {
	ts := lr.GetTimeUnixNano()
	if ts == 0 {
		ts = lr.GetObservedTimeUnixNano()
	}
	b.open()
	b.buf = append(b.buf, `{"timestamp":`...)
	b.buf = appendNanoTime(b.buf, ts)
	b.buf = append(b.buf, `,"severity":`...)
	b.buf = appendString(b.buf, severity(lr))
	b.buf = append(b.buf, `,"body":`...)
	var err error
	if b.buf, err = b.w.appendValue(b.buf, lr.GetBody(), 0); err != nil {
		b.fail(err, 1)
		return
	}
	b.buf = append(b.buf, `,"severity_number":`...)
	b.buf = strconv.AppendInt(b.buf, int64(lr.GetSeverityNumber()), 10)
	b.buf = append(b.buf, `,"flags":`...)
	b.buf = strconv.AppendUint(b.buf, uint64(lr.GetFlags()), 10)
	b.buf = append(b.buf, `,"attributes":`...)
	if err := b.appendMerged(lr.GetAttributes()); err != nil {
		b.fail(err, 1)
		return
	}
	if id := lr.GetTraceId(); !isZeroID(id) {
		b.buf = append(b.buf, `,"trace_id":`...)
		b.buf = appendHex(b.buf, id)
	}
	if id := lr.GetSpanId(); !isZeroID(id) {
		b.buf = append(b.buf, `,"span_id":`...)
		b.buf = appendHex(b.buf, id)
	}
	b.buf = append(b.buf, '}')
	b.close(key, ts, 1)
}

// severityNames are the short names of the OTLP severity numbers 1..24.
var severityNames = func() (names [25]string) {
	for i, base := range []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"} {
		names[i*4+1] = base
		for j := 2; j <= 4; j++ {
			names[i*4+j] = base + strconv.Itoa(j)
		}
	}
	return names
}()

// severity is the record's severity text, or the short name of its severity
// number when the text is empty (9 is INFO, 10 INFO2, 17 ERROR).
func severity(lr *logspb.LogRecord) string {
	if t := lr.GetSeverityText(); t != "" {
		return t
	}
	if n := lr.GetSeverityNumber(); n > 0 && int(n) < len(severityNames) {
		return severityNames[n]
	}
	return ""
}

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
			b.setScope(sl.GetScope())
			for _, lr := range sl.GetLogRecords() {
				b.log(lr, key)
				b.index++
			}
		}
	}
}

// logFields are the scalar fields of a log record, as both the protobuf-go
// and the wire path read them.
type logFields struct {
	time, observed uint64
	severityText   string
	severityNumber int32
	flags          uint32
	traceID        []byte
	spanID         []byte
}

// log encodes one log record as event.LogData.
func (b *batch) log(lr *logspb.LogRecord, key string) {
	f := logFields{
		time: lr.GetTimeUnixNano(), observed: lr.GetObservedTimeUnixNano(),
		severityText: lr.GetSeverityText(), severityNumber: int32(lr.GetSeverityNumber()),
		flags: lr.GetFlags(), traceID: lr.GetTraceId(), spanID: lr.GetSpanId(),
	}
	b.logHead(&f)
	var err error
	if b.buf, err = b.w.appendValue(b.buf, lr.GetBody(), 0); err != nil {
		b.fail(err, 1)
		return
	}
	b.logMiddle(&f)
	if err := b.appendMerged(lr.GetAttributes()); err != nil {
		b.fail(err, 1)
		return
	}
	b.logTail(&f, key)
}

// logHead opens a log record and writes its fields up to "body":.
func (b *batch) logHead(f *logFields) {
	b.open()
	b.buf = append(b.buf, `{"timestamp":`...)
	b.buf = b.times.appendNanoTime(b.buf, f.timestamp())
	b.buf = append(b.buf, `,"severity":`...)
	b.buf = appendString(b.buf, severity(f.severityText, f.severityNumber))
	b.buf = append(b.buf, `,"body":`...)
}

// logMiddle writes the fields between the body and "attributes":.
func (b *batch) logMiddle(f *logFields) {
	b.buf = append(b.buf, `,"severity_number":`...)
	b.buf = strconv.AppendInt(b.buf, int64(f.severityNumber), 10)
	b.buf = append(b.buf, `,"flags":`...)
	b.buf = strconv.AppendUint(b.buf, uint64(f.flags), 10)
	b.buf = append(b.buf, `,"attributes":`...)
}

// logTail writes the ids and the scope after the attributes and closes the
// record.
func (b *batch) logTail(f *logFields, key string) {
	if !isZeroID(f.traceID) {
		b.buf = append(b.buf, `,"trace_id":`...)
		b.buf = appendHex(b.buf, f.traceID)
	}
	if !isZeroID(f.spanID) {
		b.buf = append(b.buf, `,"span_id":`...)
		b.buf = appendHex(b.buf, f.spanID)
	}
	b.appendScope()
	b.buf = append(b.buf, '}')
	b.close(key, f.timestamp(), 1)
}

// timestamp is the record's time, or its observed time when unset.
func (f *logFields) timestamp() uint64 {
	if f.time == 0 {
		return f.observed
	}
	return f.time
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
func severity(text string, number int32) string {
	if text != "" {
		return text
	}
	if number > 0 && int(number) < len(severityNames) {
		return severityNames[number]
	}
	return ""
}

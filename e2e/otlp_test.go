package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/proto"
)

// logLine is one log record a test sends.
type logLine struct {
	Service  string
	Body     string
	Severity string
	Time     time.Time
}

func strAttr(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

var severityNumbers = map[string]logspb.SeverityNumber{
	"INFO":  logspb.SeverityNumber_SEVERITY_NUMBER_INFO,
	"WARN":  logspb.SeverityNumber_SEVERITY_NUMBER_WARN,
	"ERROR": logspb.SeverityNumber_SEVERITY_NUMBER_ERROR,
}

// logsRequest groups lines by service into one OTLP export request, keeping
// their order within each service.
func logsRequest(lines []logLine) *collogspb.ExportLogsServiceRequest {
	req := &collogspb.ExportLogsServiceRequest{}
	byService := map[string]*logspb.ScopeLogs{}
	for _, l := range lines {
		sl, ok := byService[l.Service]
		if !ok {
			sl = &logspb.ScopeLogs{Scope: &commonpb.InstrumentationScope{Name: "driftlock-e2e"}}
			byService[l.Service] = sl
			req.ResourceLogs = append(req.ResourceLogs, &logspb.ResourceLogs{
				Resource:  &resourcepb.Resource{Attributes: []*commonpb.KeyValue{strAttr("service.name", l.Service)}},
				ScopeLogs: []*logspb.ScopeLogs{sl},
			})
		}
		sl.LogRecords = append(sl.LogRecords, &logspb.LogRecord{
			TimeUnixNano:         uint64(l.Time.UnixNano()),
			ObservedTimeUnixNano: uint64(l.Time.UnixNano()),
			SeverityText:         l.Severity,
			SeverityNumber:       severityNumbers[l.Severity],
			Body:                 &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: l.Body}},
			Attributes:           []*commonpb.KeyValue{strAttr("e2e.run", runID)},
		})
	}
	return req
}

// exportResult is ingest's answer to one OTLP/HTTP export.
type exportResult struct {
	Status     int
	RetryAfter time.Duration
	Response   *collogspb.ExportLogsServiceResponse
	Body       string
}

// postLogs sends req to ingest's /v1/logs as protobuf.
func postLogs(ctx context.Context, httpAddr string, req *collogspb.ExportLogsServiceRequest) (exportResult, error) {
	body, err := proto.Marshal(req)
	if err != nil {
		return exportResult{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+httpAddr+"/v1/logs", bytes.NewReader(body))
	if err != nil {
		return exportResult{}, err
	}
	hreq.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		return exportResult{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return exportResult{}, err
	}
	res := exportResult{Status: resp.StatusCode, Body: string(raw)}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		res.RetryAfter = time.Duration(s) * time.Second
	}
	if resp.StatusCode == http.StatusOK {
		res.Response = &collogspb.ExportLogsServiceResponse{}
		if err := proto.Unmarshal(raw, res.Response); err != nil {
			return res, fmt.Errorf("decode export response: %w", err)
		}
	}
	return res, nil
}

// sendUntilAcked retries one export, as an OTLP exporter does, until ingest
// answers 200 or ctx ends. It returns the number of attempts.
func sendUntilAcked(ctx context.Context, httpAddr string, req *collogspb.ExportLogsServiceRequest) (exportResult, int, error) {
	backoff := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		res, err := postLogs(ctx, httpAddr, req)
		if err == nil && res.Status == http.StatusOK {
			return res, attempt, nil
		}
		if err == nil && res.Status != http.StatusTooManyRequests && res.Status != http.StatusServiceUnavailable &&
			res.Status != http.StatusBadGateway && res.Status != http.StatusGatewayTimeout {
			return res, attempt, fmt.Errorf("export answered %d (not retryable): %s", res.Status, res.Body)
		}
		wait := max(backoff, res.RetryAfter)
		select {
		case <-ctx.Done():
			return res, attempt, fmt.Errorf("export not acknowledged before the deadline (last: %d %v)", res.Status, err)
		case <-time.After(wait):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

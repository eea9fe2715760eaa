package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
)

// injectedMarker is in the body of every injected error line.
const injectedMarker = "circuit breaker OPEN"

// seqAttr is the log attribute that numbers every scenario line.
const seqAttr = "e2e.seq"

var scenarioStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var logTemplates = []string{
	"GET /api/%s/items/%d 200 in %dms",
	"POST /api/%s/orders/%d 201 in %dms",
	"cache hit for %s key user:%d after %dms",
	"%s worker %d finished batch in %dms",
}

// burst is the range [From, To) of a stream's lines replaced by new errors.
type burst struct{ From, To int }

// scenario is steady logs of several services, interleaved as producers send
// them, with bursts of new error lines in some. It is deterministic.
type scenario struct {
	Services  []string
	PerStream int
	Bursts    map[string]burst
}

// requests cuts the scenario into OTLP export requests of rounds lines per
// service each; every line carries its sequence number in seqAttr.
func (s scenario) requests(rounds int) []*collogspb.ExportLogsServiceRequest {
	rng := rand.New(rand.NewPCG(7, 11))
	var reqs []*collogspb.ExportLogsServiceRequest
	var lines []logLine
	seq := 0
	for i := range s.PerStream {
		for _, svc := range s.Services {
			lines = append(lines, s.line(rng, svc, i))
		}
		if (i+1)%rounds == 0 || i == s.PerStream-1 {
			req := logsRequest(lines)
			for _, rl := range req.ResourceLogs {
				for _, lr := range rl.ScopeLogs[0].LogRecords {
					lr.Attributes = append(lr.Attributes, &commonpb.KeyValue{Key: seqAttr,
						Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: strconv.Itoa(seq)}}})
					seq++
				}
			}
			reqs = append(reqs, req)
			lines = nil
		}
	}
	return reqs
}

func (s scenario) line(rng *rand.Rand, svc string, i int) logLine {
	ts := scenarioStart.Add(time.Duration(i) * time.Second)
	body := fmt.Sprintf(logTemplates[rng.IntN(len(logTemplates))], svc, rng.IntN(5000), 5+rng.IntN(60))
	if b, ok := s.Bursts[svc]; ok && b.From <= i && i < b.To {
		body = fmt.Sprintf("ERROR %s: upstream payment-gateway unreachable (%s, retry %d): dial tcp 10.0.%d.%d:443: connection refused",
			svc, injectedMarker, rng.IntN(9), rng.IntN(255), rng.IntN(255))
		return logLine{Service: svc, Body: body, Severity: "ERROR", Time: ts}
	}
	return logLine{Service: svc, Body: body, Severity: "INFO", Time: ts}
}

// total is the number of log records of the scenario.
func (s scenario) total() int { return len(s.Services) * s.PerStream }

// sendAll sends reqs in order, each retried until acknowledged, pausing pace
// between requests; hooks[i] runs before request i. It returns the
// sequence numbers acknowledged.
func sendAll(t *testing.T, in *ingest, reqs []*collogspb.ExportLogsServiceRequest, pace time.Duration, hooks map[int]func()) map[string]bool {
	t.Helper()
	acked := map[string]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	retried := 0
	for i, req := range reqs {
		if h := hooks[i]; h != nil {
			h()
		}
		res, attempts, err := sendUntilAcked(ctx, in.HTTP, req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if ps := res.Response.GetPartialSuccess(); ps.GetRejectedLogRecords() != 0 {
			t.Fatalf("request %d: %d records rejected: %s", i, ps.GetRejectedLogRecords(), ps.GetErrorMessage())
		}
		retried += attempts - 1
		for _, rl := range req.ResourceLogs {
			for _, lr := range rl.ScopeLogs[0].LogRecords {
				acked[lr.Attributes[len(lr.Attributes)-1].Value.GetStringValue()] = true
			}
		}
		time.Sleep(pace)
	}
	t.Logf("sent %d requests, %d acknowledged records, %d retried attempts", len(reqs), len(acked), retried)
	return acked
}

// checkAcked reads the events topic and fails t for every acknowledged
// record missing from it; it returns the records read.
func checkAcked(t *testing.T, topic string, acked map[string]bool) []record {
	t.Helper()
	recs := waitStable(t, topic, waitRecords(t, topic, len(acked), 60*time.Second))
	seen := map[string]int{}
	for _, r := range recs {
		ev, err := checkEvent(t, r, eventService(r))
		if err != nil {
			t.Fatal(err)
		}
		data, _ := ev["data"].(map[string]any)
		attrs, _ := data["attributes"].(map[string]any)
		seen[fmt.Sprint(attrs[seqAttr])]++
	}
	missing, dups := 0, 0
	for seq := range acked {
		if seen[seq] == 0 {
			missing++
		}
		if seen[seq] > 1 {
			dups++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged records missing from %s", missing, len(acked), topic)
	}
	t.Logf("%s: %d records, every acknowledged one present (%d written more than once)", topic, len(recs), dups)
	return recs
}

// eventService is the service named by a record's header.
func eventService(r record) string { return r.Header("service.name") }

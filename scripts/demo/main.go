// Command demo sends a steady stream of log records for one service to a
// DriftLock ingest over OTLP/HTTP, then a burst of new error lines, and a
// request-latency gauge whose values jump for a while, so that the console
// shows both kinds of anomaly a few seconds later: event anomalies at the
// burst's first error line and at the latency jump (with its chart), and
// window anomalies as the burst's windows are judged.
//
//	go run ./scripts/demo [-endpoint http://localhost:4318] [-steady 3000] [-burst 400] [-after 600] [-points 600]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"
)

var steadyTemplates = []string{
	"GET /api/cart/%d 200 in %dms",
	"GET /api/products/%d 200 in %dms",
	"POST /api/checkout/%d 201 in %dms",
	"cache hit for session %d after %dms",
	"payment authorised for order %d in %dms",
}

func main() {
	endpoint := flag.String("endpoint", "http://localhost:4318", "OTLP/HTTP endpoint of DriftLock ingest")
	service := flag.String("service", "checkout", "service.name of the records")
	steady := flag.Int("steady", 3000, "steady log records to send first")
	burst := flag.Int("burst", 400, "records of the burst that follows")
	after := flag.Int("after", 600, "steady log records after the burst (they close its incident)")
	batch := flag.Int("batch", 100, "records per request")
	points := flag.Int("points", 600, "latency gauge points (the last sixth jump)")
	flag.Parse()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	total := *steady + *burst + *after
	for i := 0; i < total; i += *batch {
		var recs []map[string]any
		for j := i; j < min(i+*batch, total); j++ {
			recs = append(recs, record(j, j >= *steady && j < *steady+*burst, start))
		}
		if err := send(*endpoint, *service, recs); err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
			os.Exit(1)
		}
	}
	fmt.Printf("sent %d steady, %d burst and %d steady log records for %s\n", *steady, *burst, *after, *service)
	for i := 0; i < *points; i += *batch {
		var pts []map[string]any
		for j := i; j < min(i+*batch, *points); j++ {
			pts = append(pts, point(j, j >= *points*5/6, start))
		}
		if err := sendMetrics(*endpoint, *service, pts); err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
			os.Exit(1)
		}
	}
	fmt.Printf("sent %d points of the gauge http.server.duration for %s\n", *points, *service)
}

// point is one gauge point, one per second: a latency around 120 ms with a
// daily-free wobble, or about four times that once it jumps.
func point(i int, jumped bool, start time.Time) map[string]any {
	v := 120 + float64(i*37%23) - 11
	if jumped {
		v = 480 + float64(i*29%31) - 15
	}
	return map[string]any{
		"timeUnixNano": fmt.Sprint(start.Add(time.Duration(i) * time.Second).UnixNano()),
		"asDouble":     v,
	}
}

func record(i int, anomalous bool, start time.Time) map[string]any {
	sev, body := "INFO", fmt.Sprintf(steadyTemplates[i%len(steadyTemplates)], 1000+i*7%9000, 5+i*13%90)
	if anomalous && i%2 == 0 {
		sev, body = "ERROR", fmt.Sprintf("connection pool exhausted: 0 of 50 connections free, waited %dms for db-primary", 900+i%300)
	}
	return map[string]any{
		"timeUnixNano": fmt.Sprint(start.Add(time.Duration(i) * 100 * time.Millisecond).UnixNano()),
		"severityText": sev,
		"body":         map[string]any{"stringValue": body},
	}
}

func resource(service string) map[string]any {
	return map[string]any{"attributes": []any{map[string]any{"key": "service.name", "value": map[string]any{"stringValue": service}}}}
}

func send(endpoint, service string, recs []map[string]any) error {
	return post(endpoint+"/v1/logs", map[string]any{"resourceLogs": []any{map[string]any{
		"resource":  resource(service),
		"scopeLogs": []any{map[string]any{"logRecords": recs}},
	}}})
}

// sendMetrics sends each point as its own export of the gauge, as an SDK
// exporting every second would, so that each becomes one event.
func sendMetrics(endpoint, service string, pts []map[string]any) error {
	metrics := make([]any, 0, len(pts))
	for _, p := range pts {
		metrics = append(metrics, map[string]any{
			"name": "http.server.duration", "unit": "ms",
			"gauge": map[string]any{"dataPoints": []any{p}},
		})
	}
	return post(endpoint+"/v1/metrics", map[string]any{"resourceMetrics": []any{map[string]any{
		"resource":     resource(service),
		"scopeMetrics": []any{map[string]any{"metrics": metrics}},
	}}})
}

// post sends one OTLP/JSON request and wants 200.
func post(url string, req map[string]any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ingest answered %s", resp.Status)
	}
	return nil
}

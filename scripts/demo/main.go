// Command demo sends a steady stream of log records for one service to a
// DriftLock ingest over OTLP/HTTP, then a burst of new error lines, so that
// the console shows an anomaly a few seconds later.
//
//	go run ./scripts/demo [-endpoint http://localhost:4318] [-steady 3000] [-burst 400]
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
	batch := flag.Int("batch", 100, "records per request")
	flag.Parse()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	total := *steady + *burst
	for i := 0; i < total; i += *batch {
		var recs []map[string]any
		for j := i; j < min(i+*batch, total); j++ {
			recs = append(recs, record(j, j >= *steady, start))
		}
		if err := send(*endpoint, *service, recs); err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
			os.Exit(1)
		}
	}
	fmt.Printf("sent %d steady and %d burst log records for %s\n", *steady, *burst, *service)
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

func send(endpoint, service string, recs []map[string]any) error {
	req := map[string]any{"resourceLogs": []any{map[string]any{
		"resource":  map[string]any{"attributes": []any{map[string]any{"key": "service.name", "value": map[string]any{"stringValue": service}}}},
		"scopeLogs": []any{map[string]any{"logRecords": recs}},
	}}}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	resp, err := http.Post(endpoint+"/v1/logs", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ingest answered %s", resp.Status)
	}
	return nil
}

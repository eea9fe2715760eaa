package detector

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/event"
)

// injectedMarker is in the body of every injected error line.
const injectedMarker = "circuit breaker OPEN"

var scenarioStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// scenario builds the input of the end-to-end tests: steady logs of three
// services (one per partition) with bursts of new error lines injected at
// different times, and a latency metric whose level shifts. Streams
// are interleaved as producers would send them. It is deterministic.
func scenario(perStream int) []kafka.Message {
	return scenarioOf(perStream, func(string) bool { return true })
}

// scenarioOf builds the scenario's streams whose key keep accepts.
func scenarioOf(perStream int, keep func(key string) bool) []kafka.Message {
	rng := rand.New(rand.NewPCG(7, 11))
	burst := func(i int, at ...float64) bool {
		for _, a := range at {
			if float64(i) >= a*float64(perStream) && float64(i) < (a+0.1)*float64(perStream) {
				return true
			}
		}
		return false
	}
	type gen struct {
		key  string
		next func(i int) event.Event
	}
	gens := []gen{
		{"payments|log", func(i int) event.Event { return logEvent(rng, "payments", i, burst(i, 0.6)) }},
		{"cart|log", func(i int) event.Event { return logEvent(rng, "cart", i, burst(i, 0.55)) }},
		{"checkout|log", func(i int) event.Event { return logEvent(rng, "checkout", i, burst(i, 0.65, 0.85)) }},
		{"checkout|metric|http.server.duration", func(i int) event.Event {
			level := 120.0
			if i >= perStream/2 {
				level = 480
			}
			return gaugeEvent("checkout", "http.server.duration", i, level+rng.NormFloat64()*4)
		}},
	}
	gens = slices.DeleteFunc(gens, func(g gen) bool { return !keep(g.key) })
	var out []kafka.Message
	for i := range perStream {
		for _, g := range gens {
			ev := g.next(i)
			value, _ := json.Marshal(ev)
			out = append(out, kafka.Message{Key: []byte(g.key), Value: value, Headers: []kafka.Header{
				{Key: event.HeaderEventType, Value: []byte(ev.Type)},
				{Key: event.HeaderContentType, Value: []byte(event.ContentTypeJSON)},
			}})
		}
	}
	return out
}

var logTemplates = []string{
	"GET /api/%s/items/%d 200 in %dms",
	"POST /api/%s/orders/%d 201 in %dms",
	"cache hit for %s key user:%d after %dms",
	"%s worker %d finished batch in %dms",
}

func logEvent(rng *rand.Rand, service string, i int, inject bool) event.Event {
	ts := scenarioStart.Add(time.Duration(i) * time.Second)
	body := fmt.Sprintf(logTemplates[rng.IntN(len(logTemplates))], service, rng.IntN(5000), 5+rng.IntN(60))
	severity, num := "INFO", int32(9)
	if inject {
		body = fmt.Sprintf("ERROR %s: upstream payment-gateway unreachable (%s, retry %d): dial tcp 10.0.%d.%d:443: connection refused",
			service, injectedMarker, rng.IntN(9), rng.IntN(255), rng.IntN(255))
		severity, num = "ERROR", 17
	}
	data, _ := json.Marshal(event.LogData{
		Timestamp: event.FormatNanos(ts), Severity: severity, SeverityNumber: num, Body: body,
		Attributes: map[string]any{"service.name": service, "host.name": "node-1"},
	})
	return event.Event{Type: event.TypeLog, Data: data, Timestamp: event.FormatTimestamp(ts), Source: "otlp"}
}

func gaugeEvent(service, name string, i int, v float64) event.Event {
	ts := scenarioStart.Add(time.Duration(i) * time.Second)
	data, _ := json.Marshal(event.MetricData{
		Name: name, Unit: "ms", Type: "gauge",
		Gauge: []event.NumberPoint{{
			Timestamp: event.FormatNanos(ts), Value: json.Number(fmt.Sprintf("%.3f", v)),
			Attributes: map[string]any{"service.name": service},
		}},
	})
	return event.Event{Type: event.TypeMetric, Data: data, Timestamp: event.FormatTimestamp(ts), Source: "otlp"}
}

// isInjected reports whether an otlp-events value is an injected error line.
func isInjected(value []byte) bool { return strings.Contains(string(value), injectedMarker) }

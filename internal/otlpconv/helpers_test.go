package otlpconv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/driftlock/driftlock/internal/event"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// mustMarshal is the protobuf encoding of m.
func mustMarshal(tb testing.TB, m proto.Message) []byte {
	tb.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// testLimits are the ingest defaults.
var testLimits = Limits{MaxRecordBytes: 1_000_000, MaxAttributes: 128, MaxAttributeDepth: 8}

const testSource = "otlp-http"

// converted is the outcome of decoding and converting one request body.
type converted struct {
	recs    []Record
	rejects []Rejection
	refs    []refRecord // the encoding/json reference, limits ignored
}

// convertBody decodes body as a request of signal (logs, metrics, traces)
// and converts it with c.
func convertBody(c *Converter, signal string, body []byte, isJSON bool) (converted, error) {
	var out converted
	switch signal {
	case "logs":
		req, err := DecodeLogs(body, isJSON)
		if err != nil {
			return out, err
		}
		out.recs, out.rejects = c.Logs(req, testSource)
		out.refs = refLogs(req, testSource)
	case "metrics":
		req, err := DecodeMetrics(body, isJSON)
		if err != nil {
			return out, err
		}
		out.recs, out.rejects = c.Metrics(req, testSource)
		out.refs = refMetrics(req, testSource)
	case "traces":
		req, err := DecodeTraces(body, isJSON)
		if err != nil {
			return out, err
		}
		out.recs, out.rejects = c.Traces(req, testSource)
		out.refs = refTraces(req, testSource)
	default:
		return out, fmt.Errorf("unknown signal %q", signal)
	}
	return out, nil
}

// checkRecord verifies that a record is a valid otlp-events value whose data
// unmarshals into the typed struct of its type without unknown fields.
func checkRecord(r Record) error {
	ev, err := event.Decode(r.Value)
	if err != nil {
		return err
	}
	if ev.Type != r.Type || ev.Source != r.Source {
		return fmt.Errorf("record type/source %s/%s, value says %s/%s", r.Type, r.Source, ev.Type, ev.Source)
	}
	var data any
	switch ev.Type {
	case event.TypeLog:
		data = &event.LogData{}
	case event.TypeMetric:
		data = &event.MetricData{}
	case event.TypeSpan:
		data = &event.SpanData{}
	}
	dec := json.NewDecoder(bytes.NewReader(ev.Data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(data); err != nil {
		return fmt.Errorf("data does not fit %T: %w", data, err)
	}
	service, signal, metric, err := event.ParseStreamKey(r.Key)
	if err != nil {
		return err
	}
	if service != strings.ReplaceAll(r.Service, "|", "_") || signal != r.Type {
		return fmt.Errorf("key %q does not match service %q type %s", r.Key, r.Service, r.Type)
	}
	if md, ok := data.(*event.MetricData); ok && md.Name != metric && md.Name != "" {
		return fmt.Errorf("key %q does not match metric %q", r.Key, md.Name)
	}
	return nil
}

// compareReference checks that every record equals the reference encoding
// when nothing but dropped points was rejected.
func compareReference(c converted) error {
	for _, rj := range c.rejects {
		if rj.Reason != "invalid" {
			return nil // a limit removed records: nothing to line up
		}
	}
	if len(c.recs) != len(c.refs) {
		return fmt.Errorf("%d records, reference has %d", len(c.recs), len(c.refs))
	}
	for i, r := range c.recs {
		if r.Key != c.refs[i].key {
			return fmt.Errorf("record %d: key %q, reference %q", i, r.Key, c.refs[i].key)
		}
		if !bytes.Equal(r.Value, c.refs[i].value) {
			return fmt.Errorf("record %d differs from encoding/json:\n got %s\nwant %s", i, r.Value, c.refs[i].value)
		}
	}
	return nil
}

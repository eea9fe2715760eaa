package otlpconv

import (
	"bytes"
	"strings"
	"testing"
)

func TestDecodeJSONHexIDs(t *testing.T) {
	body := `{"resourceSpans":[{"scopeSpans":[{"spans":[{
		"traceId" : "0102030405060708090A0B0C0D0E0F10",
		"span\u0049d": "a1a2a3a4a5a6a7a8",
		"parentSpanId": null,
		"name": "s", "kind": "SPAN_KIND_CLIENT",
		"attributes": [{"key": "traceId", "value": {"stringValue": "not an id"}}],
		"links": [{"traceId": "ffffffffffffffffffffffffffffffff", "spanId": "0000000000000001"}],
		"status": {"code": 1}
	}]}]}]}`
	req, err := DecodeTraces([]byte(body), true)
	if err != nil {
		t.Fatal(err)
	}
	sp := req.ResourceSpans[0].ScopeSpans[0].Spans[0]
	if want := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}; !bytes.Equal(sp.TraceId, want) {
		t.Errorf("trace id %x", sp.TraceId)
	}
	if want := []byte{0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8}; !bytes.Equal(sp.SpanId, want) {
		t.Errorf("span id %x", sp.SpanId)
	}
	if sp.ParentSpanId != nil || sp.Kind != 3 || sp.Status.GetCode() != 1 {
		t.Errorf("parent %x kind %v status %v", sp.ParentSpanId, sp.Kind, sp.Status)
	}
	if got := sp.Attributes[0].Value.GetStringValue(); got != "not an id" {
		t.Errorf("attribute value rewritten: %q", got)
	}
	if l := sp.Links[0]; !bytes.Equal(l.TraceId, bytes.Repeat([]byte{0xff}, 16)) || !bytes.Equal(l.SpanId, []byte{0, 0, 0, 0, 0, 0, 0, 1}) {
		t.Errorf("link ids %x %x", l.TraceId, l.SpanId)
	}
}

func TestDecodeJSONExemplarAndLogIDs(t *testing.T) {
	body := `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","gauge":{"dataPoints":[
		{"asInt":"1","exemplars":[{"asDouble":1,"traceId":"000102030405060708090a0b0c0d0e0f","spanId":"0001020304050607"}]}]}}]}]}]}`
	req, err := DecodeMetrics([]byte(body), true)
	if err != nil {
		t.Fatal(err)
	}
	ex := req.ResourceMetrics[0].ScopeMetrics[0].Metrics[0].GetGauge().DataPoints[0].Exemplars[0]
	if ex.TraceId[15] != 0x0f || ex.SpanId[7] != 0x07 {
		t.Errorf("exemplar ids %x %x", ex.TraceId, ex.SpanId)
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name, signal, body string
		isJSON             bool
		want               string
	}{
		{"base64 id", "logs", `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"W47/95gDgQPSabYzgT/GDA=="}]}]}]}`, true,
			`invalid OTLP/JSON logs request: "traceId": id "W47/95gDgQPSabYzgT/GDA==" is not hex`},
		{"odd hex", "traces", `{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"abc"}]}]}]}`, true,
			`invalid OTLP/JSON traces request: "spanId": id "abc" is not hex`},
		{"not JSON", "metrics", `{"resourceMetrics": [`, true, "invalid OTLP/JSON metrics request: "},
		{"wrong type", "logs", `{"resourceLogs": 5}`, true, "invalid OTLP/JSON logs request: "},
		{"unknown enum name", "traces", `{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_NOPE"}]}]}]}`, true,
			`invalid OTLP/JSON traces request: "kind": unknown SpanKind "SPAN_KIND_NOPE": use a number or a name such as "SPAN_KIND_INTERNAL"`},
		{"severity number not a number", "logs", `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber": "loud"}]}]}]}`, true,
			`invalid OTLP/JSON logs request: "severityNumber": unknown SeverityNumber "loud": use a number or a name such as "SEVERITY_NUMBER_TRACE"`},
		{"unknown temporality", "metrics", `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","sum":{"aggregationTemporality":"SOMETIMES"}}]}]}]}`, true,
			`invalid OTLP/JSON metrics request: "aggregationTemporality": unknown AggregationTemporality "SOMETIMES": use a number or a name such as "AGGREGATION_TEMPORALITY_DELTA"`},
		{"known enum names", "traces", `{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_SERVER","status":{"code":"STATUS_CODE_ERROR"}}]}]}]}`, true, ""},
		{"enum numbers", "logs", `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber": 17}]}]}]}`, true, ""},
		{"bad protobuf", "metrics", "\x0a\x05\x01", false, "invalid OTLP/protobuf metrics request: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := convertBody(New(testLimits), tc.signal, []byte(tc.body), tc.isJSON)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if strings.HasSuffix(tc.want, ": ") && !strings.HasPrefix(err.Error(), tc.want) || !strings.HasSuffix(tc.want, ": ") && err.Error() != tc.want {
				t.Errorf("error %q, want %q", err, tc.want)
			}
		})
	}
}

func TestDecodeProtobufRejectsInvalidUTF8(t *testing.T) {
	// ExportLogsServiceRequest{resource_logs{resource{attributes{key:"\xff"}}}}
	body := []byte{0x0a, 0x07, 0x0a, 0x05, 0x0a, 0x03, 0x0a, 0x01, 0xff}
	_, err := DecodeLogs(body, false)
	if err == nil || !strings.HasPrefix(err.Error(), "invalid OTLP/protobuf logs request: ") || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("error %v, want an invalid UTF-8 error", err)
	}
}

func TestDecodeJSONIgnoresUnknownFieldsAndAcceptsNumbers(t *testing.T) {
	body := `{"resourceLogs":[{"futureField":{"x":[1,2]},"scopeLogs":[{"logRecords":[
		{"timeUnixNano": 1700000000000000000, "severityNumber": 9, "flags": 1, "body": {"intValue": 7}}]}]}],"extra":true}`
	req, err := DecodeLogs([]byte(body), true)
	if err != nil {
		t.Fatal(err)
	}
	lr := req.ResourceLogs[0].ScopeLogs[0].LogRecords[0]
	if lr.TimeUnixNano != 1700000000000000000 || lr.SeverityNumber != 9 || lr.Body.GetIntValue() != 7 {
		t.Errorf("record %v", lr)
	}
}

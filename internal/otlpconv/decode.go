package otlpconv

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// DecodeLogs decodes an OTLP/HTTP logs request body: protobuf, or OTLP/JSON
// when isJSON is set. OTLP/JSON is read as the specification says: trace and
// span ids in hex (not protojson's base64), enums by name or number, 64-bit
// integers as strings or numbers; unknown fields are ignored, an unknown
// enum name is an error. Strings must be valid UTF-8 in either encoding. Errors read
// "invalid OTLP/JSON logs request: ..." (or OTLP/protobuf).
func DecodeLogs(body []byte, isJSON bool) (*collogspb.ExportLogsServiceRequest, error) {
	req := &collogspb.ExportLogsServiceRequest{}
	return req, decode(body, isJSON, "logs", req)
}

// DecodeMetrics decodes an OTLP/HTTP metrics request body.
func DecodeMetrics(body []byte, isJSON bool) (*colmetricspb.ExportMetricsServiceRequest, error) {
	req := &colmetricspb.ExportMetricsServiceRequest{}
	return req, decode(body, isJSON, "metrics", req)
}

// DecodeTraces decodes an OTLP/HTTP traces request body.
func DecodeTraces(body []byte, isJSON bool) (*coltracepb.ExportTraceServiceRequest, error) {
	req := &coltracepb.ExportTraceServiceRequest{}
	return req, decode(body, isJSON, "traces", req)
}

// jsonOptions reads OTLP/JSON: unknown fields are ignored, as the
// specification asks of receivers.
var jsonOptions = protojson.UnmarshalOptions{DiscardUnknown: true}

func decode(body []byte, isJSON bool, signal string, req proto.Message) error {
	if !isJSON {
		if err := proto.Unmarshal(body, req); err != nil {
			return fmt.Errorf("invalid OTLP/protobuf %s request: %w", signal, err)
		}
		return nil
	}
	body, err := hexIDsToBase64(body)
	if err == nil {
		err = jsonOptions.Unmarshal(body, req)
	}
	if err != nil {
		return fmt.Errorf("invalid OTLP/JSON %s request: %w", signal, err)
	}
	return nil
}

// idKeys are the object keys whose values are trace or span ids, which
// OTLP/JSON writes in hex where protojson expects base64. Attribute keys
// cannot collide: OTLP/JSON spells them as {"key": ..., "value": ...}.
var idKeys = map[string]bool{
	"traceId": true, "spanId": true, "parentSpanId": true,
	"trace_id": true, "span_id": true, "parent_span_id": true,
}

// hexIDsToBase64 rewrites the hex id strings of an OTLP/JSON body as base64.
// It only tokenizes strings; everything else is left to protojson, which
// validates the result. The body is returned as is when it holds no ids.
func hexIDsToBase64(body []byte) ([]byte, error) {
	var out []byte // nil until the first rewrite
	copied := 0    // body[:copied] is already in out
	for i := 0; i < len(body); i++ {
		if body[i] != '"' {
			continue
		}
		end, ok := stringEnd(body, i)
		if !ok {
			return body, nil // unterminated: protojson says what is wrong
		}
		key := body[i : end+1]
		j := skipSpace(body, end+1)
		if j >= len(body) || body[j] != ':' {
			i = end
			continue
		}
		enum := enumOf(key)
		if enum == nil && !isIDKey(key) {
			i = end
			continue
		}
		v := skipSpace(body, j+1)
		if v >= len(body) || body[v] != '"' {
			i = j
			continue
		}
		vend, ok := stringEnd(body, v)
		if !ok {
			return body, nil
		}
		if enum != nil {
			if err := checkEnumName(enum, body[v:vend+1]); err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			i = vend
			continue
		}
		b64, err := hexToBase64(body[v : vend+1])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		out = append(append(out, body[copied:v]...), b64...)
		copied = vend + 1
		i = vend
	}
	if out == nil {
		return body, nil
	}
	return append(out, body[copied:]...), nil
}

// stringEnd returns the index of the quote closing the string opened at i.
func stringEnd(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j, true
		}
	}
	return 0, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// isIDKey reports whether the quoted key names an id field, unescaping it
// if it holds escapes.
func isIDKey(quoted []byte) bool {
	if idKeys[string(quoted[1:len(quoted)-1])] {
		return true
	}
	for _, c := range quoted {
		if c == '\\' {
			var u string
			return json.Unmarshal(quoted, &u) == nil && idKeys[u]
		}
	}
	return false
}

// enumKeys are the object keys of OTLP's enum fields. protojson takes an
// enum by name or number and, ignoring unknown fields, would read an
// unknown name as 0; an unknown name is bad input instead.
var enumKeys = map[string]protoreflect.EnumDescriptor{
	"severityNumber":          logspb.SeverityNumber(0).Descriptor(),
	"severity_number":         logspb.SeverityNumber(0).Descriptor(),
	"kind":                    tracepb.Span_SpanKind(0).Descriptor(),
	"code":                    tracepb.Status_StatusCode(0).Descriptor(),
	"aggregationTemporality":  metricspb.AggregationTemporality(0).Descriptor(),
	"aggregation_temporality": metricspb.AggregationTemporality(0).Descriptor(),
}

// enumOf returns the enum of the quoted key, or nil.
func enumOf(quoted []byte) protoreflect.EnumDescriptor {
	if e, ok := enumKeys[string(quoted[1:len(quoted)-1])]; ok {
		return e
	}
	if bytes.IndexByte(quoted, '\\') >= 0 {
		var u string
		if json.Unmarshal(quoted, &u) == nil {
			return enumKeys[u]
		}
	}
	return nil
}

// checkEnumName checks that a quoted enum value names a value of e.
func checkEnumName(e protoreflect.EnumDescriptor, quoted []byte) error {
	var name string
	if err := json.Unmarshal(quoted, &name); err != nil {
		return fmt.Errorf("value %s is not a JSON string: %w", quoted, err)
	}
	if e.Values().ByName(protoreflect.Name(name)) == nil {
		return fmt.Errorf("unknown %s %q: use a number or a name such as %q", e.Name(), name, e.Values().Get(min(1, e.Values().Len()-1)).Name())
	}
	return nil
}

// hexToBase64 converts a quoted hex id to a quoted base64 one.
func hexToBase64(quoted []byte) ([]byte, error) {
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return nil, fmt.Errorf("id %s is not a JSON string: %w", quoted, err)
	}
	id, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("id %q is not hex", s)
	}
	out := append(make([]byte, 0, base64.StdEncoding.EncodedLen(len(id))+2), '"')
	out = base64.StdEncoding.AppendEncode(out, id)
	return append(out, '"'), nil
}

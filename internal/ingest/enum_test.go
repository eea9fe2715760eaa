package ingest

import (
	"net/http"
	"strings"
	"testing"
)

// TestHTTPUnknownEnumName: an OTLP/JSON enum given as an unknown name is
// answered 400 with a message naming the field, not read as 0.
func TestHTTPUnknownEnumName(t *testing.T) {
	h := startHarness(t, nil)
	body := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"loud","body":{"stringValue":"x"}}]}]}]}`
	code, out, _ := h.post("/v1/logs", contentTypeJSON, []byte(body), nil)
	if code != http.StatusBadRequest || !strings.Contains(string(out), `unknown SeverityNumber \"loud\"`) {
		t.Fatalf("POST = %d %s, want 400 naming the severity number", code, out)
	}
}

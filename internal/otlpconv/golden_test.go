package otlpconv

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"google.golang.org/protobuf/proto"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden.json files")

// goldenCases are the OTLP/JSON requests under testdata, by signal.
var goldenCases = []struct{ name, signal string }{
	{"logs", "logs"},
	{"metrics_gauge", "metrics"},
	{"metrics_sum", "metrics"},
	{"metrics_histogram", "metrics"},
	{"metrics_exponential_histogram", "metrics"},
	{"metrics_summary", "metrics"},
	{"traces", "traces"},
}

// renderGolden writes records one per line, values verbatim, so the file
// pins their exact bytes and stays valid JSON.
func renderGolden(c converted) []byte {
	var b bytes.Buffer
	b.WriteString("{\"records\": [\n")
	for i, r := range c.recs {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(`{"key": ` + strconv.Quote(r.Key) + `, "value": `)
		b.Write(r.Value)
		b.WriteString("}")
	}
	b.WriteString("\n],\n\"rejections\": [")
	for i, rj := range c.rejects {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n" + `{"reason": ` + strconv.Quote(rj.Reason) + `, "items": ` + strconv.Itoa(rj.Items) + `, "message": ` + strconv.Quote(rj.Message) + "}")
	}
	b.WriteString("\n]}\n")
	return b.Bytes()
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := convertBody(New(testLimits), tc.signal, readTestdata(t, tc.name+".json"), true)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.recs) == 0 {
				t.Fatal("no records")
			}
			for i, r := range got.recs {
				if err := checkRecord(r); err != nil {
					t.Errorf("record %d: %v", i, err)
				}
			}
			if err := compareReference(got); err != nil {
				t.Error(err)
			}
			out := renderGolden(got)
			path := filepath.Join("testdata", tc.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if want := readTestdata(t, tc.name+".golden.json"); !bytes.Equal(out, want) {
				t.Errorf("output differs from %s (run with -update to accept):\n%s", path, out)
			}
		})
	}
}

// TestGoldenProtobuf checks that the same requests sent as protobuf give the
// same records.
func TestGoldenProtobuf(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			body := protoBody(t, tc.signal, readTestdata(t, tc.name+".json"))
			got, err := convertBody(New(testLimits), tc.signal, body, false)
			if err != nil {
				t.Fatal(err)
			}
			want := readTestdata(t, tc.name+".golden.json")
			if out := renderGolden(got); !bytes.Equal(out, want) {
				t.Errorf("protobuf output differs from JSON output:\n%s", out)
			}
		})
	}
}

// protoBody re-encodes an OTLP/JSON request as protobuf.
func protoBody(t testing.TB, signal string, jsonBody []byte) []byte {
	t.Helper()
	var msg proto.Message
	var err error
	switch signal {
	case "logs":
		msg, err = DecodeLogs(jsonBody, true)
	case "metrics":
		msg, err = DecodeMetrics(jsonBody, true)
	default:
		msg, err = DecodeTraces(jsonBody, true)
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go/compress"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/driftlock/driftlock/internal/event"
	"github.com/driftlock/driftlock/internal/otlpconv"
)

var codecNames = []string{"none", "gzip", "snappy", "lz4", "zstd"}

func codecOf(t testing.TB, name string) compress.Codec {
	t.Helper()
	var c compress.Compression
	if err := c.UnmarshalText([]byte(name)); err != nil {
		t.Fatal(err)
	}
	return c.Codec()
}

// testRecords are records of varied shapes: empty and long values (two-
// and three-byte varint lengths), several keys, non-ASCII text.
func testRecords() []otlpconv.Record {
	return []otlpconv.Record{
		{Key: "checkout|log", Value: []byte(`{"type":"log"}`), Type: event.TypeLog, Service: "checkout", Source: sourceGRPC},
		{Key: "checkout|log", Value: []byte(`{"type":"log","n":2}`), Type: event.TypeLog, Service: "checkout", Source: sourceGRPC},
		{Key: "checkout|log", Value: []byte(`{}`), Type: event.TypeLog, Service: "checkout", Source: sourceHTTP},
		{Key: "checkout|log", Value: []byte(`{}`), Type: event.TypeSpan, Service: "checkout", Source: sourceHTTP},
		{Key: "checkout|log", Value: []byte(`{}`), Type: event.TypeSpan, Service: "kasse", Source: sourceHTTP},
		{Key: "checkout|metric|http.server.duration", Value: []byte{}, Type: event.TypeMetric, Service: "checkout", Source: sourceHTTP},
		{Key: "", Value: []byte(strings.Repeat("v", 200)), Type: event.TypeSpan, Service: "", Source: sourceGRPC},
		{Key: "zahlung|log", Value: []byte(strings.Repeat("größe ", 4000)), Type: event.TypeLog, Service: "zahlung", Source: sourceHTTP},
		{Key: "zahlung|log", Value: []byte(`{}`), Type: event.TypeLog, Service: "zahlung", Source: sourceHTTP, Client: "ci"},
		{Key: "zahlung|log", Value: []byte(`{"n":2}`), Type: event.TypeLog, Service: "zahlung", Source: sourceHTTP, Client: "ci"},
		{Key: "zahlung|log", Value: []byte(`{}`), Type: event.TypeLog, Service: "zahlung", Source: sourceHTTP, Client: "batch-job"},
		{Key: "zahlung|log", Value: []byte(`{}`), Type: event.TypeLog, Service: "zahlung", Source: sourceHTTP},
	}
}

// decodeRecordSet reads a record set with kafka-go's decoder, which also
// checks the CRC, and returns its records.
func decodeRecordSet(t testing.TB, payload []byte) (protocol.Attributes, []*protocol.Record) {
	t.Helper()
	var rs protocol.RecordSet
	n, err := rs.ReadFrom(bytes.NewReader(payload))
	if err != nil || n != int64(len(payload)) {
		t.Fatalf("kafka-go read %d of %d bytes: %v", n, len(payload), err)
	}
	var out []*protocol.Record
	for {
		r, err := rs.Records.ReadRecord()
		if errors.Is(err, io.EOF) {
			return rs.Attributes, out
		}
		if err != nil {
			t.Fatal(err)
		}
		cp := *r
		out = append(out, &cp)
	}
}

func readBytes(t testing.TB, b protocol.Bytes) []byte {
	t.Helper()
	v, err := protocol.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkRecord compares a decoded record with the record it was made from.
func checkRecord(t testing.TB, i int, got *protocol.Record, want *otlpconv.Record, ts time.Time) {
	t.Helper()
	if k := readBytes(t, got.Key); string(k) != want.Key {
		t.Errorf("record %d: key %q, want %q", i, k, want.Key)
	}
	if v := readBytes(t, got.Value); !bytes.Equal(v, want.Value) {
		t.Errorf("record %d: value of %d bytes, want %d", i, len(v), len(want.Value))
	}
	if got.Offset != int64(i) || !got.Time.Equal(ts) {
		t.Errorf("record %d: offset %d time %v, want %d %v", i, got.Offset, got.Time, i, ts)
	}
	h := recordHeaderValues(want)
	if len(got.Headers) != h.count() {
		t.Fatalf("record %d: %d headers, want %d", i, len(got.Headers), h.count())
	}
	for j, gh := range got.Headers {
		if gh.Key != headerKeys[j] || string(gh.Value) != h[j] {
			t.Errorf("record %d header %d: %s=%q, want %s=%q", i, j, gh.Key, gh.Value, headerKeys[j], h[j])
		}
	}
}

// TestRecordBatchDecodes: what the batch encoder writes reads back with
// kafka-go's decoder, record for record, with every codec.
func TestRecordBatchDecodes(t *testing.T) {
	recs := testRecords()
	ts := time.UnixMilli(1767323045123)
	for _, name := range codecNames {
		t.Run(name, func(t *testing.T) {
			var b recordBatch
			var shape recordShape // reused while records share key and headers, as in a lane
			b.reset()
			for i := range recs {
				if !shape.matches(&recs[i]) {
					h := recordHeaderValues(&recs[i])
					shape.set(recs[i].Key, &h)
				}
				want, start := b.encodedSize(&shape, recs[i].Value), b.size()
				b.addShaped(&shape, recs[i].Value)
				if got := b.size() - start; got != want {
					t.Errorf("record %d: encoded %d bytes, encodedSize says %d", i, got, want)
				}
			}
			payload := finishUnstamped(t, &b, ts.UnixMilli(), codecOf(t, name))
			attrs, got := decodeRecordSet(t, payload)
			if attrs.Compression().String() != strings.Replace(name, "none", "uncompressed", 1) {
				t.Errorf("attributes %v, want compression %s", attrs, name)
			}
			if len(got) != len(recs) {
				t.Fatalf("%d records decoded, want %d", len(got), len(recs))
			}
			for i := range got {
				checkRecord(t, i, got[i], &recs[i], ts)
			}
			checkBatchHeader(t, payload, len(recs), ts.UnixMilli())
		})
	}
}

// checkBatchHeader reads the batch header with franz-go's kmsg and checks
// the fields kafka-go's decoder does not look at.
func checkBatchHeader(t testing.TB, payload []byte, records int, ts int64) {
	t.Helper()
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(payload[4:]); err != nil {
		t.Fatal(err)
	}
	crc := int32(crc32.Checksum(payload[offAttributes:], crc32.MakeTable(crc32.Castagnoli)))
	if rb.FirstOffset != 0 || int(rb.Length) != len(payload)-16 || rb.PartitionLeaderEpoch != -1 ||
		rb.Magic != 2 || rb.CRC != crc || rb.LastOffsetDelta != int32(records-1) ||
		rb.FirstTimestamp != ts || rb.MaxTimestamp != ts || rb.ProducerID != -1 ||
		rb.ProducerEpoch != -1 || rb.FirstSequence != -1 || int(rb.NumRecords) != records {
		t.Errorf("batch header %+v", rb)
	}
	if size := int(uint32(payload[0])<<24 | uint32(payload[1])<<16 | uint32(payload[2])<<8 | uint32(payload[3])); size != len(payload)-4 {
		t.Errorf("size prefix %d, want %d", size, len(payload)-4)
	}
}

// TestRecordBatchReadBack: eachRecord returns what add wrote, which the
// too-large fallback relies on, and a reset batch starts empty.
func TestRecordBatchReadBack(t *testing.T) {
	recs := testRecords()
	var b recordBatch
	for round := range 2 {
		b.reset()
		for i := range recs {
			h := recordHeaderValues(&recs[i])
			b.add(recs[i].Key, recs[i].Value, &h)
		}
		n := 0
		err := b.eachRecord(func(i int, r *decodedRecord) {
			n++
			if string(r.key) != recs[i].Key || !bytes.Equal(r.value, recs[i].Value) || r.headers != recordHeaderValues(&recs[i]) {
				t.Errorf("round %d record %d: read back %q %q %v", round, i, r.key, r.value[:min(len(r.value), 20)], r.headers)
			}
			if got, want := sizeWithHeaders(len(r.key), len(r.value), &r.headers), recordSize(&recs[i]); got != want {
				t.Errorf("record %d: size %d, want %d", i, got, want)
			}
		})
		if err != nil || n != len(recs) {
			t.Fatalf("round %d: read %d records: %v", round, n, err)
		}
	}
	b.buf = b.buf[:len(b.buf)-1]
	if err := b.eachRecord(func(int, *decodedRecord) {}); !errors.Is(err, errCorruptBatch) {
		t.Errorf("truncated batch: %v, want errCorruptBatch", err)
	}
}

func TestVarintSize(t *testing.T) {
	for _, c := range []struct {
		v    int64
		want int
	}{{0, 1}, {-1, 1}, {63, 1}, {64, 2}, {-64, 1}, {-65, 2}, {8191, 2}, {8192, 3}, {1 << 40, 6}, {-1 << 63, 10}} {
		if got := varintSize(c.v); got != c.want {
			t.Errorf("varintSize(%d) = %d, want %d", c.v, got, c.want)
		}
	}
}

// FuzzRecordBatch encodes records built from the input and decodes them
// with kafka-go.
func FuzzRecordBatch(f *testing.F) {
	f.Add("svc|log", []byte(`{"a":1}`), "svc", uint8(3), uint8(0))
	f.Add("", []byte{}, "", uint8(1), uint8(4))
	f.Add("k", bytes.Repeat([]byte{0xff}, 300), "ü", uint8(70), uint8(2))
	f.Fuzz(func(t *testing.T, key string, value []byte, service string, n, codec uint8) {
		recs := make([]otlpconv.Record, int(n)%80+1)
		for i := range recs {
			recs[i] = otlpconv.Record{Key: key + fmt.Sprint(i%3), Value: value[:len(value)*i/len(recs)],
				Type: event.TypeLog, Service: service, Source: sourceHTTP}
		}
		var b recordBatch
		b.reset()
		for i := range recs {
			h := recordHeaderValues(&recs[i])
			b.add(recs[i].Key, recs[i].Value, &h)
		}
		ts := time.UnixMilli(1767323045000 + int64(n))
		payload := finishUnstamped(t, &b, ts.UnixMilli(), codecOf(t, codecNames[int(codec)%len(codecNames)]))
		_, got := decodeRecordSet(t, payload)
		if len(got) != len(recs) {
			t.Fatalf("%d records decoded, want %d", len(got), len(recs))
		}
		for i := range got {
			checkRecord(t, i, got[i], &recs[i], ts)
		}
	})
}

// BenchmarkRecordBatchAdd encodes batches of 100 log records of about
// 400 bytes.
func BenchmarkRecordBatchAdd(b *testing.B) {
	rec := otlpconv.Record{Key: "checkout|log", Value: bytes.Repeat([]byte("x"), 400), Type: event.TypeLog, Service: "checkout", Source: sourceGRPC}
	var rb recordBatch
	var shape recordShape
	b.ReportAllocs()
	b.SetBytes(100 * int64(len(rec.Value)))
	for b.Loop() {
		rb.reset()
		for range 100 {
			if !shape.matches(&rec) {
				h := recordHeaderValues(&rec)
				shape.set(rec.Key, &h)
			}
			rb.addShaped(&shape, rec.Value)
		}
		finishUnstamped(b, &rb, 1767323045000, nil)
	}
}

// finishUnstamped finishes b and writes its CRC, as stamping it would,
// without a producer id.
func finishUnstamped(t testing.TB, b *recordBatch, ts int64, codec compress.Codec) []byte {
	payload, err := b.finish(ts, codec)
	if err != nil {
		t.Fatal(err)
	}
	stampProducer(payload, producerIdentity{id: -1, epoch: -1}, -1)
	return payload
}

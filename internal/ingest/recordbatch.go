package ingest

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/bits"
	"time"

	"github.com/segmentio/kafka-go/compress"

	"github.com/driftlock/driftlock/internal/event"
	"github.com/driftlock/driftlock/internal/otlpconv"
)

// Layout of a produce request's record set as kafka-go's
// protocol.RecordSet.WriteTo writes it for magic v2: an int32 size, then
// one record batch whose 61-byte header is followed by the records.
// Offsets are from the start of the size.
const (
	offBatchLength = 4 + 8  // after the base offset
	offMagic       = 4 + 16 // after the partition leader epoch
	offCRC         = 4 + 17
	offAttributes  = 4 + 21 // the CRC covers from here to the end
	offLastDelta   = 4 + 23
	offFirstTime   = 4 + 27
	offMaxTime     = 4 + 35
	offProducerID  = 4 + 43
	offRecordCount = 4 + 57
	recordsStart   = 4 + 61
	recordHeaders  = 4 // headers on every record
	maxHeaders     = 5 // and the client's name when it is recorded
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recordBatch gathers the records of one partition straight into the
// bytes of a v2 record batch: header room first, then each record as it
// comes, so that sending needs no per-record work. Record timestamps are
// the time the batch is finished (kafka-go's Writer stamps records with the
// time it encodes them too), so every timestamp delta is 0.
type recordBatch struct {
	buf     []byte // header room, then the uncompressed records
	wire    []byte // the finished record set when compressed
	records int
	owners  []ownerRun // which request each record belongs to, in order
	opened  time.Time  // when the first record came
	inDoubt bool       // see producer.beginAttempt; guarded by producer.attemptMu
}

// ownerRun is n consecutive records of one request.
type ownerRun struct {
	req *request
	n   int
}

// reset empties b for reuse, keeping its buffers.
func (b *recordBatch) reset() {
	clear(b.owners)
	*b = recordBatch{buf: append(b.buf[:0], make([]byte, recordsStart)...), wire: b.wire[:0], owners: b.owners[:0]}
}

// size is the bytes of the batch so far, size prefix included.
func (b *recordBatch) size() int { return len(b.buf) }

// headerValues are the header values of a record, in the order of the
// contract: event type, source, service name, content type; then the
// client's name, a header written only when it is not empty.
type headerValues [maxHeaders]string

var headerKeys = headerValues{event.HeaderEventType, event.HeaderSource, event.HeaderServiceName, event.HeaderContentType, event.HeaderClient}

func recordHeaderValues(r *otlpconv.Record) headerValues {
	return headerValues{string(r.Type), r.Source, r.Service, event.ContentTypeJSON, r.Client}
}

// count is the number of headers written: the client's only when set.
func (h *headerValues) count() int {
	if h[recordHeaders] == "" {
		return recordHeaders
	}
	return maxHeaders
}

// recordShape is the encoded key and headers of a record: the same for
// the consecutive records of a stream, so they are encoded once and copied.
type recordShape struct {
	key     string
	headers headerValues
	enc     []byte // key length, key, header count, headers
	keyEnd  int    // end of the key in enc
}

// matches reports whether r has the shape's key and header values.
func (s *recordShape) matches(r *otlpconv.Record) bool {
	return s.enc != nil && r.Key == s.key && string(r.Type) == s.headers[0] &&
		r.Source == s.headers[1] && r.Service == s.headers[2] && r.Client == s.headers[recordHeaders]
}

// set encodes key and h into the shape, reusing its buffer.
func (s *recordShape) set(key string, h *headerValues) {
	s.key, s.headers = key, *h
	enc := binary.AppendVarint(s.enc[:0], int64(len(key)))
	enc = append(enc, key...)
	s.keyEnd = len(enc)
	n := h.count()
	enc = binary.AppendVarint(enc, int64(n))
	for i := range n {
		enc = binary.AppendVarint(enc, int64(len(headerKeys[i])))
		enc = append(enc, headerKeys[i]...)
		enc = binary.AppendVarint(enc, int64(len(h[i])))
		enc = append(enc, h[i]...)
	}
	s.enc = enc
}

// bodySize is the length field of a record of shape s with value at
// offsetDelta: everything after the field.
func (s *recordShape) bodySize(offsetDelta int, value []byte) int {
	return 1 + 1 + varintSize(int64(offsetDelta)) + // attributes, timestamp delta 0, offset delta
		len(s.enc) + varintSize(int64(len(value))) + len(value)
}

// encodedSize is the bytes a record of shape s with value takes as the
// next record of b.
func (b *recordBatch) encodedSize(s *recordShape, value []byte) int {
	n := s.bodySize(b.records, value)
	return varintSize(int64(n)) + n
}

// addShaped appends a record of shape s with value.
func (b *recordBatch) addShaped(s *recordShape, value []byte) {
	buf := binary.AppendVarint(b.buf, int64(s.bodySize(b.records, value)))
	buf = append(buf, 0, 0) // attributes, timestamp delta
	buf = binary.AppendVarint(buf, int64(b.records))
	buf = append(buf, s.enc[:s.keyEnd]...)
	buf = binary.AppendVarint(buf, int64(len(value)))
	buf = append(buf, value...)
	b.buf = append(buf, s.enc[s.keyEnd:]...)
	b.records++
}

// add appends a record and returns its encoded size.
func (b *recordBatch) add(key string, value []byte, h *headerValues) int {
	var s recordShape
	s.set(key, h)
	start := len(b.buf)
	b.addShaped(&s, value)
	return len(b.buf) - start
}

// own notes that the record just added belongs to req.
func (b *recordBatch) own(req *request) {
	if n := len(b.owners); n > 0 && b.owners[n-1].req == req {
		b.owners[n-1].n++
		return
	}
	req.pending.Add(1)
	b.owners = append(b.owners, ownerRun{req: req, n: 1})
}

// finish fills the header with timestamp ts (Unix ms), compresses the
// records with codec when it is not nil, and returns the record set to
// send once stamped (stampProducer writes the producer's fields and the
// CRC). b must not change afterwards while the bytes may still be read.
func (b *recordBatch) finish(ts int64, codec compress.Codec) ([]byte, error) {
	out, attributes := b.buf, uint16(0)
	if codec != nil {
		var err error
		if out, err = compressRecords(b.wire[:0], b.buf[recordsStart:], codec); err != nil {
			return nil, err
		}
		b.wire = out
		attributes = uint16(codec.Code()) // the low three bits
	}
	writeHeader(out, b.records, ts, attributes)
	return out, nil
}

// writeHeader fills the size prefix and the batch header of out.
// attributes holds the compression bits; the batch is neither
// transactional nor a control batch, and timestamps are create times.
func writeHeader(out []byte, records int, ts int64, attributes uint16) {
	be := binary.BigEndian
	be.PutUint32(out[0:], uint32(len(out)-4))
	be.PutUint64(out[4:], 0) // base offset
	be.PutUint32(out[offBatchLength:], uint32(len(out)-offBatchLength-4))
	be.PutUint32(out[offBatchLength+4:], 0xffffffff) // partition leader epoch -1
	out[offMagic] = 2
	be.PutUint16(out[offAttributes:], attributes)
	be.PutUint32(out[offLastDelta:], uint32(records-1))
	be.PutUint64(out[offFirstTime:], uint64(ts))
	be.PutUint64(out[offMaxTime:], uint64(ts))
	be.PutUint64(out[offProducerID:], 0xffffffffffffffff) // producer id -1
	be.PutUint16(out[offProducerID+8:], 0xffff)           // producer epoch -1
	be.PutUint32(out[offProducerID+10:], 0xffffffff)      // base sequence -1
	be.PutUint32(out[offRecordCount:], uint32(records))
}

// compressRecords appends header room and the compressed records to dst.
func compressRecords(dst, records []byte, codec compress.Codec) ([]byte, error) {
	w := &appendWriter{b: append(dst, make([]byte, recordsStart)...)}
	zw := codec.NewWriter(w)
	if _, err := zw.Write(records); err != nil {
		zw.Close()
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return w.b, nil
}

// appendWriter is an io.Writer appending to a byte slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// varintSize is the bytes of v as a zig-zag varint.
func varintSize(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	return (bits.Len64(u|1) + 6) / 7
}

// decodedRecord is one record read back from a batch's records.
type decodedRecord struct {
	key, value []byte
	headers    headerValues
}

var errCorruptBatch = errors.New("record batch does not decode")

// eachRecord decodes the records of b in order and calls fn for each. It
// only reads what add wrote; it is used when a batch has to be split.
func (b *recordBatch) eachRecord(fn func(i int, r *decodedRecord)) error {
	rest := b.buf[recordsStart:]
	var r decodedRecord
	for i := range b.records {
		body, next, ok := varBytes(rest)
		if !ok || !r.read(body) {
			return errCorruptBatch
		}
		rest = next
		fn(i, &r)
	}
	return nil
}

// read decodes a record's body (what follows its length) into r.
func (r *decodedRecord) read(body []byte) bool {
	if len(body) < 2 {
		return false
	}
	_, k := binary.Varint(body[2:]) // after attributes and timestamp delta: offset delta
	if k <= 0 {
		return false
	}
	var ok bool
	if r.key, body, ok = varBytes(body[2+k:]); !ok {
		return false
	}
	if r.value, body, ok = varBytes(body); !ok {
		return false
	}
	n, k := binary.Varint(body)
	if k <= 0 || (n != recordHeaders && n != maxHeaders) {
		return false
	}
	body = body[k:]
	r.headers[recordHeaders] = ""
	for j := range int(n) {
		var hk, hv []byte
		if hk, body, ok = varBytes(body); !ok || string(hk) != headerKeys[j] {
			return false
		}
		if hv, body, ok = varBytes(body); !ok {
			return false
		}
		r.headers[j] = string(hv)
	}
	return len(body) == 0
}

// varBytes splits a varint-length-prefixed byte string off b.
func varBytes(b []byte) (v, rest []byte, ok bool) {
	n, k := binary.Varint(b)
	if k <= 0 || n < 0 || int(n) > len(b)-k {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

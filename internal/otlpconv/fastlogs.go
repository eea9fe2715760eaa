package otlpconv

import (
	"errors"
	"unicode/utf8"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/encoding/protowire"
)

// The fast logs decoder reads the OTLP/protobuf logs requests that clients
// actually send straight from the wire, without protobuf-go's reflection
// and with far fewer allocations: every string of the request is a
// substring of one copy of the body, and messages are allocated in slabs.
//
// It is deliberately narrow. Anything it does not handle exactly as
// protobuf-go would (unknown fields, a field with an unexpected wire type,
// a singular field or oneof given twice, invalid UTF-8, nesting deeper than
// fastMaxDepth, malformed input) makes it give up, and DecodeLogs decodes
// the body with protobuf-go instead, which then also produces the error
// message. So whatever it returns equals what proto.Unmarshal returns
// (FuzzFastLogs checks this).

// errNotFast: the fast decoder leaves this body to protobuf-go.
var errNotFast = errors.New("left to protobuf-go")

// fastMaxDepth bounds the nesting of attribute values the fast decoder reads.
const fastMaxDepth = 64

// slabSize is the number of messages allocated at once.
const slabSize = 64

// slab hands out pointers into chunks of Ts allocated slabSize at a time.
type slab[T any] struct{ free []T }

func (s *slab[T]) next() *T {
	if len(s.free) == 0 {
		s.free = make([]T, slabSize)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}

// listCap is the capacity of a new KeyValue list, enough for the
// attributes of most records; longer lists grow as usual.
const listCap = 8

// lists hands out empty slices of capacity listCap from chunks of
// slabSize of them, saving an allocation or three per attribute list.
type lists[T any] struct{ free []T }

func (l *lists[T]) take() []T {
	if len(l.free) < listCap {
		l.free = make([]T, listCap*slabSize)
	}
	s := l.free[:0:listCap]
	l.free = l.free[listCap:]
	return s
}

// wireDecoder holds one request's copies of the body and its slabs.
type wireDecoder struct {
	body   []byte // the body, only read: bytes fields are copied to arena
	str    string // a copy of the body; decoded strings are substrings
	arena  []byte // backs the bytes fields
	kvs    slab[commonpb.KeyValue]
	anys   slab[commonpb.AnyValue]
	strs   slab[commonpb.AnyValue_StringValue]
	ints   slab[commonpb.AnyValue_IntValue]
	recs   slab[logspb.LogRecord]
	points slab[metricspb.NumberDataPoint]
	// kvLists backs the KeyValue lists.
	kvLists lists[*commonpb.KeyValue]
}

// wireField is one decoded field: u holds varint and fixed values, b the
// bytes of a length-delimited one.
type wireField struct {
	num protowire.Number
	typ protowire.Type
	u   uint64
	b   []byte
}

// nextField reads the field at the start of b and returns the rest.
func nextField(b []byte) (wireField, []byte, error) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return wireField{}, nil, errNotFast
	}
	b = b[n:]
	f := wireField{num: num, typ: typ}
	switch typ {
	case protowire.VarintType:
		f.u, n = protowire.ConsumeVarint(b)
	case protowire.Fixed64Type:
		f.u, n = protowire.ConsumeFixed64(b)
	case protowire.Fixed32Type:
		var v uint32
		v, n = protowire.ConsumeFixed32(b)
		f.u = uint64(v)
	case protowire.BytesType:
		f.b, n = protowire.ConsumeBytes(b)
	default:
		return wireField{}, nil, errNotFast
	}
	if n < 0 {
		return wireField{}, nil, errNotFast
	}
	return f, b[n:], nil
}

// once marks field num of a message as seen; false if it already was or
// if it does not have wire type want.
func once(seen *uint32, f wireField, want protowire.Type) bool {
	return onceTyped(seen, f.num, f.typ, want)
}

// onceTyped is once for a field read by readField.
func onceTyped(seen *uint32, num protowire.Number, typ, want protowire.Type) bool {
	bit := uint32(1) << (num & 31)
	if typ != want || *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// string returns the bytes field v, which lies in d.body, as a substring of
// d.str, or false if it is not valid UTF-8.
func (d *wireDecoder) string(v []byte) (string, bool) {
	if !utf8.Valid(v) {
		return "", false
	}
	off := cap(d.body) - cap(v)
	return d.str[off : off+len(v)], true
}

// arenaSize is the size of the chunks bytes fields are copied to.
const arenaSize = 4096

// bytes returns a copy of the bytes field v, capped so that appending to
// it copies again. An empty v gives an empty, non-nil slice.
func (d *wireDecoder) bytes(v []byte) []byte {
	if len(v) == 0 {
		return v[:0:0]
	}
	if cap(d.arena)-len(d.arena) < len(v) {
		d.arena = make([]byte, 0, max(arenaSize, len(v)))
	}
	start := len(d.arena)
	d.arena = append(d.arena, v...)
	return d.arena[start:len(d.arena):len(d.arena)]
}

// fastDecodeLogs decodes an OTLP/protobuf logs request, or returns
// errNotFast.
func fastDecodeLogs(body []byte) (*collogspb.ExportLogsServiceRequest, error) {
	rls, err := fastDecodeRequest(body, (*wireDecoder).resourceLogs)
	if err != nil {
		return nil, err
	}
	return &collogspb.ExportLogsServiceRequest{ResourceLogs: rls}, nil
}

// fastDecodeRequest decodes an export request, whose only field is the
// repeated resource message 1, with one decoder shared by its items.
func fastDecodeRequest[T any](body []byte, item func(*wireDecoder, []byte) (T, error)) ([]T, error) {
	d := &wireDecoder{body: body, str: string(body)}
	var items []T
	for b := body; len(b) > 0; {
		f, rest, err := nextField(b)
		if err != nil || f.num != 1 || f.typ != protowire.BytesType {
			return nil, errNotFast
		}
		it, err := item(d, f.b)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
		b = rest
	}
	return items, nil
}

// decodeContainer decodes the shape ResourceLogs, ScopeLogs,
// ResourceMetrics and ScopeMetrics share: field 1 a message given at most
// once (the resource or scope), field 2 the repeated children, field 3 the
// schema URL. A child it cannot decode makes it return errNotFast.
func decodeContainer[H, C any](d *wireDecoder, b []byte, head func(*wireDecoder, []byte) (H, error),
	child func(*wireDecoder, []byte) (C, error)) (h H, children []C, schemaURL string, err error) {
	var seen uint32
	for len(b) > 0 {
		f, rest, ferr := nextField(b)
		if ferr != nil {
			return h, nil, "", ferr
		}
		ok := false
		switch f.num {
		case 1:
			if ok = once(&seen, f, protowire.BytesType); ok {
				h, err = head(d, f.b)
			}
		case 2:
			if ok = f.typ == protowire.BytesType; ok {
				var c C
				c, err = child(d, f.b)
				children = append(children, c)
			}
		case 3:
			if ok = once(&seen, f, protowire.BytesType); ok {
				schemaURL, ok = d.string(f.b)
			}
		}
		if err != nil || !ok {
			return h, nil, "", errNotFast
		}
		b = rest
	}
	return h, children, schemaURL, nil
}

func (d *wireDecoder) resourceLogs(b []byte) (*logspb.ResourceLogs, error) {
	res, sls, url, err := decodeContainer(d, b, (*wireDecoder).resource, (*wireDecoder).scopeLogs)
	if err != nil {
		return nil, err
	}
	return &logspb.ResourceLogs{Resource: res, ScopeLogs: sls, SchemaUrl: url}, nil
}

func (d *wireDecoder) resource(b []byte) (*resourcepb.Resource, error) {
	r := &resourcepb.Resource{}
	var seen uint32
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return nil, err
		}
		ok := false
		switch f.num {
		case 1:
			if ok = f.typ == protowire.BytesType; ok {
				r.Attributes, err = d.appendKeyValue(r.Attributes, f.b, 0)
			}
		case 2:
			if ok = once(&seen, f, protowire.VarintType); ok {
				r.DroppedAttributesCount = uint32(f.u)
			}
		}
		if err != nil || !ok {
			return nil, errNotFast
		}
		b = rest
	}
	return r, nil
}

func (d *wireDecoder) scopeLogs(b []byte) (*logspb.ScopeLogs, error) {
	scope, lrs, url, err := decodeContainer(d, b, (*wireDecoder).scope, (*wireDecoder).logRecord)
	if err != nil {
		return nil, err
	}
	return &logspb.ScopeLogs{Scope: scope, LogRecords: lrs, SchemaUrl: url}, nil
}

func (d *wireDecoder) scope(b []byte) (*commonpb.InstrumentationScope, error) {
	s := &commonpb.InstrumentationScope{}
	var seen uint32
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return nil, err
		}
		ok := false
		switch f.num {
		case 1:
			if ok = once(&seen, f, protowire.BytesType); ok {
				s.Name, ok = d.string(f.b)
			}
		case 2:
			if ok = once(&seen, f, protowire.BytesType); ok {
				s.Version, ok = d.string(f.b)
			}
		case 3:
			if ok = f.typ == protowire.BytesType; ok {
				s.Attributes, err = d.appendKeyValue(s.Attributes, f.b, 0)
			}
		case 4:
			if ok = once(&seen, f, protowire.VarintType); ok {
				s.DroppedAttributesCount = uint32(f.u)
			}
		}
		if err != nil || !ok {
			return nil, errNotFast
		}
		b = rest
	}
	return s, nil
}

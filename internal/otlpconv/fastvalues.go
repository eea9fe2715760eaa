package otlpconv

import (
	"math"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/encoding/protowire"
)

func (d *wireDecoder) logRecord(b []byte) (*logspb.LogRecord, error) {
	lr := d.recs.next()
	var seen uint32
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return nil, err
		}
		if !d.logRecordField(lr, &seen, f) {
			return nil, errNotFast
		}
		b = rest
	}
	return lr, nil
}

// logRecordField sets field f of lr; false if the fast decoder leaves it
// to protobuf-go.
func (d *wireDecoder) logRecordField(lr *logspb.LogRecord, seen *uint32, f wireField) bool {
	var ok bool
	var err error
	switch f.num {
	case 1:
		if ok = once(seen, f, protowire.Fixed64Type); ok {
			lr.TimeUnixNano = f.u
		}
	case 2:
		if ok = once(seen, f, protowire.VarintType); ok {
			lr.SeverityNumber = logspb.SeverityNumber(int32(f.u))
		}
	case 3:
		if ok = once(seen, f, protowire.BytesType); ok {
			lr.SeverityText, ok = d.string(f.b)
		}
	case 5:
		if ok = once(seen, f, protowire.BytesType); ok {
			lr.Body, err = d.anyValue(f.b, 0)
		}
	case 6:
		if ok = f.typ == protowire.BytesType; ok {
			lr.Attributes, err = d.appendKeyValue(lr.Attributes, f.b, 0)
		}
	case 7:
		if ok = once(seen, f, protowire.VarintType); ok {
			lr.DroppedAttributesCount = uint32(f.u)
		}
	case 8:
		if ok = once(seen, f, protowire.Fixed32Type); ok {
			lr.Flags = uint32(f.u)
		}
	case 9:
		if ok = once(seen, f, protowire.BytesType); ok {
			lr.TraceId = nonEmpty(d.bytes(f.b))
		}
	case 10:
		if ok = once(seen, f, protowire.BytesType); ok {
			lr.SpanId = nonEmpty(d.bytes(f.b))
		}
	case 11:
		if ok = once(seen, f, protowire.Fixed64Type); ok {
			lr.ObservedTimeUnixNano = f.u
		}
	case 12:
		if ok = once(seen, f, protowire.BytesType); ok {
			lr.EventName, ok = d.string(f.b)
		}
	}
	return ok && err == nil
}

// nonEmpty is a proto3 bytes field as protobuf-go sets it: nil when empty.
func nonEmpty(v []byte) []byte {
	if len(v) == 0 {
		return nil
	}
	return v
}

// appendKeyValue decodes the KeyValue in b and appends it to kvs.
func (d *wireDecoder) appendKeyValue(kvs []*commonpb.KeyValue, b []byte, depth int) ([]*commonpb.KeyValue, error) {
	kv := d.kvs.next()
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
				kv.Key, ok = d.string(f.b)
			}
		case 2:
			if ok = once(&seen, f, protowire.BytesType); ok {
				kv.Value, err = d.anyValue(f.b, depth)
			}
		}
		if err != nil || !ok {
			return nil, errNotFast
		}
		b = rest
	}
	if kvs == nil {
		kvs = d.kvLists.take()
	}
	return append(kvs, kv), nil
}

// anyValue decodes an AnyValue at nesting depth.
func (d *wireDecoder) anyValue(b []byte, depth int) (*commonpb.AnyValue, error) {
	if depth > fastMaxDepth {
		return nil, errNotFast
	}
	v := d.anys.next()
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return nil, err
		}
		// A oneof given twice, or a case the fast decoder leaves alone.
		if v.Value != nil || !d.setAnyValue(v, f, depth) {
			return nil, errNotFast
		}
		b = rest
	}
	return v, nil
}

// setAnyValue sets v's oneof from field f; false if the fast decoder
// leaves it to protobuf-go.
func (d *wireDecoder) setAnyValue(v *commonpb.AnyValue, f wireField, depth int) bool {
	ok := false
	var err error
	switch {
	case f.num == 1 && f.typ == protowire.BytesType:
		w := d.strs.next()
		w.StringValue, ok = d.string(f.b)
		v.Value = w
	case f.num == 2 && f.typ == protowire.VarintType:
		v.Value, ok = &commonpb.AnyValue_BoolValue{BoolValue: protowire.DecodeBool(f.u)}, true
	case f.num == 3 && f.typ == protowire.VarintType:
		w := d.ints.next()
		w.IntValue, ok = int64(f.u), true
		v.Value = w
	case f.num == 4 && f.typ == protowire.Fixed64Type:
		v.Value, ok = &commonpb.AnyValue_DoubleValue{DoubleValue: math.Float64frombits(f.u)}, true
	case f.num == 5 && f.typ == protowire.BytesType:
		a := &commonpb.ArrayValue{}
		a.Values, err = d.anyValues(f.b, depth+1)
		v.Value, ok = &commonpb.AnyValue_ArrayValue{ArrayValue: a}, err == nil
	case f.num == 6 && f.typ == protowire.BytesType:
		l := &commonpb.KeyValueList{}
		l.Values, err = d.keyValues(f.b, depth+1)
		v.Value, ok = &commonpb.AnyValue_KvlistValue{KvlistValue: l}, err == nil
	case f.num == 7 && f.typ == protowire.BytesType:
		// In a oneof, protobuf-go keeps an empty value non-nil.
		v.Value, ok = &commonpb.AnyValue_BytesValue{BytesValue: d.bytes(f.b)}, true
	}
	return ok
}

// anyValues decodes the values (field 1) of an ArrayValue.
func (d *wireDecoder) anyValues(b []byte, depth int) ([]*commonpb.AnyValue, error) {
	var vs []*commonpb.AnyValue
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil || f.num != 1 || f.typ != protowire.BytesType {
			return nil, errNotFast
		}
		v, err := d.anyValue(f.b, depth)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
		b = rest
	}
	return vs, nil
}

// keyValues decodes the values (field 1) of a KeyValueList.
func (d *wireDecoder) keyValues(b []byte, depth int) ([]*commonpb.KeyValue, error) {
	var kvs []*commonpb.KeyValue
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil || f.num != 1 || f.typ != protowire.BytesType {
			return nil, errNotFast
		}
		if kvs, err = d.appendKeyValue(kvs, f.b, depth); err != nil {
			return nil, err
		}
		b = rest
	}
	return kvs, nil
}

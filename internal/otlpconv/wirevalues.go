package otlpconv

import (
	"iter"
	"math"
	"strconv"
	"unsafe"
)

// The wire path's readers assume a body checkWire accepted: they do not
// check again what it checked.

// wkv is a KeyValue read from the wire: its key, and its value's AnyValue
// bytes (nil when it has none). Both point into the request body.
type wkv struct {
	key string
	val []byte
}

// bstr views b as a string without copying. The wire path only reads
// such strings while it converts a request; whatever outlives the call
// (the service name) is copied.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// fields yields the fields of a checked message in order.
func fields(b []byte) iter.Seq[wireField] {
	return func(yield func(wireField) bool) {
		for len(b) > 0 {
			f, rest, err := nextField(b)
			if err != nil || !yield(f) {
				return
			}
			b = rest
		}
	}
}

// readKV reads a checked KeyValue.
func readKV(b []byte) wkv {
	var a wkv
	for f := range fields(b) {
		if f.num == 1 {
			a.key = bstr(f.b)
		} else {
			a.val = f.b
		}
	}
	return a
}

// appendKVs appends the KeyValues given as field num of a checked message.
func appendKVs(dst []wkv, b []byte, num int) []wkv {
	for f := range fields(b) {
		if int(f.num) == num {
			dst = append(dst, readKV(f.b))
		}
	}
	return dst
}

// wkvIdx appends to dst[:0] the indices of attrs sorted by key, one per key,
// as sortedIdx does.
func wkvIdx(dst []int32, attrs []wkv) []int32 {
	dst = dst[:0]
	for i := range attrs {
		dst = append(dst, int32(i))
	}
	return sortUnique(dst, func(i int32) string { return attrs[i].key })
}

// wireStringValue is the string of an AnyValue's wire bytes, or "" when it
// holds another type.
func wireStringValue(v []byte) string {
	if f, _, err := nextField(v); len(v) > 0 && err == nil && f.num == 1 {
		return bstr(f.b)
	}
	return ""
}

// appendWireAttr appends one top-level attribute as "key":value.
func (w *valueWriter) appendWireAttr(dst []byte, key string, val []byte) ([]byte, error) {
	dst = appendString(dst, key)
	dst = append(dst, ':')
	return w.appendWireValue(dst, val, 0)
}

// appendWireValue appends the AnyValue v as appendValue does.
func (w *valueWriter) appendWireValue(dst, v []byte, nest int) ([]byte, error) {
	if len(v) == 0 {
		return append(dst, "null"...), nil
	}
	f, _, _ := nextField(v)
	switch f.num {
	case 1:
		return appendString(dst, bstr(f.b)), nil
	case 2:
		return strconv.AppendBool(dst, f.u != 0), nil
	case 3:
		return strconv.AppendInt(dst, int64(f.u), 10), nil
	case 4:
		return appendDouble(dst, math.Float64frombits(f.u)), nil
	case 5:
		if err := w.checkDepth(nest + 1); err != nil {
			return dst, err
		}
		return w.appendWireArray(dst, f.b, nest+1)
	case 6:
		if err := w.checkDepth(nest + 1); err != nil {
			return dst, err
		}
		return w.appendWireKVList(dst, f.b, nest+1)
	case 7:
		return appendBase64(dst, f.b), nil
	}
	return append(dst, "null"...), nil
}

func (w *valueWriter) appendWireArray(dst, b []byte, depth int) ([]byte, error) {
	dst = append(dst, '[')
	n := 0
	for f := range fields(b) {
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		var err error
		if dst, err = w.appendWireValue(dst, f.b, depth); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

// appendWireKVList appends a key-value list as appendKVList does, in the
// scratch buffers of its depth.
func (w *valueWriter) appendWireKVList(dst, b []byte, depth int) ([]byte, error) {
	for len(w.scratch) <= depth {
		w.scratch = append(w.scratch, nil)
	}
	for len(w.wkvs) <= depth {
		w.wkvs = append(w.wkvs, nil)
	}
	w.wkvs[depth] = appendKVs(w.wkvs[depth][:0], b, 1)
	w.scratch[depth] = wkvIdx(w.scratch[depth], w.wkvs[depth])
	attrs := w.wkvs[depth]
	return appendIdxObject(dst, w.scratch[depth], func(dst []byte, i int32) ([]byte, error) {
		dst = appendString(dst, attrs[i].key)
		dst = append(dst, ':')
		return w.appendWireValue(dst, attrs[i].val, depth)
	})
}

// release drops the wire buffers' references into a request body.
func (w *valueWriter) release() {
	for _, s := range w.wkvs {
		clear(s[:cap(s)])
	}
}

package otlpconv

import (
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

// readKV reads a checked KeyValue.
func readKV(b []byte) wkv {
	var a wkv
	for it := (wireIter{b: b}); it.next(); {
		if it.num == 1 {
			a.key = bstr(it.bytes())
		} else {
			a.val = it.bytes()
		}
	}
	return a
}

// appendKVs appends the KeyValues given as field 1 of a checked message.
func appendKVs(dst []wkv, b []byte) []wkv {
	for it := (wireIter{b: b}); it.next(); {
		if it.num == 1 {
			dst = append(dst, readKV(it.bytes()))
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
	if it := (wireIter{b: v}); it.next() && it.num == 1 {
		return bstr(it.bytes())
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
	it := wireIter{b: v}
	if !it.next() {
		return append(dst, "null"...), nil
	}
	switch it.num {
	case 1:
		return appendString(dst, bstr(it.bytes())), nil
	case 2:
		return strconv.AppendBool(dst, it.u != 0), nil
	case 3:
		return strconv.AppendInt(dst, int64(it.u), 10), nil
	case 4:
		return appendDouble(dst, math.Float64frombits(it.u)), nil
	case 5:
		if err := w.checkDepth(nest + 1); err != nil {
			return dst, err
		}
		return w.appendWireArray(dst, it.bytes(), nest+1)
	case 6:
		if err := w.checkDepth(nest + 1); err != nil {
			return dst, err
		}
		return w.appendWireKVList(dst, it.bytes(), nest+1)
	case 7:
		return appendBase64(dst, it.bytes()), nil
	}
	return append(dst, "null"...), nil
}

func (w *valueWriter) appendWireArray(dst, b []byte, depth int) ([]byte, error) {
	dst = append(dst, '[')
	for it, n := (wireIter{b: b}), 0; it.next(); n++ {
		if n > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = w.appendWireValue(dst, it.bytes(), depth); err != nil {
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
	w.wkvs[depth] = appendKVs(w.wkvs[depth][:0], b)
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

package otlpconv

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
)

// hardMaxDepth bounds value nesting whatever the configured limit, so that a
// cyclic value built in code cannot recurse without end.
const hardMaxDepth = 128

// kv is one resource attribute: its value is val, or the AnyValue wire
// bytes wire when fromWire is set. enc, when set, holds the attribute
// already written as "key":value.
type kv struct {
	key      string
	val      *commonpb.AnyValue
	wire     []byte
	fromWire bool
	enc      []byte
}

// stringValue is the attribute's string value, or "" when it has another
// type.
func (a *kv) stringValue() string {
	if a.fromWire {
		return wireStringValue(a.wire)
	}
	return a.val.GetStringValue()
}

// sortedIdx appends to dst[:0] the indices of attrs sorted by key
// (byte-wise, as encoding/json sorts map keys), one per key: the last, as
// building a map in order would keep. Sorting indices rather than entries
// keeps pointer writes, and the GC's write barriers, out of the hot path.
// It does what sortUnique does, reading the keys directly rather than
// through a function: about 5% of the conversion of a metric.
func sortedIdx(dst []int32, attrs []*commonpb.KeyValue) []int32 {
	dst = dst[:0]
	for i, a := range attrs {
		if a != nil {
			dst = append(dst, int32(i))
		}
	}
	if len(dst) < 2 {
		return dst
	}
	slices.SortStableFunc(dst, func(x, y int32) int { return strings.Compare(attrs[x].Key, attrs[y].Key) })
	out := dst[:0]
	for i, x := range dst {
		if i+1 < len(dst) && attrs[dst[i+1]].Key == attrs[x].Key {
			continue
		}
		out = append(out, x)
	}
	return out
}

// sortUnique sorts the indices idx by key and keeps, of equal keys, the
// last index given.
func sortUnique(idx []int32, key func(int32) string) []int32 {
	if len(idx) < 2 {
		return idx
	}
	slices.SortStableFunc(idx, func(x, y int32) int { return strings.Compare(key(x), key(y)) })
	out := idx[:0]
	for i, x := range idx {
		if i+1 < len(idx) && key(idx[i+1]) == key(x) {
			continue
		}
		out = append(out, x)
	}
	return out
}

// mergeIdx appends to dst[:0] the union of the resource set res and the
// sorted own attributes: an own attribute i as i, a resource attribute j as
// ^j. On equal keys the own attribute wins.
// ownKey gives the key of own attribute i.
func mergeIdx(dst []int32, res []kv, ownKey func(int32) string, idx []int32) []int32 {
	dst = dst[:0]
	i, j := 0, 0
	for i < len(res) && j < len(idx) {
		switch c := strings.Compare(res[i].key, ownKey(idx[j])); {
		case c < 0:
			dst = append(dst, ^int32(i))
			i++
		case c > 0:
			dst = append(dst, idx[j])
			j++
		default:
			dst = append(dst, idx[j])
			i++
			j++
		}
	}
	for ; i < len(res); i++ {
		dst = append(dst, ^int32(i))
	}
	return append(dst, idx[j:]...)
}

// limitError is a record that broke a limit or could not be encoded.
type limitError struct {
	reason string
	detail string
}

func (e *limitError) Error() string { return e.reason + ": " + e.detail }

// valueWriter encodes AnyValues under a depth limit. scratch holds one
// reusable key buffer per nesting level for key-value lists.
type valueWriter struct {
	maxDepth int
	scratch  [][]int32
	wkvs     [][]wkv // the wire path's key-value lists, per level
}

// appendMergedObject writes a merged set (see mergeIdx) as a JSON object;
// appendOwn writes own attribute i as "key":value.
func (w *valueWriter) appendMergedObject(dst []byte, merged []int32, res []kv,
	appendOwn func(dst []byte, i int32) ([]byte, error)) ([]byte, error) {
	dst = append(dst, '{')
	for n, m := range merged {
		if n > 0 {
			dst = append(dst, ',')
		}
		var err error
		switch {
		case m >= 0:
			dst, err = appendOwn(dst, m)
		case res[^m].enc != nil:
			dst = append(dst, res[^m].enc...)
		default:
			dst, err = w.appendKV(dst, &res[^m])
		}
		if err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// appendKV appends a resource attribute as "key":value.
func (w *valueWriter) appendKV(dst []byte, a *kv) ([]byte, error) {
	if a.fromWire {
		return w.appendWireAttr(dst, a.key, a.wire)
	}
	return w.appendAttr(dst, a.key, a.val)
}

// appendIdxObject writes the attributes at the sorted indices idx as a
// JSON object; attr writes attribute i as "key":value.
func appendIdxObject(dst []byte, idx []int32, attr func(dst []byte, i int32) ([]byte, error)) ([]byte, error) {
	dst = append(dst, '{')
	for n, i := range idx {
		if n > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = attr(dst, i); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// appendAttr appends one top-level attribute as "key":value.
func (w *valueWriter) appendAttr(dst []byte, key string, val *commonpb.AnyValue) ([]byte, error) {
	dst = appendString(dst, key)
	dst = append(dst, ':')
	return w.appendValue(dst, val, 0)
}

// preEncode writes every attribute of set into buf and points its enc at
// the result, so that attributes shared by many records are written once.
// An attribute that breaks a limit is left without enc: each record that
// carries it then reports the error.
func (w *valueWriter) preEncode(buf []byte, set []kv, ends []int) ([]byte, []int) {
	buf, ends = buf[:0], ends[:0]
	for i := range set {
		start := len(buf)
		var err error
		if buf, err = w.appendKV(buf, &set[i]); err != nil {
			buf = buf[:start]
			ends = append(ends, -1)
			continue
		}
		ends = append(ends, len(buf))
	}
	start := 0
	for i, end := range ends {
		if end < 0 {
			continue
		}
		set[i].enc = buf[start:end:end]
		start = end
	}
	return buf, ends
}

// appendValue appends v as JSON. nest is the number of arrays and lists that
// enclose v. An empty value, or a profiling string-table reference, is null.
func (w *valueWriter) appendValue(dst []byte, v *commonpb.AnyValue, nest int) ([]byte, error) {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return appendString(dst, x.StringValue), nil
	case *commonpb.AnyValue_BoolValue:
		return strconv.AppendBool(dst, x.BoolValue), nil
	case *commonpb.AnyValue_IntValue:
		return strconv.AppendInt(dst, x.IntValue, 10), nil
	case *commonpb.AnyValue_DoubleValue:
		return appendDouble(dst, x.DoubleValue), nil
	case *commonpb.AnyValue_BytesValue:
		return appendBase64(dst, x.BytesValue), nil
	case *commonpb.AnyValue_ArrayValue:
		if err := w.checkDepth(nest + 1); err != nil {
			return dst, err
		}
		return w.appendArray(dst, x.ArrayValue.GetValues(), nest+1)
	case *commonpb.AnyValue_KvlistValue:
		if err := w.checkDepth(nest + 1); err != nil {
			return dst, err
		}
		return w.appendKVList(dst, x.KvlistValue.GetValues(), nest+1)
	}
	return append(dst, "null"...), nil
}

// appendDouble appends a double value, a non-finite one as its name.
func appendDouble(dst []byte, f float64) []byte {
	if !finite(f) {
		return appendString(dst, nonFiniteName(f))
	}
	return appendFloat(dst, f)
}

func (w *valueWriter) checkDepth(depth int) error {
	if depth > w.maxDepth {
		return &limitError{"too_deep", fmt.Sprintf("a value nests arrays or lists deeper than the limit of %d levels", w.maxDepth)}
	}
	return nil
}

func (w *valueWriter) appendArray(dst []byte, vals []*commonpb.AnyValue, depth int) ([]byte, error) {
	dst = append(dst, '[')
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = w.appendValue(dst, v, depth); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

// appendKVList appends a key-value list as an object with sorted, unique
// keys. It sorts in the scratch buffer of its depth, which deeper lists
// do not touch.
func (w *valueWriter) appendKVList(dst []byte, vals []*commonpb.KeyValue, depth int) ([]byte, error) {
	for len(w.scratch) <= depth {
		w.scratch = append(w.scratch, nil)
	}
	w.scratch[depth] = sortedIdx(w.scratch[depth], vals)
	return w.appendPBObject(dst, vals, w.scratch[depth], depth)
}

// appendPBObject writes the attributes of attrs at the sorted indices idx
// as a JSON object; depth is the nesting of their values.
func (w *valueWriter) appendPBObject(dst []byte, attrs []*commonpb.KeyValue, idx []int32, depth int) ([]byte, error) {
	return appendIdxObject(dst, idx, func(dst []byte, i int32) ([]byte, error) {
		dst = appendString(dst, attrs[i].Key)
		dst = append(dst, ':')
		return w.appendValue(dst, attrs[i].Value, depth)
	})
}

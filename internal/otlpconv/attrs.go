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

// kv is one attribute of a sorted, de-duplicated attribute set.
type kv struct {
	key string
	val *commonpb.AnyValue
}

func compareKV(a, b kv) int { return strings.Compare(a.key, b.key) }

// sortedAttrs appends attrs to dst[:0], sorted by key (byte-wise, as
// encoding/json sorts map keys) with one entry per key: the last one, as
// building a map in order would keep.
func sortedAttrs(dst []kv, attrs []*commonpb.KeyValue) []kv {
	dst = dst[:0]
	for _, a := range attrs {
		if a != nil {
			dst = append(dst, kv{a.Key, a.Value})
		}
	}
	slices.SortStableFunc(dst, compareKV)
	return dedupeLast(dst)
}

// dedupeLast keeps the last of each run of equal keys in a sorted set.
func dedupeLast(s []kv) []kv {
	if len(s) < 2 {
		return s
	}
	out := s[:0]
	for i := range s {
		if i+1 < len(s) && s[i+1].key == s[i].key {
			continue
		}
		out = append(out, s[i])
	}
	return out
}

// mergeAttrs appends to dst[:0] the union of two sorted sets; on equal keys
// the entry of over wins.
func mergeAttrs(dst, base, over []kv) []kv {
	dst = dst[:0]
	i, j := 0, 0
	for i < len(base) && j < len(over) {
		switch c := strings.Compare(base[i].key, over[j].key); {
		case c < 0:
			dst = append(dst, base[i])
			i++
		case c > 0:
			dst = append(dst, over[j])
			j++
		default:
			dst = append(dst, over[j])
			i++
			j++
		}
	}
	dst = append(dst, base[i:]...)
	return append(dst, over[j:]...)
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
	scratch  [][]kv
}

// appendAttrs appends a sorted attribute set as a JSON object.
func (w *valueWriter) appendAttrs(dst []byte, attrs []kv) ([]byte, error) {
	dst = append(dst, '{')
	for i, a := range attrs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, a.key)
		dst = append(dst, ':')
		var err error
		if dst, err = w.appendValue(dst, a.val, 0); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
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
		if !finite(x.DoubleValue) {
			return appendString(dst, nonFiniteName(x.DoubleValue)), nil
		}
		return appendFloat(dst, x.DoubleValue), nil
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
	set := sortedAttrs(w.scratch[depth], vals)
	w.scratch[depth] = set
	dst = append(dst, '{')
	for i, a := range set {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, a.key)
		dst = append(dst, ':')
		var err error
		if dst, err = w.appendValue(dst, a.val, depth); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

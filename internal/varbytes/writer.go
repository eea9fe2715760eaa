package varbytes

import (
	"encoding/binary"
	"math"
)

// AppendUvarint appends v as an unsigned varint, as Reader.Uvarint reads it.
func AppendUvarint(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }

// AppendVarint appends v as a zig-zag signed varint, as Reader.Varint reads
// it.
func AppendVarint(dst []byte, v int64) []byte { return binary.AppendVarint(dst, v) }

// AppendBool appends v as a flag byte, 1 for true, as Reader.Bool reads it.
func AppendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// AppendFloat64 appends v's bits, little-endian, as Reader.Float64 reads
// them.
func AppendFloat64(dst []byte, v float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
}

// AppendString appends s prefixed by its length, as Reader.Str reads it.
func AppendString(dst []byte, s string) []byte {
	return append(AppendUvarint(dst, uint64(len(s))), s...)
}

// AppendBytes appends b prefixed by its length, as Reader.Bytes reads it.
func AppendBytes(dst, b []byte) []byte {
	return append(AppendUvarint(dst, uint64(len(b))), b...)
}

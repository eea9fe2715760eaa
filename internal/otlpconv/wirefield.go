package otlpconv

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// readField reads the field that starts at b[i]: its number, its wire
// type, its varint or fixed value or, for a bytes field, its length u, and
// the offset next after it (its bytes are b[next-u:next]). next is -1 for
// a malformed field or a group. One-byte varints, which most tags and
// lengths are, are read in place: this runs for every field of a request,
// twice.
func readField(b []byte, i int) (num protowire.Number, typ protowire.Type, u uint64, next int) {
	var tag uint64
	if i < len(b) && b[i] < 0x80 {
		tag, i = uint64(b[i]), i+1
	} else if tag, i = readVarint(b, i); i < 0 {
		return 0, 0, 0, -1
	}
	if tag>>3 == 0 || tag>>3 > math.MaxInt32 {
		return 0, 0, 0, -1
	}
	num, typ = protowire.Number(tag>>3), protowire.Type(tag&7)
	switch typ {
	case protowire.VarintType:
		if i < len(b) && b[i] < 0x80 {
			u, i = uint64(b[i]), i+1
		} else {
			u, i = readVarint(b, i)
		}
	case protowire.Fixed64Type:
		if len(b)-i < 8 {
			return 0, 0, 0, -1
		}
		u, i = binary.LittleEndian.Uint64(b[i:]), i+8
	case protowire.Fixed32Type:
		if len(b)-i < 4 {
			return 0, 0, 0, -1
		}
		u, i = uint64(binary.LittleEndian.Uint32(b[i:])), i+4
	case protowire.BytesType:
		if i < len(b) && b[i] < 0x80 {
			u, i = uint64(b[i]), i+1
		} else if u, i = readVarint(b, i); i < 0 {
			return 0, 0, 0, -1
		}
		if u > uint64(len(b)-i) {
			return 0, 0, 0, -1
		}
		i += int(u)
	default:
		return 0, 0, 0, -1
	}
	return num, typ, u, i
}

// readVarint reads the varint at b[i] and returns the offset after it, or
// -1 where protowire.ConsumeVarint fails. readField reads one-byte varints
// itself and calls it for the longer ones.
func readVarint(b []byte, i int) (uint64, int) {
	if i >= len(b) {
		return 0, -1
	}
	v, n := protowire.ConsumeVarint(b[i:])
	if n < 0 {
		return 0, -1
	}
	return v, i + n
}

// wireIter walks the fields of a message checked by checkWire.
type wireIter struct {
	b   []byte
	i   int
	num protowire.Number
	u   uint64 // the varint or fixed value, or the length of the bytes
}

func (it *wireIter) next() bool {
	if it.i >= len(it.b) {
		return false
	}
	it.num, _, it.u, it.i = readField(it.b, it.i)
	return it.i > 0
}

// bytes is the value of the current field, a bytes field.
func (it *wireIter) bytes() []byte { return it.b[it.i-int(it.u) : it.i] }

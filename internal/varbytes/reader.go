// Package varbytes reads and writes the compact binary encodings of saved
// state: unsigned varints, zig-zag signed varints, flag bytes, little-endian
// float64s, and strings and byte slices prefixed by their length as an
// unsigned varint. The numbers are those of encoding/binary's
// AppendUvarint and AppendVarint.
package varbytes

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrShort is the error, wrapped with the position, of a read past the end
// of the input.
var ErrShort = errors.New("input ends early")

// Reader reads values from a byte slice in the order they were appended.
// The first error sticks: later reads return zero values and leave it in
// place, so a decoder can read a run of fields and check Err once. Errors
// the Reader finds name the byte they were found at.
type Reader struct {
	b   []byte // the input; cut at off after an error
	off int    // the bytes read
	err error
}

// NewReader returns a Reader of b. It reads b in place: Take and Rest
// return parts of it.
func NewReader(b []byte) Reader { return Reader{b: b} }

// Err returns the first error, or nil.
func (r *Reader) Err() error { return r.err }

// Len returns the number of bytes not read; none after an error.
func (r *Reader) Len() int { return len(r.b) - r.off }

// Rest returns the bytes not read, without reading them; none after an
// error.
func (r *Reader) Rest() []byte { return r.b[r.off:] }

// Fail sets err as the Reader's error unless it already has one; later
// reads return zero values.
func (r *Reader) Fail(err error) {
	if r.err == nil && err != nil {
		r.err, r.b = err, r.b[:r.off]
	}
}

// Failf is Fail with an error formatted as fmt.Errorf does.
func (r *Reader) Failf(format string, args ...any) {
	if r.err == nil {
		r.Fail(fmt.Errorf(format, args...))
	}
}

func (r *Reader) short() {
	if r.err == nil {
		r.Fail(fmt.Errorf("%w at byte %d of %d", ErrShort, r.off, len(r.b)))
	}
}

// Uvarint reads an unsigned varint. One that runs past the input or
// does not fit in 64 bits is an error.
func (r *Reader) Uvarint() uint64 {
	if r.off < len(r.b) {
		if c := r.b[r.off]; c < 0x80 {
			r.off++
			return uint64(c)
		}
	}
	return r.uvarintLong()
}

func (r *Reader) uvarintLong() uint64 {
	v, n := binary.Uvarint(r.b[r.off:])
	switch {
	case n > 0:
		r.off += n
		return v
	case n < 0:
		r.Failf("varint at byte %d overflows 64 bits", r.off)
	default:
		r.short()
	}
	return 0
}

// Varint reads a zig-zag signed varint, as binary.AppendVarint writes it.
func (r *Reader) Varint() int64 {
	u := r.Uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if r.off >= len(r.b) {
		r.short()
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

// Bool reads a flag byte, 0 or 1; any other byte is an error.
func (r *Reader) Bool() bool {
	if r.off < len(r.b) {
		if c := r.b[r.off]; c <= 1 {
			r.off++
			return c == 1
		}
	}
	r.badFlag()
	return false
}

func (r *Reader) badFlag() {
	if r.off < len(r.b) {
		r.Failf("bad flag byte %d at byte %d", r.b[r.off], r.off)
	}
	r.short()
}

// Float64 reads a float64's bits, little-endian.
func (r *Reader) Float64() float64 {
	b := r.b[r.off:]
	if len(b) < 8 {
		r.short()
		return 0
	}
	r.off += 8
	return math.Float64frombits(binary.LittleEndian.Uint64(b))
}

// Count reads a length, as an unsigned varint, of elements that take at
// least size bytes each: a length that the bytes left cannot hold is an
// error, so that a bad length cannot make a decoder allocate more than its
// input. size is at least 1.
func (r *Reader) Count(size int) int {
	at := r.off
	n := r.Uvarint()
	if n > uint64((len(r.b)-r.off)/size) {
		r.tooLong(n, at)
		return 0
	}
	return int(n)
}

//go:noinline
func (r *Reader) tooLong(n uint64, at int) {
	r.Failf("length %d at byte %d exceeds the %d bytes left", n, at, len(r.b)-r.off)
}

// Take reads the next n bytes and returns them in place, not copied. More
// bytes than are left is an error.
func (r *Reader) Take(n uint64) []byte {
	if n > uint64(len(r.b)-r.off) {
		r.tooLong(n, r.off)
		return nil
	}
	out := r.b[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return out
}

// Str reads a string prefixed by its length. (Not String: printing a
// Reader must not read it.)
func (r *Reader) Str() string { return string(r.Take(uint64(r.Count(1)))) }

// Bytes reads a byte slice prefixed by its length, copied out of the
// input; nil when empty.
func (r *Reader) Bytes() []byte {
	if b := r.Take(uint64(r.Count(1))); len(b) > 0 {
		return slices.Clone(b)
	}
	return nil
}

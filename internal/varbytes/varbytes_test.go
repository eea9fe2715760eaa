package varbytes

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestEncoding pins the bytes of each kind of value: saved state written
// before must still read.
func TestEncoding(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  []byte
		want []byte
	}{
		{"uvarint 0", AppendUvarint(nil, 0), []byte{0}},
		{"uvarint 300", AppendUvarint(nil, 300), []byte{0xac, 0x02}},
		{"uvarint max", AppendUvarint(nil, math.MaxUint64), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"varint -1", AppendVarint(nil, -1), []byte{0x01}},
		{"varint 1", AppendVarint(nil, 1), []byte{0x02}},
		{"varint -65", AppendVarint(nil, -65), []byte{0x81, 0x01}},
		{"bool", AppendBool(AppendBool(nil, true), false), []byte{1, 0}},
		{"float64 1", AppendFloat64(nil, 1), []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}},
		{"string", AppendString(nil, "ab"), []byte{2, 'a', 'b'}},
		{"bytes nil", AppendBytes(nil, nil), []byte{0}},
	} {
		if !bytes.Equal(tc.got, tc.want) {
			t.Errorf("%s: % x, want % x", tc.name, tc.got, tc.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	uvs := []uint64{0, 1, 127, 128, 300, 1<<63 - 1, math.MaxUint64}
	vs := []int64{0, -1, 1, -64, 64, math.MinInt64, math.MaxInt64}
	fs := []float64{0, math.Copysign(0, -1), 1.5, -3e300, math.Inf(1), math.NaN(), math.SmallestNonzeroFloat64}
	strs := []string{"", "a", string(make([]byte, 200))}
	var b []byte
	for i := range uvs {
		b = AppendUvarint(b, uvs[i])
		b = AppendVarint(b, vs[i])
		b = AppendFloat64(b, fs[i])
		b = AppendBool(b, i%2 == 1)
		b = append(b, byte(i))
		b = AppendString(b, strs[i%len(strs)])
		b = AppendBytes(b, []byte(strs[(i+1)%len(strs)]))
	}
	r := NewReader(b)
	for i := range uvs {
		if got := r.Uvarint(); got != uvs[i] {
			t.Errorf("uvarint %d read as %d", uvs[i], got)
		}
		if got := r.Varint(); got != vs[i] {
			t.Errorf("varint %d read as %d", vs[i], got)
		}
		if got := r.Float64(); math.Float64bits(got) != math.Float64bits(fs[i]) {
			t.Errorf("float64 %v read as %v", fs[i], got)
		}
		if got := r.Bool(); got != (i%2 == 1) {
			t.Errorf("bool %d read as %v", i%2, got)
		}
		if got := r.Byte(); got != byte(i) {
			t.Errorf("byte %d read as %d", i, got)
		}
		if got := r.Str(); got != strs[i%len(strs)] {
			t.Errorf("string of %d bytes read as %d bytes", len(strs[i%len(strs)]), len(got))
		}
		want := []byte(strs[(i+1)%len(strs)])
		if got := r.Bytes(); !bytes.Equal(got, want) || (got == nil) != (len(want) == 0) {
			t.Errorf("bytes %q read as %#v", want, got)
		}
	}
	if r.Err() != nil || r.Len() != 0 {
		t.Fatalf("after every value: error %v, %d bytes left", r.Err(), r.Len())
	}
}

// TestBytesCopied checks that Bytes copies out of the input and Take does
// not.
func TestBytesCopied(t *testing.T) {
	in := []byte{2, 'a', 'b', 'c', 'd'}
	r := NewReader(in)
	got, took := r.Bytes(), r.Take(2)
	in[1], in[3] = 'x', 'y'
	if string(got) != "ab" || string(took) != "yd" {
		t.Errorf("Bytes %q, Take %q after the input changed", got, took)
	}
}

func TestErrors(t *testing.T) {
	overflow := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}
	overlong := append(bytes.Repeat([]byte{0x80}, 10), 0)
	for _, tc := range []struct {
		name  string
		in    []byte
		read  func(r *Reader)
		want  string
		short bool
	}{
		{"empty uvarint", nil, func(r *Reader) { r.Uvarint() }, "input ends early at byte 0 of 0", true},
		{"cut uvarint", []byte{5, 0x80}, func(r *Reader) { r.Uvarint(); r.Uvarint() }, "input ends early at byte 1 of 2", true},
		{"cut varint", []byte{0xff}, func(r *Reader) { r.Varint() }, "input ends early at byte 0 of 1", true},
		{"uvarint over 64 bits", overflow, func(r *Reader) { r.Uvarint() }, "varint at byte 0 overflows 64 bits", false},
		{"uvarint of 11 bytes", overlong, func(r *Reader) { r.Uvarint() }, "varint at byte 0 overflows 64 bits", false},
		{"varint over 64 bits", append([]byte{0}, overflow...), func(r *Reader) { r.Byte(); r.Varint() }, "varint at byte 1 overflows 64 bits", false},
		{"cut float64", []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, func(r *Reader) { r.Byte(); r.Byte(); r.Float64() }, "input ends early at byte 2 of 9", true},
		{"empty byte", nil, func(r *Reader) { r.Byte() }, "input ends early at byte 0 of 0", true},
		{"empty bool", []byte{1}, func(r *Reader) { r.Bool(); r.Bool() }, "input ends early at byte 1 of 1", true},
		{"bad flag", []byte{0, 2}, func(r *Reader) { r.Bool(); r.Bool() }, "bad flag byte 2 at byte 1", false},
		{"cut string", []byte{7, 3, 'a', 'b'}, func(r *Reader) { r.Byte(); _ = r.Str() }, "length 3 at byte 1 exceeds the 2 bytes left", false},
		{"cut string length", []byte{0x80}, func(r *Reader) { _ = r.Str() }, "input ends early at byte 0 of 1", true},
		{"cut bytes", []byte{9, 1}, func(r *Reader) { r.Bytes() }, "length 9 at byte 0 exceeds the 1 bytes left", false},
		{"take", []byte{1, 2}, func(r *Reader) { r.Take(3) }, "length 3 at byte 0 exceeds the 2 bytes left", false},
		{"count", append([]byte{2}, make([]byte, 15)...), func(r *Reader) { r.Count(8) }, "length 2 at byte 0 exceeds the 15 bytes left", false},
		{"first error sticks", []byte{2}, func(r *Reader) { r.Bool(); r.Failf("later") }, "bad flag byte 2 at byte 0", false},
		{"caller's error", []byte{1, 2}, func(r *Reader) { r.Byte(); r.Failf("bad tag %d", 3); r.Bool() }, "bad tag 3", false},
	} {
		r := NewReader(tc.in)
		tc.read(&r)
		err := r.Err()
		if err == nil || err.Error() != tc.want || errors.Is(err, ErrShort) != tc.short {
			t.Errorf("%s: error %v, want %q (input ends early: %v)", tc.name, err, tc.want, tc.short)
			continue
		}
		checkSticky(t, tc.name, &r, err)
	}
}

// checkSticky reads every kind of value from r, whose first error is err:
// each must be zero, read no bytes and leave err in place.
func checkSticky(t *testing.T, name string, r *Reader, err error) {
	t.Helper()
	for o := range byte(nOps) {
		if v := readOp(r, o+nOps*12); !reflect.ValueOf(v).IsZero() { // Count of 7 or 8 bytes, Take of 6 or 7
			t.Errorf("%s: %s after the error gave %v", name, opNames[o], v)
		}
		if r.Err() != err || r.Len() != 0 || len(r.Rest()) != 0 {
			t.Errorf("%s: after %s: error %v, %d bytes left; want %v and none", name, opNames[o], r.Err(), r.Len(), err)
		}
	}
}

// The reads FuzzReader makes, chosen by an op byte: its value modulo nOps
// picks the read, its upper half gives Count's size and Take's length.
const nOps = 9

var opNames = [nOps]string{"Uvarint", "Varint", "Byte", "Bool", "Float64", "Count", "Take", "Str", "Bytes"}

func readOp(r *Reader, o byte) any {
	switch o % nOps {
	case 0:
		return r.Uvarint()
	case 1:
		return r.Varint()
	case 2:
		return r.Byte()
	case 3:
		return r.Bool()
	case 4:
		return math.Float64bits(r.Float64())
	case 5:
		return r.Count(int(o>>4) + 1)
	case 6:
		return string(r.Take(uint64(o >> 4)))
	case 7:
		return r.Str()
	default:
		return string(r.Bytes())
	}
}

// appendOp appends v, read by op o, as the writers write it.
func appendOp(dst []byte, o byte, v any) []byte {
	switch o % nOps {
	case 0, 5:
		if n, ok := v.(int); ok {
			v = uint64(n)
		}
		return AppendUvarint(dst, v.(uint64))
	case 1:
		return AppendVarint(dst, v.(int64))
	case 2:
		return append(dst, v.(byte))
	case 3:
		return AppendBool(dst, v.(bool))
	case 4:
		return AppendFloat64(dst, math.Float64frombits(v.(uint64)))
	case 6:
		return append(dst, v.(string)...)
	case 7:
		return AppendString(dst, v.(string))
	default:
		return AppendBytes(dst, []byte(v.(string)))
	}
}

// FuzzReader reads data with the reads ops names. No input may panic;
// every read takes the bytes it says, a number as encoding/binary reads it;
// the first error sticks. The values read before an error, written again
// and read with the same reads, come back the same and use up the bytes.
func FuzzReader(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8}, []byte{0xac, 0x02, 0x03, 7, 1, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 2, 0x60, 1, 'a', 0})
	f.Add([]byte{0, 0}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x80})
	f.Add([]byte{3, 0x25, 7}, []byte{2, 9, 9, 9, 5, 'a'})
	f.Fuzz(func(t *testing.T, ops, data []byte) {
		r := NewReader(data)
		var vals []any
		for _, o := range ops {
			before := r.Rest()
			v := readOp(&r, o)
			if err := r.Err(); err != nil {
				checkSticky(t, "fuzz", &r, err)
				break
			}
			used := len(before) - r.Len()
			if used < 0 || !bytes.Equal(r.Rest(), data[len(data)-r.Len():]) {
				t.Fatalf("%s used %d bytes, left % x of % x", opNames[o%nOps], used, r.Rest(), data)
			}
			if o%nOps == 0 {
				if want, n := binary.Uvarint(before); want != v || n != used {
					t.Fatalf("Uvarint read %d from % x in %d bytes; binary.Uvarint reads %d in %d", v, before, used, want, n)
				}
			}
			vals = append(vals, v)
		}
		var b []byte
		for i, v := range vals {
			b = appendOp(b, ops[i], v)
		}
		again := NewReader(b)
		for i, v := range vals {
			o := ops[i]
			if o%nOps == 5 {
				o = 0 // the length alone, without the elements it counts
				v = uint64(v.(int))
			}
			if got := readOp(&again, o); got != v {
				t.Fatalf("%s wrote %v, read back %v (error %v)", opNames[o%nOps], v, got, again.Err())
			}
		}
		if again.Err() != nil || again.Len() != 0 {
			t.Fatalf("after the values written: error %v, %d bytes left", again.Err(), again.Len())
		}
	})
}

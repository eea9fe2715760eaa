package otlpconv

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/event"
)

func TestAppendTimeMatchesTimePackage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	values := []int64{0, 1, -1, 999_999_999, -999_999_999, 1e9, -1e9, 86_400e9 - 1, -86_400e9,
		math.MaxInt64, math.MinInt64, 951_782_400e9, 1_700_000_000_123_456_789, 1_700_000_000_100_000_000,
		-62_135_596_800e9 / 1000, 4_107_542_400e9, 946_684_799_999_999_999}
	for range 200_000 {
		values = append(values, int64(r.Uint64()), r.Int64N(4_102_444_800e9)) // up to 2100
	}
	for _, ns := range values {
		tm := time.Unix(0, ns).UTC()
		if got, want := string(appendTime(nil, ns, false)), event.FormatNanos(tm); got != want {
			t.Fatalf("%d: %s, want %s", ns, got, want)
		}
		if got, want := string(appendTime(nil, ns, true)), event.FormatTimestamp(tm); got != want {
			t.Fatalf("%d millis: %s, want %s", ns, got, want)
		}
	}
}

// TestTimeCache formats runs of nearby times, as the records of a request
// carry them (same second, next second, next day, backwards, before 1970),
// through one cache, and compares each with the time package.
func TestTimeCache(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var c timeCache
	for _, start := range []int64{1_700_000_000_123_456_789, 86_400e9 - 5e8, -1, -86_400e9 + 3, 951_868_799_999_000_000} {
		ns := start
		for range 20_000 {
			ns += r.Int64N(4e8) - 1e8 // mostly forwards, within and across seconds
			tm := time.Unix(0, ns).UTC()
			if got, want := string(c.appendTime(nil, ns, false)), event.FormatNanos(tm); got != want {
				t.Fatalf("%d: %s, want %s", ns, got, want)
			}
			if got, want := string(c.appendTime(nil, ns, true)), event.FormatTimestamp(tm); got != want {
				t.Fatalf("%d millis: %s, want %s", ns, got, want)
			}
		}
	}
}

func checkStringLikeJSON(t *testing.T, s string) {
	t.Helper()
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := appendString(nil, s); string(got) != string(want) {
		t.Fatalf("%q: %s, want %s", s, got, want)
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain ascii text long enough", "a\"b\\c<d>e&f", "\x00\x01\x1f\x7f", "\b\f\n\r\t",
		"héllo wörld ✓ 😀", "bad \xff\xfe utf8", "\u2028\u2029", "12345678<", "1234567\xc3", "abcdefgh\xe2\x80\xa8ijklmnop"} {
		checkStringLikeJSON(t, s)
	}
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("abcXYZ019 \"\\<>&\x00\x1f\x7f\x80\xc3\xa9\xe2\x80\xa8\xff")
	for range 20_000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		checkStringLikeJSON(t, string(b))
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("order <42> placed & paid \u2028 \xff")
	f.Fuzz(func(t *testing.T, s string) { checkStringLikeJSON(t, s) })
}

func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	values := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 1e-7, 9.99999e-7, 1e20, 1e21, 1.5e300, math.MaxFloat64,
		math.SmallestNonzeroFloat64, 123456789.123, -2.5e-10}
	for range 100_000 {
		values = append(values, math.Float64frombits(r.Uint64()), r.NormFloat64()*math.Pow(10, float64(r.IntN(60)-30)))
	}
	for _, f := range values {
		if !finite(f) {
			continue
		}
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendFloat(nil, f); string(got) != string(want) {
			t.Fatalf("%v: %s, want %s", f, got, want)
		}
	}
}

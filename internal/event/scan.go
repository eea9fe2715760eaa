package event

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner reads JSON from one string, the value of a record. It is the
// fast path of DecodeRecord: anything it does not handle, or that is not
// valid, makes it give up (ok false), and encoding/json decodes the record
// instead, so that every error is encoding/json's. What it accepts it
// decodes to the same values encoding/json does.
type scanner struct {
	s     string
	i     int
	depth int
}

// maxScanDepth bounds the nesting of attribute and body values the
// scanner follows; deeper values are left to encoding/json.
const maxScanDepth = 64

func (sc *scanner) ws() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// end reports whether only white space is left.
func (sc *scanner) end() bool {
	sc.ws()
	return sc.i == len(sc.s)
}

// peek returns the next byte, or 0 at the end.
func (sc *scanner) peek() byte {
	if sc.i < len(sc.s) {
		return sc.s[sc.i]
	}
	return 0
}

func (sc *scanner) eat(c byte) bool {
	if sc.i < len(sc.s) && sc.s[sc.i] == c {
		sc.i++
		return true
	}
	return false
}

// word consumes the literal w (true, false, null).
func (sc *scanner) word(w string) bool {
	if strings.HasPrefix(sc.s[sc.i:], w) {
		sc.i += len(w)
		return true
	}
	return false
}

// null consumes a null literal if one is next.
func (sc *scanner) null() bool { return sc.peek() == 'n' && sc.word("null") }

// str reads a string literal and returns its value: a substring of the
// input unless it holds escapes or invalid UTF-8, which are decoded as
// encoding/json does (invalid bytes and lone surrogates become U+FFFD).
func (sc *scanner) str() (string, bool) {
	if !sc.eat('"') {
		return "", false
	}
	start := sc.i
	for sc.i < len(sc.s) && !strSpecial[sc.s[sc.i]] {
		sc.i++
	}
	if sc.i < len(sc.s) && sc.s[sc.i] == '"' {
		sc.i++
		return sc.s[start : sc.i-1], true
	}
	for sc.i < len(sc.s) {
		switch c := sc.s[sc.i]; {
		case c == '"':
			sc.i++
			return unquote(sc.s[start : sc.i-1])
		case c == '\\':
			sc.i += 2
		case c < ' ':
			return "", false
		default:
			sc.i++
		}
	}
	return "", false
}

// strSpecial marks the bytes that end the plain part of a string literal:
// the closing quote, escapes, control characters and bytes outside ASCII.
var strSpecial = func() (t [256]bool) {
	for c := range t {
		t[c] = c == '"' || c == '\\' || c < ' ' || c >= utf8.RuneSelf
	}
	return t
}()

// unquote decodes the body of a string literal that holds escapes or
// bytes outside ASCII.
func unquote(lit string) (string, bool) {
	if !strings.ContainsRune(lit, '\\') && utf8.ValidString(lit) {
		return lit, true
	}
	b := make([]byte, 0, len(lit)+8)
	for r := 0; r < len(lit); {
		c := lit[r]
		switch {
		case c == '\\':
			if r+1 >= len(lit) {
				return "", false
			}
			switch e := lit[r+1]; e {
			case '"', '\\', '/':
				b, r = append(b, e), r+2
			case 'b':
				b, r = append(b, '\b'), r+2
			case 'f':
				b, r = append(b, '\f'), r+2
			case 'n':
				b, r = append(b, '\n'), r+2
			case 'r':
				b, r = append(b, '\r'), r+2
			case 't':
				b, r = append(b, '\t'), r+2
			case 'u':
				rr := hex4(lit[r+2:])
				if rr < 0 {
					return "", false
				}
				r += 6
				if utf16.IsSurrogate(rr) {
					if r+1 < len(lit) && lit[r] == '\\' && lit[r+1] == 'u' {
						if rr1 := hex4(lit[r+2:]); rr1 >= 0 {
							if dec := utf16.DecodeRune(rr, rr1); dec != utf8.RuneError {
								b, r = utf8.AppendRune(b, dec), r+6
								continue
							}
						}
					}
					rr = utf8.RuneError
				}
				b = utf8.AppendRune(b, rr)
			default:
				return "", false
			}
		case c < utf8.RuneSelf:
			b, r = append(b, c), r+1
		default:
			rr, size := utf8.DecodeRuneInString(lit[r:])
			r += size
			b = utf8.AppendRune(b, rr)
		}
	}
	return string(b), true
}

// hex4 reads four hex digits, or returns -1.
func hex4(s string) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range []byte(s[:4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// number reads a number literal (JSON's grammar) and returns its text.
func (sc *scanner) number() (string, bool) {
	start := sc.i
	sc.eat('-')
	switch {
	case sc.eat('0'):
	case sc.digits() == 0:
		return "", false
	}
	if sc.eat('.') && sc.digits() == 0 {
		return "", false
	}
	if c := sc.peek(); c == 'e' || c == 'E' {
		sc.i++
		if c := sc.peek(); c == '+' || c == '-' {
			sc.i++
		}
		if sc.digits() == 0 {
			return "", false
		}
	}
	return sc.s[start:sc.i], true
}

func (sc *scanner) digits() int {
	start := sc.i
	for sc.i < len(sc.s) && '0' <= sc.s[sc.i] && sc.s[sc.i] <= '9' {
		sc.i++
	}
	return sc.i - start
}

// validNumber reports whether s is a JSON number literal.
func validNumber(s string) bool {
	sc := scanner{s: s}
	_, ok := sc.number()
	return ok && sc.i == len(s)
}

// members calls f for each member of the object at the cursor, with the
// cursor on the member's value; f consumes the value.
func (sc *scanner) members(f func(key string) bool) bool {
	if !sc.eat('{') {
		return false
	}
	sc.ws()
	if sc.eat('}') {
		return true
	}
	for {
		sc.ws()
		key, ok := sc.str()
		if !ok {
			return false
		}
		sc.ws()
		if !sc.eat(':') {
			return false
		}
		sc.ws()
		if !f(key) {
			return false
		}
		sc.ws()
		if !sc.eat(',') {
			return sc.eat('}')
		}
	}
}

// elements calls f for each element of the array at the cursor, with the
// cursor on the element; f consumes it.
func (sc *scanner) elements(f func() bool) bool {
	if !sc.eat('[') {
		return false
	}
	sc.ws()
	if sc.eat(']') {
		return true
	}
	for {
		sc.ws()
		if !f() {
			return false
		}
		sc.ws()
		if !sc.eat(',') {
			return sc.eat(']')
		}
	}
}

// value reads any value as encoding/json decodes it into an interface:
// string, float64, bool, nil, map[string]any or []any.
func (sc *scanner) value() (any, bool) {
	switch c := sc.peek(); {
	case c == '"':
		return sc.str()
	case c == '{':
		return sc.object()
	case c == '[':
		if sc.depth++; sc.depth > maxScanDepth {
			return nil, false
		}
		out := make([]any, 0)
		ok := sc.elements(func() bool {
			v, ok := sc.value()
			out = append(out, v)
			return ok
		})
		sc.depth--
		return out, ok
	case c == 't':
		return true, sc.word("true")
	case c == 'f':
		return false, sc.word("false")
	case c == 'n':
		return nil, sc.word("null")
	default:
		lit, ok := sc.number()
		if !ok {
			return nil, false
		}
		f, err := strconv.ParseFloat(lit, 64)
		return f, err == nil
	}
}

// object reads an object into a map[string]any; of a key given twice the
// last value wins.
func (sc *scanner) object() (map[string]any, bool) {
	if sc.depth++; sc.depth > maxScanDepth {
		return nil, false
	}
	out := make(map[string]any)
	ok := sc.members(func(key string) bool {
		v, ok := sc.value()
		out[key] = v
		return ok
	})
	sc.depth--
	return out, ok
}

// skip reads and checks a value it has no use for.
func (sc *scanner) skip() bool {
	switch c := sc.peek(); {
	case c == '"':
		_, ok := sc.str()
		return ok
	case c == '{':
		if sc.depth++; sc.depth > maxScanDepth {
			return false
		}
		ok := sc.members(func(string) bool { return sc.skip() })
		sc.depth--
		return ok
	case c == '[':
		if sc.depth++; sc.depth > maxScanDepth {
			return false
		}
		ok := sc.elements(sc.skip)
		sc.depth--
		return ok
	case c == 't':
		return sc.word("true")
	case c == 'f':
		return sc.word("false")
	case c == 'n':
		return sc.word("null")
	default:
		_, ok := sc.number()
		return ok
	}
}

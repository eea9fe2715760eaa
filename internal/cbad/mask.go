package cbad

import "strings"

// maskInto appends s to dst with what always changes masked: tokens made of
// digits and hex letters (numbers, hex ids, UUIDs, IP addresses, timestamps)
// become <*>, quoted values become "<*>", over-long tokens become <*>, and
// digit runs inside other tokens (host names, paths, pids) become #.
// Whitespace runs collapse to one space.
func maskInto(dst []byte, s string) []byte {
	i := 0
	for i < len(s) {
		if isSpace(s[i]) {
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			if len(dst) > 0 && dst[len(dst)-1] != ' ' {
				dst = append(dst, ' ')
			}
			continue
		}
		if q := s[i]; (q == '"' || q == '\'') && quoteStart(s, i) {
			if end := indexFrom(s, q, i+1); end > 0 {
				dst = append(dst, q, '<', '*', '>', q)
				i = end + 1
				continue
			}
		}
		j := i
		for j < len(s) && !isSpace(s[j]) {
			j++
		}
		dst = maskToken(dst, s[i:j])
		i = j
	}
	return dst
}

// maskToken masks one whitespace-free token.
func maskToken(dst []byte, tok string) []byte {
	lo, hi := 0, len(tok)
	for lo < hi && isEdgePunct(tok[lo]) {
		lo++
	}
	for hi > lo && isEdgePunct(tok[hi-1]) {
		hi--
	}
	core := tok[lo:hi]
	dst = append(dst, tok[:lo]...)
	if k := strings.IndexAny(core, "=,;"); k > 0 && k < len(core)-1 {
		// key=value, a,b: mask each part on its own.
		dst = maskToken(dst, core[:k])
		dst = append(dst, core[k])
		dst = maskToken(dst, core[k+1:])
		return append(dst, tok[hi:]...)
	}
	switch {
	case len(core) > maxTokenLen || isNumberLike(core):
		dst = append(dst, '<', '*', '>')
	default:
		for k := 0; k < len(core); k++ {
			if isDigit(core[k]) {
				for k+1 < len(core) && isDigit(core[k+1]) {
					k++
				}
				dst = append(dst, '#')
				continue
			}
			dst = append(dst, core[k])
		}
	}
	return append(dst, tok[hi:]...)
}

// isNumberLike reports whether tok holds only hex letters and the
// separators of numbers, times, addresses and ids, and a digit or at least
// minHexID hex letters (an id such as "fdceabaf" that happens to hold no
// digit).
func isNumberLike(tok string) bool {
	digits, hex := 0, 0
	for k := 0; k < len(tok); k++ {
		c := tok[k]
		switch {
		case isDigit(c):
			digits++
		case c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
			hex++
		case c == '.', c == ':', c == '-', c == '_', c == '+', c == '/', c == ',':
		case (c == 'x' || c == 'X') && k == 1 && tok[0] == '0':
		default:
			return false
		}
	}
	return digits > 0 || hex >= minHexID
}

// minHexID is how many hex letters make a digit-free token an id: English
// words spelt with a to f alone are shorter.
const minHexID = 8

// quoteStart reports whether the quote at s[i] opens a quoted value rather
// than being an apostrophe inside a word.
func quoteStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	switch s[i-1] {
	case ' ', '\t', '=', ':', '(', '[', '{', ',':
		return true
	}
	return false
}

func indexFrom(s string, c byte, from int) int {
	for k := from; k < len(s); k++ {
		if s[k] == c {
			return k
		}
		if s[k] == '\n' {
			return -1
		}
	}
	return -1
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isEdgePunct(c byte) bool {
	switch c {
	case '(', ')', '[', ']', '{', '}', '<', '>', ',', ';', ':', '.', '!', '?', '=':
		return true
	}
	return false
}

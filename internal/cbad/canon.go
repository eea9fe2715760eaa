package cbad

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
)

// maxAttrKeys bounds the attribute keys whose values a stream tracks.
const maxAttrKeys = 64

// maxTokenLen is the length beyond which a token is masked whatever it holds
// (base64 blobs, long hashes, serialised payloads).
const maxTokenLen = 40

// canonicalizer turns log records and spans into canonical lines: what
// always changes is masked, what matters (message shape, severity, recurring
// attributes) stays. It keeps a small, bounded per-stream memory of which
// attributes are low-cardinality.
type canonicalizer struct {
	maxValues int
	attrs     map[string]*attrValues
	keys      []string
	buf       []byte
}

// attrValues remembers the distinct (masked) values of one attribute key
// until there are more than maxValues of them.
type attrValues struct {
	values []string
	high   bool
}

func newCanonicalizer(maxValues int) *canonicalizer {
	return &canonicalizer{maxValues: maxValues, attrs: make(map[string]*attrValues)}
}

// severityName returns the severity text, falling back to the OTLP
// severity number's range.
func severityName(text string, number int32) string {
	if text != "" {
		return text
	}
	names := [...]string{"UNSET", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}
	if number < 1 || number > 24 {
		return names[0]
	}
	return names[1+(number-1)/4]
}

// bodyText renders a log body as text.
func bodyText(body any) string {
	switch b := body.(type) {
	case nil:
		return ""
	case string:
		return b
	default:
		out, err := json.Marshal(b)
		if err != nil {
			return fmt.Sprint(b)
		}
		return string(out)
	}
}

// log returns the canonical line of a log record.
func (c *canonicalizer) log(severity, body string, attrs map[string]any) []byte {
	c.buf = append(c.buf[:0], severity...)
	c.buf = append(c.buf, ' ')
	c.buf = maskInto(c.buf, body)
	c.buf = c.appendAttrs(c.buf, attrs)
	return c.buf
}

// span returns the canonical line of a span: name, kind, status, a duration
// bucket (powers of two of microseconds) and attribute keys.
func (c *canonicalizer) span(name, kind, status string, durNanos int64, attrs map[string]any) []byte {
	c.buf = append(c.buf[:0], "SPAN "...)
	c.buf = maskInto(c.buf, name)
	c.buf = append(c.buf, ' ')
	c.buf = append(c.buf, kind...)
	c.buf = append(c.buf, ' ')
	c.buf = append(c.buf, status...)
	c.buf = append(c.buf, " d"...)
	us := max(durNanos/1000, 0)
	c.buf = strconv.AppendInt(c.buf, int64(bits.Len64(uint64(us))), 10)
	c.buf = c.appendAttrs(c.buf, attrs)
	return c.buf
}

// appendAttrs appends the attributes in key order: key=value while the key
// has shown at most maxValues distinct values, the key alone after that.
// service.name is left out: it names the stream, so it is the same on every
// event and would only clutter the shapes quoted in explanations.
func (c *canonicalizer) appendAttrs(dst []byte, attrs map[string]any) []byte {
	c.keys = c.keys[:0]
	for k := range attrs {
		if k != "service.name" {
			c.keys = append(c.keys, k)
		}
	}
	slices.Sort(c.keys)
	for _, k := range c.keys {
		dst = append(dst, ' ')
		dst = append(dst, k...)
		mark := len(dst)
		dst = append(dst, '=')
		dst = maskInto(dst, attrString(attrs[k]))
		if !c.lowCardinality(k, dst[mark+1:]) {
			dst = dst[:mark]
		}
	}
	return dst
}

// lowCardinality records value for key and reports whether the key still
// has few enough distinct values to keep them.
func (c *canonicalizer) lowCardinality(key string, value []byte) bool {
	av := c.attrs[key]
	if av == nil {
		if len(c.attrs) >= maxAttrKeys {
			return false
		}
		av = &attrValues{}
		c.attrs[key] = av
	}
	if av.high {
		return false
	}
	for _, v := range av.values {
		if v == string(value) {
			return true
		}
	}
	if len(av.values) >= c.maxValues {
		av.high, av.values = true, nil
		return false
	}
	av.values = append(av.values, string(value))
	return true
}

func attrString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

// sizeBytes approximates the canonicalizer's retained memory.
func (c *canonicalizer) sizeBytes() int {
	n := cap(c.buf) + 16*cap(c.keys)
	for k, av := range c.attrs {
		n += len(k) + 64
		for _, v := range av.values {
			n += len(v) + 16
		}
	}
	return n
}

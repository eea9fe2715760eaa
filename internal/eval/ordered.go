package eval

import (
	"bytes"
	"encoding/json"
)

// Fields is a JSON object whose keys keep the order they were added in, so
// the last line of a report reads as CONTRACT.md shows it.
type Fields struct {
	keys   []string
	values map[string]any
}

// Add appends key with value.
func (f *Fields) Add(key string, value any) *Fields {
	if f.values == nil {
		f.values = map[string]any{}
	}
	if _, ok := f.values[key]; !ok {
		f.keys = append(f.keys, key)
	}
	f.values[key] = value
	return f
}

// MarshalJSON writes the object with its keys in order.
func (f *Fields) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range f.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(f.values[k])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

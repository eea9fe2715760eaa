package detector

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/driftlock/driftlock/internal/cbad"
	"github.com/driftlock/driftlock/internal/event"
)

// stateVersion is the version of the partition state encoding.
const stateVersion = 1

// appendState appends the encoding of the processor's partition state,
// standing before the record at next, to dst: the partition, next, the
// settings hash, then every stream, most recently seen first (the
// max_streams eviction order), as its key and its scoring core snapshot.
// Each stream's incidents are part of its snapshot.
func (p *Processor) appendState(dst []byte, next int64) []byte {
	dst = binary.AppendUvarint(dst, stateVersion)
	dst = binary.AppendVarint(dst, int64(p.partition))
	dst = binary.AppendVarint(dst, next)
	dst = appendString(dst, p.records.configHash)
	t := p.streams
	dst = binary.AppendUvarint(dst, uint64(t.order.Len()))
	var snap []byte
	for el := t.order.Front(); el != nil; el = el.Next() {
		st := el.Value.(*stream)
		dst = appendString(dst, st.id.key)
		snap = st.scorer.AppendSnapshot(snap[:0])
		dst = binary.AppendUvarint(dst, uint64(len(snap)))
		dst = append(dst, snap...)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// errOtherSettings marks a checkpoint written under other scoring settings.
var errOtherSettings = errors.New("checkpoint written under other detector settings")

// restoreState decodes a partition state written by appendState into a
// new processor of partition under the Service's settings, and returns it
// with the offset it stands before. A state of another partition, version
// or settings, or bytes that do not decode, give an error.
func (s *Service) restoreState(partition int, data []byte) (*Processor, int64, error) {
	d := stateDecoder{b: data}
	if v := d.uvarint(); d.err == nil && v != stateVersion {
		return nil, 0, fmt.Errorf("partition state version %d, want %d", v, stateVersion)
	}
	if p := d.varint(); d.err == nil && p != int64(partition) {
		return nil, 0, fmt.Errorf("partition state of partition %d, want %d", p, partition)
	}
	next := d.varint()
	if h := d.str(); d.err == nil && h != s.records.configHash {
		return nil, 0, fmt.Errorf("%w (config hash %s, now %s)", errOtherSettings, h, s.records.configHash)
	}
	n := d.uvarint()
	if d.err == nil && (n > uint64(s.cfg.Detector.MaxStreams) || next < 0) {
		return nil, 0, fmt.Errorf("partition state of %d streams at offset %d (max_streams %d)", n, next, s.cfg.Detector.MaxStreams)
	}
	tab := newStreamTable(s.cfg.Detector.MaxStreams, s.scoring, s.newScorer)
	for i := uint64(0); i < n && d.err == nil; i++ {
		key := d.str()
		snap := d.take(d.uvarint())
		if d.err != nil {
			break
		}
		if _, dup := tab.byKey[key]; dup {
			return nil, 0, fmt.Errorf("partition state holds stream %q twice", key)
		}
		service, signal, metric, err := event.ParseStreamKey(key)
		if err != nil {
			return nil, 0, fmt.Errorf("partition state: %w", err)
		}
		sc, err := cbad.RestoreStream(key, s.scoring, snap)
		if err != nil {
			return nil, 0, err
		}
		st := &stream{id: streamID{key: key, service: service, signal: signal, metric: metric}, scorer: sc}
		tab.byKey[key] = tab.order.PushBack(st)
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d bytes after the partition state", len(d.b))
	}
	if d.err != nil {
		return nil, 0, fmt.Errorf("partition state: %w", d.err)
	}
	return newProcessor(partition, tab, s.records), next, nil
}

// stateDecoder reads a partition state; the first error sticks.
type stateDecoder struct {
	b   []byte
	err error
}

func (d *stateDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("bad or missing number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *stateDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errors.New("bad or missing number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *stateDecoder) take(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = fmt.Errorf("length %d exceeds the %d bytes left", n, len(d.b))
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *stateDecoder) str() string { return string(d.take(d.uvarint())) }

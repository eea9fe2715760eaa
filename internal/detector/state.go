package detector

import (
	"errors"
	"fmt"

	"github.com/driftlock/driftlock/internal/cbad"
	"github.com/driftlock/driftlock/internal/event"
	"github.com/driftlock/driftlock/internal/varbytes"
)

// stateVersion is the version of the partition state encoding.
const stateVersion = 1

// appendState appends the encoding of the processor's partition state,
// standing before the record at next, to dst: the partition, next, the
// settings hash, then every stream, most recently seen first (the
// max_streams eviction order), as its key and its scoring core snapshot.
// Each stream's incidents are part of its snapshot.
func (p *Processor) appendState(dst []byte, next int64) []byte {
	dst = varbytes.AppendUvarint(dst, stateVersion)
	dst = varbytes.AppendVarint(dst, int64(p.partition))
	dst = varbytes.AppendVarint(dst, next)
	dst = varbytes.AppendString(dst, p.records.configHash)
	t := p.streams
	dst = varbytes.AppendUvarint(dst, uint64(t.order.Len()))
	var snap []byte
	for el := t.order.Front(); el != nil; el = el.Next() {
		st := el.Value.(*stream)
		dst = varbytes.AppendString(dst, st.id.key)
		snap = st.scorer.AppendSnapshot(snap[:0])
		dst = varbytes.AppendBytes(dst, snap)
	}
	return dst
}

// errOtherSettings marks a checkpoint written under other scoring settings.
var errOtherSettings = errors.New("checkpoint written under other detector settings")

// restoreState decodes a partition state written by appendState into a
// new processor of partition under the Service's settings, and returns it
// with the offset it stands before. A state of another partition, version
// or settings, or bytes that do not decode, give an error.
func (s *Service) restoreState(partition int, data []byte) (*Processor, int64, error) {
	d := varbytes.NewReader(data)
	if v := d.Uvarint(); d.Err() == nil && v != stateVersion {
		return nil, 0, fmt.Errorf("partition state version %d, want %d", v, stateVersion)
	}
	if p := d.Varint(); d.Err() == nil && p != int64(partition) {
		return nil, 0, fmt.Errorf("partition state of partition %d, want %d", p, partition)
	}
	next := d.Varint()
	if h := d.Str(); d.Err() == nil && h != s.records.configHash {
		return nil, 0, fmt.Errorf("%w (config hash %s, now %s)", errOtherSettings, h, s.records.configHash)
	}
	n := d.Uvarint()
	if d.Err() == nil && (n > uint64(s.cfg.Detector.MaxStreams) || next < 0) {
		return nil, 0, fmt.Errorf("partition state of %d streams at offset %d (max_streams %d)", n, next, s.cfg.Detector.MaxStreams)
	}
	tab := newStreamTable(s.cfg.Detector.MaxStreams, s.scoring, s.newScorer)
	for i := uint64(0); i < n && d.Err() == nil; i++ {
		key := d.Str()
		snap := d.Take(d.Uvarint())
		if d.Err() != nil {
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
	if d.Len() > 0 {
		d.Failf("%d bytes after the partition state", d.Len())
	}
	if d.Err() != nil {
		return nil, 0, fmt.Errorf("partition state: %w", d.Err())
	}
	return newProcessor(partition, tab, s.records), next, nil
}

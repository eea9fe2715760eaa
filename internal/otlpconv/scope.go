package otlpconv

import commonpb "go.opentelemetry.io/proto/otlp/common/v1"

// setScope makes scope the instrumentation scope of the records that follow.
func (b *batch) setScope(scope *commonpb.InstrumentationScope) {
	b.scopeSet(scope.GetName(), scope.GetVersion())
}

// wireScope is setScope for the scope (field 1) of a checked ScopeLogs or
// ScopeMetrics, wherever it comes among the items. checkWire lets it come
// at most once, so the walk ends there: at the first field, as encoders
// write it.
func (b *batch) wireScope(scoped []byte) {
	var name, version []byte
	for it := (wireIter{b: scoped}); it.next(); {
		if it.num != 1 {
			continue
		}
		for f := (wireIter{b: it.bytes()}); f.next(); {
			switch f.num {
			case 1:
				name = f.bytes()
			case 2:
				version = f.bytes()
			}
		}
		break
	}
	b.scopeSet(bstr(name), bstr(version))
}

// scopeSet writes the scope's "scope_name" and "scope_version" once, each
// only when it is not empty (the omitempty fields of package event), for
// appendScope to copy into each record.
func (b *batch) scopeSet(name, version string) {
	b.scope = b.scope[:0]
	if name != "" {
		b.scope = append(b.scope, `,"scope_name":`...)
		b.scope = appendString(b.scope, name)
	}
	if version != "" {
		b.scope = append(b.scope, `,"scope_version":`...)
		b.scope = appendString(b.scope, version)
	}
}

// appendScope writes the current scope's fields into the record.
func (b *batch) appendScope() { b.buf = append(b.buf, b.scope...) }

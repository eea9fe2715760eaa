package otlpconv

import (
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// The wire path converts OTLP/protobuf requests to records straight from
// the body, without building protobuf-go messages. It first checks the whole
// body against narrow rules (no unknown field, no field or oneof given
// twice, the expected wire types, valid UTF-8, nesting within maxWireDepth):
// any other body is left to protobuf-go and the converter, so the wire path
// only ever sees requests whose conversion it reproduces byte for byte
// (FuzzWireLogs and FuzzWireMetrics check that against the converter).

// How a field of a message is checked.
const (
	ruleNone   = iota // unknown: the wire path leaves the body alone
	ruleScalar        // a scalar of wire type typ, at most once
	ruleText          // a string, at most once
	ruleValue         // an AnyValue, at most once
	ruleMsg           // a message checked by sub, at most once
	ruleList          // a repeated message checked by sub
	ruleItems         // a repeated message checked by sub, counted as items
)

// rule says how one field number of a message is checked. Fields that
// share a slot other than 0 are the cases of a oneof: at most one of them
// may be given, once.
type rule struct {
	kind uint8
	typ  protowire.Type
	sub  []rule
	slot protowire.Number
}

var (
	keyValueRules = []rule{1: {kind: ruleText}, 2: {kind: ruleValue}}
	attrsRule     = rule{kind: ruleList, sub: keyValueRules}
	resourceRules = []rule{1: attrsRule, 2: {kind: ruleScalar, typ: protowire.VarintType}}
	scopeRules    = []rule{1: {kind: ruleText}, 2: {kind: ruleText}, 3: attrsRule, 4: {kind: ruleScalar, typ: protowire.VarintType}}

	logRecordRules = []rule{
		1: {kind: ruleScalar, typ: protowire.Fixed64Type}, 2: {kind: ruleScalar, typ: protowire.VarintType},
		3: {kind: ruleText}, 5: {kind: ruleValue}, 6: attrsRule, 7: {kind: ruleScalar, typ: protowire.VarintType},
		8: {kind: ruleScalar, typ: protowire.Fixed32Type}, 9: {kind: ruleScalar, typ: protowire.BytesType},
		10: {kind: ruleScalar, typ: protowire.BytesType}, 11: {kind: ruleScalar, typ: protowire.Fixed64Type},
		12: {kind: ruleText},
	}
	scopeLogsRules    = []rule{1: {kind: ruleMsg, sub: scopeRules}, 2: {kind: ruleItems, sub: logRecordRules}, 3: {kind: ruleText}}
	resourceLogsRules = []rule{1: {kind: ruleMsg, sub: resourceRules}, 2: {kind: ruleList, sub: scopeLogsRules}, 3: {kind: ruleText}}
	logsRequestRules  = []rule{1: {kind: ruleList, sub: resourceLogsRules}}
)

// checkWire reports whether the wire path takes body, a message of rules,
// and counts its items.
func checkWire(body []byte, rules []rule) (items int, ok bool) {
	ok = checkFields(body, rules, 0, &items)
	return items, ok
}

// checkFields checks the fields of message b against rules; depth is the
// nesting of its values (not 0 only for a KeyValue inside a list).
func checkFields(b []byte, rules []rule, depth int, items *int) bool {
	var seen uint32
	for i := 0; i < len(b); {
		num, typ, u, next := readField(b, i)
		if next < 0 || int(num) >= len(rules) {
			return false
		}
		r := &rules[num]
		if r.slot != 0 {
			num = r.slot
		}
		ok := false
		switch r.kind {
		case ruleScalar:
			ok = onceTyped(&seen, num, typ, r.typ)
		case ruleText:
			ok = onceTyped(&seen, num, typ, protowire.BytesType) && utf8.Valid(b[next-int(u):next])
		case ruleValue:
			ok = onceTyped(&seen, num, typ, protowire.BytesType) && checkValue(b[next-int(u):next], depth)
		case ruleMsg:
			ok = onceTyped(&seen, num, typ, protowire.BytesType) && checkFields(b[next-int(u):next], r.sub, 0, items)
		case ruleList, ruleItems:
			ok = typ == protowire.BytesType && checkFields(b[next-int(u):next], r.sub, 0, items)
			if r.kind == ruleItems {
				*items++
			}
		}
		if !ok {
			return false
		}
		i = next
	}
	return true
}

// checkValue checks an AnyValue at nesting depth: one case of the oneof at
// most, strings valid UTF-8, no deeper than maxWireDepth.
func checkValue(b []byte, depth int) bool {
	if depth > maxWireDepth {
		return false
	}
	if len(b) == 0 {
		return true
	}
	num, typ, u, next := readField(b, 0)
	if next != len(b) {
		return false
	}
	var v []byte
	if typ == protowire.BytesType {
		v = b[next-int(u) : next]
	}
	switch {
	case num == 1 && typ == protowire.BytesType:
		return utf8.Valid(v)
	case num == 2 && typ == protowire.VarintType, num == 3 && typ == protowire.VarintType,
		num == 4 && typ == protowire.Fixed64Type, num == 7 && typ == protowire.BytesType:
		return true
	case num == 5 && typ == protowire.BytesType:
		return checkList(v, depth+1, checkValue)
	case num == 6 && typ == protowire.BytesType:
		return checkList(v, depth+1, checkKeyValue)
	}
	return false
}

// checkKeyValue checks a KeyValue whose value nests at depth.
func checkKeyValue(b []byte, depth int) bool {
	return checkFields(b, keyValueRules, depth, nil)
}

// checkList checks the elements (field 1) of an ArrayValue or KeyValueList.
func checkList(b []byte, depth int, elem func([]byte, int) bool) bool {
	for i := 0; i < len(b); {
		num, typ, u, next := readField(b, i)
		if next < 0 || num != 1 || typ != protowire.BytesType || !elem(b[next-int(u):next], depth) {
			return false
		}
		i = next
	}
	return true
}

// maxWireDepth bounds the nesting of attribute values the wire path reads.
const maxWireDepth = 64

// onceTyped reports whether field num, of wire type typ, comes for the first
// time among those noted in seen and has wire type want, and notes it.
func onceTyped(seen *uint32, num protowire.Number, typ, want protowire.Type) bool {
	bit := uint32(1) << (num & 31)
	if typ != want || *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

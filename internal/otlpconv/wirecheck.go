package otlpconv

import (
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// The wire path converts OTLP/protobuf requests to records straight from
// the body, without building protobuf-go messages. It first checks the whole
// body against the same narrow rules the fast decoder follows (fastlogs.go):
// a body the fast decoder would leave to protobuf-go is left to the decoder
// and the converter, so the wire path only ever sees requests whose
// conversion it reproduces byte for byte (FuzzWireLogs checks both).

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

// rule says how one field number of a message is checked.
type rule struct {
	kind uint8
	typ  protowire.Type
	sub  []rule
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
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil || int(f.num) >= len(rules) {
			return false
		}
		r := &rules[f.num]
		ok := false
		switch r.kind {
		case ruleScalar:
			ok = once(&seen, f, r.typ)
		case ruleText:
			ok = once(&seen, f, protowire.BytesType) && utf8.Valid(f.b)
		case ruleValue:
			ok = once(&seen, f, protowire.BytesType) && checkValue(f.b, depth)
		case ruleMsg:
			ok = once(&seen, f, protowire.BytesType) && checkFields(f.b, r.sub, 0, items)
		case ruleList, ruleItems:
			ok = f.typ == protowire.BytesType && checkFields(f.b, r.sub, 0, items)
			if r.kind == ruleItems {
				*items++
			}
		}
		if !ok {
			return false
		}
		b = rest
	}
	return true
}

// checkValue checks an AnyValue at nesting depth: one case of the oneof at
// most, strings valid UTF-8, no deeper than the fast decoder reads.
func checkValue(b []byte, depth int) bool {
	if depth > fastMaxDepth {
		return false
	}
	if len(b) == 0 {
		return true
	}
	f, rest, err := nextField(b)
	if err != nil || len(rest) > 0 {
		return false
	}
	switch {
	case f.num == 1 && f.typ == protowire.BytesType:
		return utf8.Valid(f.b)
	case f.num == 2 && f.typ == protowire.VarintType, f.num == 3 && f.typ == protowire.VarintType,
		f.num == 4 && f.typ == protowire.Fixed64Type, f.num == 7 && f.typ == protowire.BytesType:
		return true
	case f.num == 5 && f.typ == protowire.BytesType:
		return checkList(f.b, depth+1, checkValue)
	case f.num == 6 && f.typ == protowire.BytesType:
		return checkList(f.b, depth+1, checkKeyValue)
	}
	return false
}

// checkKeyValue checks a KeyValue whose value nests at depth.
func checkKeyValue(b []byte, depth int) bool {
	return checkFields(b, keyValueRules, depth, nil)
}

// checkList checks the elements (field 1) of an ArrayValue or KeyValueList.
func checkList(b []byte, depth int, elem func([]byte, int) bool) bool {
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil || f.num != 1 || f.typ != protowire.BytesType || !elem(f.b, depth) {
			return false
		}
		b = rest
	}
	return true
}

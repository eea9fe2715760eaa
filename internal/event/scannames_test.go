package event

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestScannerNamesEveryField: the scanner reads each member of the data
// structs by name; a field added to a struct and not to the scanner would
// make records carrying it fall back to encoding/json (or, for a name the
// scanner skips, lose the field).
func TestScannerNamesEveryField(t *testing.T) {
	for _, c := range []struct {
		typ   reflect.Type
		names []string
	}{
		{reflect.TypeFor[LogData](), logNames},
		{reflect.TypeFor[MetricData](), metricNames},
		{reflect.TypeFor[NumberPoint](), pointNames},
		{reflect.TypeFor[SpanData](), spanNames},
		{reflect.TypeFor[SpanEvent](), spanEventNames},
		{reflect.TypeFor[Event](), envelopeNames},
	} {
		var tags []string
		for f := range c.typ.Fields() {
			tags = append(tags, strings.Split(f.Tag.Get("json"), ",")[0])
		}
		if !slices.Equal(tags, c.names) {
			t.Errorf("%s: struct fields %v, scanner reads %v", c.typ.Name(), tags, c.names)
		}
	}
}

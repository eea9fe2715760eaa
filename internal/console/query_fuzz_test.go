package console

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// FuzzParseQuery: any query string gives either a filter and page within
// bounds or a parameter error that names a known parameter.
func FuzzParseQuery(f *testing.F) {
	for _, seed := range []string{"", "limit=5&cursor=9", "since=2026-01-02T15:04:05Z&until=2026-01-02T16:00:00Z",
		"min_confidence=0.5&signal=log", "offset=-1", "limit=99999", "cursor=0&offset=3", "min_confidence=NaN"} {
		f.Add(seed)
	}
	known := map[string]bool{"signal": true, "since": true, "until": true, "min_confidence": true, "limit": true, "cursor": true, "offset": true}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		flt, ferr := parseFilter(q)
		p, perr := parsePage(q)
		for _, err := range []error{ferr, perr} {
			var pe *paramError
			if err != nil && (!errors.As(err, &pe) || !known[pe.param] || !strings.Contains(err.Error(), pe.param)) {
				t.Fatalf("error %v does not name a known parameter", err)
			}
		}
		if ferr == nil && !(flt.minConfidence >= 0 && flt.minConfidence <= 1) {
			t.Fatalf("min_confidence %v accepted", flt.minConfidence)
		}
		if perr == nil && (p.limit < 1 || p.limit > maxLimit || p.offset < 0 || p.cursor != 0 && p.offset != 0) {
			t.Fatalf("page %+v accepted", p)
		}
	})
}

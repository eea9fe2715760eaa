package loghub

import (
	"strings"
	"testing"
)

// FuzzParseLine: any input either fails cleanly or parses into a line whose
// label is the first field and whose content is part of the input.
func FuzzParseLine(f *testing.F) {
	f.Add("- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected")
	f.Add("- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session closed for user root")
	f.Add("APPSEV 1 a b c d e f g")
	f.Add("- -99999999999 x y Jan 1 2 3 [x]: ")
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLine(s)
		if err != nil {
			return
		}
		if l.Label != strings.Fields(s)[0] {
			t.Fatalf("label %q of %q", l.Label, s)
		}
		if !strings.Contains(s, l.Content) || !strings.Contains(s, l.Component) {
			t.Fatalf("content %q / component %q not in %q", l.Content, l.Component, s)
		}
	})
}

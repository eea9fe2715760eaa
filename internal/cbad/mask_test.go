package cbad

import "testing"

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"session closed for user root", "session closed for user root"},
		{"dn228/dn228 crond(pam_unix)[2915]: session opened by (uid=0)", "dn#/dn# crond(pam_unix)[#]: session opened by (uid=<*>)"},
		{"request_id=4e5f6bd9 completed in 12.5ms", "request_id=<*> completed in #.#ms"},
		{"from 10.0.3.17:8080 at 2005.11.09 12:01:01", "from <*> at <*> <*>"},
		{"uuid 123e4567-e89b-12d3-a456-426614174000 ok", "uuid <*> ok"},
		{`user "alice smith" said 'hi there' don't`, `user "<*>" said '<*>' don't`},
		{"blk_-1678953999018234643 size 67108864", "blk_-# size <*>"},
		{"a,b=0x7fff  \t tail", "a,b=<*> tail"},
		{"user fdceabaf logged in, request_id=ddcfdadd", "user <*> logged in, request_id=<*>"},
		{"cafe added a bead face", "cafe added a bead face"},
	}
	for _, tt := range tests {
		if got := string(maskInto(nil, tt.in)); got != tt.want {
			t.Errorf("mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

package testkit

import (
	"net"
	"sync"
	"testing"
)

// FreeAddr returns a loopback address whose port was free a moment ago,
// for a process the test starts that must be told its address. The kernel
// may hand the same free port to two calls made before either process
// binds it, so FreeAddr never gives out an address twice in a test binary.
func FreeAddr(t testing.TB) string {
	t.Helper()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		handedMu.Lock()
		dup := handed[addr]
		handed[addr] = true
		handedMu.Unlock()
		if !dup {
			return addr
		}
	}
	t.Fatal("no free loopback port not already handed out")
	return ""
}

// handed holds the addresses FreeAddr gave out.
var (
	handedMu sync.Mutex
	handed   = map[string]bool{}
)

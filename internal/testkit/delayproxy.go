package testkit

import (
	"net"
	"sync"
	"testing"
	"time"
)

// DelayProxy forwards the TCP connections made to it on loopback to a
// target address, holding the bytes of each direction for a delay as a
// network with a round trip of twice the delay would, in order and without
// limiting their rate.
type DelayProxy struct {
	ln     net.Listener
	target string
	delay  time.Duration
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

// StartDelayProxy starts a DelayProxy to target, stopped with the test.
func StartDelayProxy(t testing.TB, target string, delay time.Duration) *DelayProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &DelayProxy{ln: ln, target: target, delay: delay}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr is the address the proxy listens on.
func (p *DelayProxy) Addr() string { return p.ln.Addr().String() }

func (p *DelayProxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(in, out)
		go p.pipe(out, in)
	}
}

// chunk is bytes read from one side and when they were read.
type chunk struct {
	b  []byte
	at time.Time
}

// pipe copies src to dst, each chunk delay after it was read, and closes
// both once src ends or dst fails.
func (p *DelayProxy) pipe(src, dst net.Conn) {
	defer p.wg.Done()
	chunks := make(chan chunk, 4096)
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 64<<10)
			n, err := src.Read(buf)
			if n > 0 {
				chunks <- chunk{b: buf[:n], at: time.Now()}
			}
			if err != nil {
				return
			}
		}
	}()
	failed := false
	for c := range chunks { // read to the end, so that the reader ends
		if failed {
			continue
		}
		time.Sleep(time.Until(c.at.Add(p.delay)))
		if _, err := dst.Write(c.b); err != nil {
			failed = true
			src.Close()
		}
	}
	src.Close()
	dst.Close()
}

func (p *DelayProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

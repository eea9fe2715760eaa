package testkit

import (
	"crypto/tls"
	"testing"
)

// TestPKI: a server with the PKI's files and its CA for client
// certificates and a client of ClientTLS(true) complete a mutual TLS
// handshake on 127.0.0.1, each verifying the other; a client without the
// certificate is refused.
func TestPKI(t *testing.T) {
	p := NewPKI(t)
	cert, err := tls.LoadX509KeyPair(p.CertFile, p.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert},
		ClientCAs: p.Pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan string, 2)
	go func() {
		for range 2 {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			tc := conn.(*tls.Conn)
			if err := tc.Handshake(); err != nil {
				served <- "refused"
			} else {
				served <- tc.ConnectionState().PeerCertificates[0].Subject.CommonName
			}
			conn.Close()
		}
	}()
	for _, withCert := range []bool{true, false} {
		conn, err := tls.Dial("tcp", ln.Addr().String(), p.ClientTLS(withCert))
		if err == nil {
			err = conn.Handshake()
			_, _ = conn.Read(make([]byte, 1)) // TLS 1.3: the refusal comes after the client's handshake
			conn.Close()
		}
		if withCert && err != nil {
			t.Fatalf("client with the certificate: %v", err)
		}
		want := "refused"
		if withCert {
			want = "shop"
		}
		if got := <-served; got != want {
			t.Errorf("with certificate %v: server saw %q, want %q", withCert, got, want)
		}
	}
}

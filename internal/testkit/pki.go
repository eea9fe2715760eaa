package testkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// PKI is a test certificate authority with a server certificate (serial
// 2, for 127.0.0.1 and localhost) and a client certificate (common name
// "shop") issued by it, the CA and the server's certificate and key
// written as PEM files into a temporary folder.
type PKI struct {
	t        testing.TB
	Dir      string          // the folder of the files
	CAFile   string          // the CA's certificate
	CertFile string          // the server's certificate
	KeyFile  string          // the server's key
	Pool     *x509.CertPool  // holds the CA
	Client   tls.Certificate // the client certificate and its key
	ca       *x509.Certificate
	caKey    *ecdsa.PrivateKey
}

// pkiValid is how long before and after now the certificates are valid.
const pkiValid = 24 * time.Hour

// NewPKI makes a CA and its server and client certificates.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	key := newKey(t)
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "driftlock test CA"},
		NotBefore: now.Add(-pkiValid), NotAfter: now.Add(pkiValid),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := &PKI{t: t, Dir: dir, ca: ca, caKey: key, Pool: x509.NewCertPool(),
		CAFile: filepath.Join(dir, "ca.pem"), CertFile: filepath.Join(dir, "server.pem"), KeyFile: filepath.Join(dir, "server-key.pem")}
	p.Pool.AddCert(ca)
	p.write(p.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	p.WriteServer(2)
	certPEM, keyPEM := p.Issue(3, "shop", x509.ExtKeyUsageClientAuth)
	if p.Client, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	return p
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func (p *PKI) write(path string, data []byte) {
	p.t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		p.t.Fatal(err)
	}
}

// Issue returns a certificate of common name cn with serial and a new key,
// signed by the CA, for 127.0.0.1 and localhost.
func (p *PKI) Issue(serial int64, cn string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	p.t.Helper()
	key := newKey(p.t)
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-pkiValid), NotAfter: now.Add(pkiValid),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		p.t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		p.t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// WriteServer writes the server's certificate and key files again with a
// new certificate of serial.
func (p *PKI) WriteServer(serial int64) {
	p.t.Helper()
	certPEM, keyPEM := p.Issue(serial, "server", x509.ExtKeyUsageServerAuth)
	p.write(p.CertFile, certPEM)
	p.write(p.KeyFile, keyPEM)
}

// ClientTLS trusts the CA and, when withCert, presents the client
// certificate.
func (p *PKI) ClientTLS(withCert bool) *tls.Config {
	c := &tls.Config{RootCAs: p.Pool, MinVersion: tls.VersionTLS12}
	if withCert {
		c.Certificates = []tls.Certificate{p.Client}
	}
	return c
}

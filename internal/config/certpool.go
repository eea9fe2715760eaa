package config

import (
	"crypto/x509"
	"fmt"
	"os"
)

// LoadCertPool reads the PEM certificates of the file at path into a pool;
// an error names key, the configuration key that set path.
func LoadCertPool(key, path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s %s: no PEM certificate in it", key, path)
	}
	return pool, nil
}

package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadCertPoolErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "none.pem")
	for _, tc := range []struct{ path, want string }{
		{notPEM, "kafka.ca_file " + notPEM + ": no PEM certificate in it"},
		{missing, "kafka.ca_file: open " + missing + ": no such file or directory"},
	} {
		if _, err := LoadCertPool("kafka.ca_file", tc.path); err == nil || err.Error() != tc.want {
			t.Errorf("LoadCertPool(%s) = %v, want %q", tc.path, err, tc.want)
		}
	}
}

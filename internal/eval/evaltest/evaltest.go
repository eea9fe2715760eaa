// Package evaltest finds the shared evaluation data sets for tests.
package evaltest

import (
	"os"
	"path/filepath"
	"testing"
)

// Datasets returns the shared data-set folder: $DRIFTLOCK_DATASETS, else the
// first of ../shared/datasets seen from the module's parent folders above
// the test's package directory. It skips the test when none exists.
func Datasets(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("DRIFTLOCK_DATASETS"); dir != "" {
		if _, err := os.Stat(dir); err == nil {
			return dir
		}
		t.Skipf("DRIFTLOCK_DATASETS=%s does not exist; skipping data-set test", dir)
	}
	for _, rel := range []string{"../../../shared/datasets", "../../../../shared/datasets", "../../shared/datasets"} {
		if st, err := os.Stat(rel); err == nil && st.IsDir() {
			abs, err := filepath.Abs(rel)
			if err != nil {
				t.Fatal(err)
			}
			return abs
		}
	}
	t.Skip("shared data sets not found (../shared/datasets next to the checkout, or DRIFTLOCK_DATASETS); skipping data-set test")
	return ""
}

package secret

import (
	"regexp"
	"testing"
)

// scannerPattern is the regular expression docs/ADMIN.md gives secret
// scanners for API keys; every generated key must match it, whole.
var scannerPattern = regexp.MustCompile(`^tgk_[0-9A-Za-z]{49}$`)

func TestAPIKeysMatchTheDocumentedScannerPattern(t *testing.T) {
	for range 1000 {
		if k := Generate(APIKeyPrefix); !scannerPattern.MatchString(k) {
			t.Fatalf("key %q does not match %s", k[:8]+"…", scannerPattern)
		}
	}
}

package keys

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestParseMasterKey(t *testing.T) {
	t.Parallel()
	key := make([]byte, 32)
	rand.Read(key)
	good := base64.StdEncoding.EncodeToString(key)
	if got, err := ParseMasterKey(" " + good + "\n"); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("ParseMasterKey(good) = %x, %v", got, err)
	}
	tests := map[string]string{
		"empty":      "",
		"blank":      " \n",
		"not base64": "not base64 at all!",
		"16 bytes":   base64.StdEncoding.EncodeToString(key[:16]),
		"33 bytes":   base64.StdEncoding.EncodeToString(append(key, 1)),
		"url base64": strings.NewReplacer("+", "-", "/", "_").Replace(good) + "-_",
		"hex":        hex.EncodeToString(key),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseMasterKey(in)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, "openssl rand -base64 32") || !strings.Contains(msg, "TOLLGATE_MASTER_KEY") {
				t.Errorf("error %q does not say how to make a key", msg)
			}
			if strings.TrimSpace(in) != "" && strings.Contains(msg, strings.TrimSpace(in)) {
				t.Errorf("error %q repeats the input", msg)
			}
		})
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data", "master.key")
	key, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != MasterKeySize {
		t.Fatalf("key is %d bytes", len(key))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	again, err := LoadOrCreateKeyFile(path)
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("second call = %x, %v; want the first key", again, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want only the key (no temporary left)", len(entries))
	}
}

func TestLoadOrCreateKeyFileConcurrent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "master.key")
	const n = 8
	got := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = LoadOrCreateKeyFile(path) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || !bytes.Equal(got[i], got[0]) {
			t.Fatalf("call %d = %x, %v; want %x", i, got[i], errs[i], got[0])
		}
	}
}

func TestLoadOrCreateKeyFileRefuses(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	good := base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n"
	tests := []struct {
		name, content string
		mode          os.FileMode
		want          string
	}{
		{"group readable", good, 0o640, "chmod 600"},
		{"world readable", good, 0o604, "chmod 600"},
		{"malformed", "hello\n", 0o600, "openssl rand -base64 32"},
		{"empty", "", 0o600, "openssl rand -base64 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "master.key")
			if err := os.WriteFile(path, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil { // umask-proof
				t.Fatal(err)
			}
			_, err := LoadOrCreateKeyFile(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error = %v; want one naming %s and saying %q", err, path, tt.want)
			}
			if b, _ := os.ReadFile(path); string(b) != tt.content {
				t.Error("the refused file was modified")
			}
		})
	}
	dir := t.TempDir()
	if _, err := LoadOrCreateKeyFile(dir); err == nil {
		t.Error("a directory was accepted as a key file")
	}
}

func TestDerive(t *testing.T) {
	t.Parallel()
	// RFC 5869 Appendix A.3: SHA-256, empty salt and info.
	ikm := bytes.Repeat([]byte{0x0b}, 22)
	want, _ := hex.DecodeString("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d")
	if got := Derive(ikm, ""); !bytes.Equal(got, want) {
		t.Fatalf("Derive(RFC 5869 A.3) = %x, want %x", got, want)
	}
	master := make([]byte, 32)
	a := Derive(master, PurposeClientSecretPepper)
	b := Derive(master, PurposeSigningKeySeal)
	if len(a) != 32 || bytes.Equal(a, b) {
		t.Fatal("purposes do not give distinct 32-byte keys")
	}
	if !bytes.Equal(a, Derive(master, PurposeClientSecretPepper)) {
		t.Fatal("Derive is not deterministic")
	}
	master[0] = 1
	if bytes.Equal(a, Derive(master, PurposeClientSecretPepper)) {
		t.Fatal("Derive ignores the master key")
	}
}

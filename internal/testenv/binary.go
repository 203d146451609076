package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"
)

// buildTimeout bounds one build of cmd/tollgate, waiting for another
// package's build included.
const buildTimeout = 5 * time.Minute

// Binary returns the path of a tollgate binary built from this module's
// current source, for tests that run it as a process.
//
// go test ./... runs many packages' tests at once, and each of those that
// needs the binary used to compile and link its own copy: on two cores that
// was most of the run. Now every package shares one copy per checkout, in
// the temporary directory, built under a file lock: the first package
// builds it, the others wait for the lock and find it current (go build -o
// does not relink a target whose build ID matches the source). When it
// does relink, the go command replaces the file (a new inode) rather than
// rewriting it, so a process still running the old one is undisturbed.
func Binary(ctx context.Context) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(root))
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("tollgate-test-%d-%s", os.Getuid(), hex.EncodeToString(sum[:6])))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is needed to build tollgate: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	unlock, err := lockFile(ctx, filepath.Join(dir, "lock"))
	if err != nil {
		return "", fmt.Errorf("waiting to build tollgate: %w", err)
	}
	defer unlock()
	out := filepath.Join(dir, "tollgate")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "./cmd/tollgate")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/tollgate: %w\n%s", err, b)
	}
	return out, nil
}

// moduleRoot is the folder of this module's go.mod, found from this
// source file, wherever the test binary runs from.
func moduleRoot() (string, error) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("testenv: cannot locate its own source")
	}
	root := filepath.Join(filepath.Dir(self), "..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("testenv: no go.mod at %s: %w", root, err)
	}
	return filepath.Clean(root), nil
}

//go:build !unix

package testenv

import (
	"context"
	"os"
	"path/filepath"
	"time"
)

// lockFile takes path by creating it exclusively, polling until ctx ends.
// A lock left by a killed test run is taken over after buildTimeout.
func lockFile(ctx context.Context, path string) (func(), error) {
	path = filepath.Clean(path) + ".d"
	for {
		err := os.Mkdir(path, 0o700)
		if err == nil {
			return func() { os.Remove(path) }, nil
		}
		if fi, serr := os.Stat(path); serr == nil && time.Since(fi.ModTime()) > buildTimeout {
			os.Remove(path)
			continue
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

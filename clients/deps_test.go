package clients_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestImportGraph: the client packages and the examples (tests included)
// reach Tollgate only over HTTP; they import nothing of its server, store,
// configuration or command packages, so a program that imports them pulls
// in none of it.
func TestImportGraph(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const mod = "github.com/tollgate/tollgate"
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "-test", mod+"/clients/...", mod+"/examples/...")
	_, self, _, _ := runtime.Caller(0)
	cmd.Dir = filepath.Dir(self)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	pkgs := strings.Fields(string(out))
	checked := 0
	for _, p := range pkgs {
		p, _, _ = strings.Cut(p, " ") // "pkg [pkg.test]" forms
		for _, banned := range []string{"/server", "/store", "/config", "/cmd"} {
			if p == mod+banned || strings.HasPrefix(p, mod+banned+"/") {
				t.Errorf("%s is imported by the client packages or the examples", p)
			}
		}
		if strings.HasPrefix(p, mod+"/clients/") {
			checked++
		}
	}
	if checked < 5 {
		t.Fatalf("go list found only %d client packages: %q", checked, pkgs)
	}
}

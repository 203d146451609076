package examples

// Finding node and a python3 with Flask and PyJWT, and starting a recipe.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// recipe is one example API and the command that starts it.
type recipe struct {
	name string
	argv func(t *testing.T) []string // skips or fails the test when the runtime is missing
}

var recipes = []recipe{
	{"node-express", nodeArgv},
	{"python-flask", pythonArgv},
}

// missing fails the test under CI=true (CI must run every recipe) and
// skips it elsewhere, saying what to install.
func missing(t *testing.T, what, install string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing: %s (.ci/run does it)", what, install)
	}
	t.Skipf("skipping: %s is missing: %s", what, install)
}

func nodeArgv(t *testing.T) []string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node", "apt-get install -y nodejs npm")
	}
	dir := filepath.Join(here(), "node-express")
	for _, dep := range []string{"express", "jose"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", dep, "package.json")); err != nil {
			missing(t, "examples/node-express/node_modules/"+dep, "run npm ci in examples/node-express")
		}
	}
	return []string{node, filepath.Join(dir, "server.js")}
}

func pythonArgv(t *testing.T) []string {
	t.Helper()
	// The first python3 on PATH may be a pyenv or venv one without the
	// Debian packages, which live in /usr/bin/python3's dist-packages.
	candidates := []string{os.Getenv("PYTHON")}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/python3")
	var tried []string
	for _, py := range candidates {
		if py == "" {
			continue
		}
		tried = append(tried, py)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := exec.CommandContext(ctx, py, "-c", "import flask, jwt, cryptography").Run()
		cancel()
		if err == nil {
			return []string{py, filepath.Join(here(), "python-flask", "app.py")}
		}
	}
	missing(t, "python3 with flask, jwt (PyJWT) and cryptography (tried "+strings.Join(tried, ", ")+")",
		"apt-get install -y python3-flask python3-jwt")
	return nil
}

// startRecipe runs r on a free port with NOTES_* settings and returns
// its URL once /healthz answers.
func startRecipe(t *testing.T, r recipe, settings ...string) string {
	t.Helper()
	argv := r.argv(t)
	addr := freeAddr(t)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = filepath.Dir(argv[1])
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NOTES_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(append(cmd.Env, "NOTES_ADDR="+addr, "PYTHONUNBUFFERED=1"), settings...)
	base := "http://" + addr
	waitUp(t, base+"/healthz", startChild(t, r.name, cmd))
	return base
}

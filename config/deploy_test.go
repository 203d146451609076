package config_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/config"
)

// The deploy tests check deploy/ statically and offline: the Dockerfile
// (deploy_test.go), the Kubernetes manifests (deploy_k8s_test.go and
// deploy_k8s_pod_test.go), the compose file and its load balancer
// (deploy_compose_test.go) and the build context (deploy_context_test.go).
// Nothing here needs Docker or a cluster.

// repoRoot is the module root seen from this package's directory, where go
// test runs.
const repoRoot = ".."

// deployDir holds the manifests.
var deployDir = filepath.Join(repoRoot, "deploy")

// isSecretEnv reports the settings that must reach a container from a
// secret store (a Kubernetes Secret, the operator's environment), never as a
// literal in a manifest.
func isSecretEnv(name string) bool {
	switch name {
	case "TOLLGATE_MASTER_KEY", "TOLLGATE_DATABASE_URL", "TOLLGATE_REDIS_URL":
		return true
	}
	for _, s := range []string{"_SECRET", "_PASSWORD", "_TOKEN"} {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// checkEnvNames fails for every TOLLGATE_* name that config.EnvDoc does not
// list: a misspelt variable is silently ignored by Load.
func checkEnvNames(t *testing.T, where string, names []string) {
	t.Helper()
	known := map[string]bool{}
	for _, v := range config.EnvDoc() {
		known[v.Name] = true
	}
	for _, n := range names {
		if strings.HasPrefix(n, "TOLLGATE_") && !known[n] {
			t.Errorf("%s sets %s, which Tollgate does not read (see config.EnvDoc)", where, n)
		}
	}
}

// placeholderMasterKey stands for a master key the operator generates.
var placeholderMasterKey = base64.StdEncoding.EncodeToString(make([]byte, config.MasterKeySize))

// loadEnv loads and validates the configuration a container would get from
// env, as `tollgate serve` does before listening.
func loadEnv(t *testing.T, where string, env map[string]string) config.Config {
	t.Helper()
	cfg, err := config.Load("", func(k string) string { return env[k] })
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatalf("%s: the configuration it gives Tollgate is rejected:\n%v", where, err)
	}
	return cfg
}

// addrPort returns the port of a host:port address.
func addrPort(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return port
}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, ...
	args string
	line int
}

// stage is one FROM and the instructions under it.
type stage struct {
	from  string // the FROM arguments: image [AS name]
	instr []instruction
}

// parseDockerfile splits a Dockerfile into stages. It understands what
// deploy/Dockerfile uses: comments, blank lines and backslash continuations.
func parseDockerfile(t *testing.T, path string) []stage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		stages []stage
		cur    strings.Builder
		start  int
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start}
		cur.Reset()
		if in.cmd == "FROM" {
			stages = append(stages, stage{from: in.args})
			continue
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("%s:%d: %s before the first FROM", path, in.line, in.cmd)
			}
			continue
		}
		stages[len(stages)-1].instr = append(stages[len(stages)-1].instr, in)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return stages
}

// all returns the arguments of every cmd instruction in s.
func (s stage) all(cmd string) []string {
	var out []string
	for _, in := range s.instr {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// last returns the arguments of the last cmd instruction in s: the one that
// takes effect.
func (s stage) last(cmd string) string {
	all := s.all(cmd)
	if len(all) == 0 {
		return ""
	}
	return all[len(all)-1]
}

// env returns the stage's ENV settings (KEY=VALUE form).
func (s stage) env(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, args := range s.all("ENV") {
		for _, kv := range strings.Fields(args) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				t.Fatalf("ENV %s: write KEY=VALUE", args)
			}
			out[k] = strings.Trim(v, `"`)
		}
	}
	return out
}

// goMinor returns the go directive of go.mod cut to major.minor (1.26).
func goMinor(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	return string(m[1])
}

// imageEnv returns the environment deploy/Dockerfile bakes into the image.
func imageEnv(t *testing.T) map[string]string {
	t.Helper()
	stages := parseDockerfile(t, filepath.Join(deployDir, "Dockerfile"))
	return stages[len(stages)-1].env(t)
}

// checkCompile checks the build stage's go build: static (no cgo), without
// local paths, stamped with the version, producing /tollgate.
func checkCompile(t *testing.T, build stage) {
	t.Helper()
	compile := ""
	for _, run := range build.all("RUN") {
		if strings.Contains(run, "go build") {
			compile = run
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w -X main.version=$VERSION"`, "-o /tollgate ./cmd/tollgate"} {
		if !strings.Contains(compile, want) {
			t.Errorf("the go build RUN %q lacks %s", compile, want)
		}
	}
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	stages := parseDockerfile(t, filepath.Join(deployDir, "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("%d stage(s): want a build stage and a runtime stage", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	// The image's toolchain is used as is (GOTOOLCHAIN=local): it must be
	// the Go release go.mod asks for.
	if want := "golang:" + goMinor(t) + " AS build"; build.from != want {
		t.Errorf("build stage FROM %q, want %q (go.mod's go version)", build.from, want)
	}
	checkCompile(t, build)

	if want := "gcr.io/distroless/static-debian12:nonroot"; final.from != want {
		t.Errorf("runtime stage FROM %q, want %q: static, no shell, non-root", final.from, want)
	}
	exact := []struct{ cmd, want string }{
		{"USER", "nonroot:nonroot"},
		{"ENTRYPOINT", `["/tollgate"]`},
		{"CMD", `["serve"]`},
		{"EXPOSE", "8080"},
	}
	for _, e := range exact {
		if got := final.last(e.cmd); got != e.want {
			t.Errorf("runtime %s %q, want %q", e.cmd, got, e.want)
		}
	}
	for _, form := range []string{"ENTRYPOINT", "CMD"} {
		var argv []string
		if err := json.Unmarshal([]byte(final.last(form)), &argv); err != nil {
			t.Errorf("%s must be in exec form (a JSON array) so signals reach tollgate: %v", form, err)
		}
	}
	if !slices.Contains(final.all("COPY"), "--from=build /tollgate /tollgate") {
		t.Errorf("runtime stage does not copy the binary from the build stage: %q", final.all("COPY"))
	}

	env := final.env(t)
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	checkEnvNames(t, "deploy/Dockerfile", names)
	if got := addrPort(t, env["TOLLGATE_ADDR"]); got != final.last("EXPOSE") {
		t.Errorf("TOLLGATE_ADDR %q listens on %s but the image exposes %s", env["TOLLGATE_ADDR"], got, final.last("EXPOSE"))
	}
	for _, s := range stages {
		for _, in := range s.instr {
			if in.cmd == "ADD" {
				t.Errorf("line %d: ADD fetches and unpacks implicitly; use COPY", in.line)
			}
		}
		for k := range s.env(t) {
			if isSecretEnv(k) {
				t.Errorf("stage %q bakes %s into the image; pass it at run time", s.from, k)
			}
		}
	}
}

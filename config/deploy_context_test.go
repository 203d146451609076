package config_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// TestDockerignore checks the build context of deploy/Dockerfile with
// Docker's own pattern matcher: everything `go build ./cmd/tollgate` reads is
// sent, and local data, keys and binaries are not.
func TestDockerignore(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	ignored := func(rel string) bool {
		m, err := pm.MatchesOrParentMatches(filepath.FromSlash(rel))
		if err != nil {
			t.Fatalf("matching %s: %v", rel, err)
		}
		return m
	}

	inputs := buildInputs(t, "cmd/tollgate")
	if len(inputs) < 10 {
		t.Fatalf("found only %d build inputs: %v", len(inputs), inputs)
	}
	for _, rel := range inputs {
		if ignored(rel) {
			t.Errorf(".dockerignore excludes %s, which the image build needs", rel)
		}
	}
	for _, rel := range []string{".git/config", "tollgate.db", "var/tollgate.db-wal", "tollgate.key", "data/tollgate.key", "tollgate", "cmd/tollgate/tollgate", "token.json"} {
		if !ignored(rel) {
			t.Errorf(".dockerignore lets %s into the build context: keep local data, keys and binaries out", rel)
		}
	}
}

// embedRe finds //go:embed directives.
var embedRe = regexp.MustCompile(`(?m)^//go:embed\s+(.+)$`)

// buildInputs returns, relative to the module root with slashes, go.mod,
// go.sum and every non-test file the package in dir and its module-local
// imports compile or embed. Build constraints are ignored: a file for
// another platform counts too.
func buildInputs(t *testing.T, dir string) []string {
	t.Helper()
	mod := modulePath(t)
	inputs := []string{"go.mod", "go.sum"}
	seen := map[string]bool{}
	fset := token.NewFileSet()
	for queue := []string{dir}; len(queue) > 0; queue = queue[1:] {
		pkg := queue[0]
		if seen[pkg] {
			continue
		}
		seen[pkg] = true
		entries, err := os.ReadDir(filepath.Join(repoRoot, pkg))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			rel := path.Join(pkg, name)
			inputs = append(inputs, rel)
			src, err := os.ReadFile(filepath.Join(repoRoot, rel))
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(fset, rel, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if p == mod || strings.HasPrefix(p, mod+"/") {
					queue = append(queue, strings.TrimPrefix(strings.TrimPrefix(p, mod), "/"))
				}
			}
			inputs = append(inputs, embedded(t, pkg, src)...)
		}
	}
	return inputs
}

// embedded returns the files the //go:embed patterns in src name, relative
// to the module root.
func embedded(t *testing.T, pkg string, src []byte) []string {
	t.Helper()
	var out []string
	for _, m := range embedRe.FindAllSubmatch(src, -1) {
		for _, pat := range strings.Fields(string(m[1])) {
			pat = strings.TrimPrefix(strings.Trim(pat, "`\""), "all:")
			matches, err := filepath.Glob(filepath.Join(repoRoot, pkg, filepath.FromSlash(pat)))
			if err != nil || len(matches) == 0 {
				t.Fatalf("%s: //go:embed %s matches nothing", pkg, pat)
			}
			for _, match := range matches {
				err := filepath.WalkDir(match, func(p string, d fs.DirEntry, err error) error {
					if err == nil && !d.IsDir() {
						rel, _ := filepath.Rel(repoRoot, p)
						out = append(out, filepath.ToSlash(rel))
					}
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return out
}

// modulePath returns the module path declared in go.mod.
func modulePath(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^module\s+(\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod declares no module")
	}
	return string(m[1])
}

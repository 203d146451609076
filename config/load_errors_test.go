package config

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// problemLines splits a Load error into its problems, dropping the
// "invalid configuration, N problems:" heading, which it checks.
func problemLines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		t.Fatal("Load() = nil error, want problems")
	}
	lines := strings.Split(err.Error(), "\n")
	if !strings.HasPrefix(lines[0], "invalid configuration, ") {
		t.Errorf("error starts %q, want the invalid configuration heading", lines[0])
	}
	return lines[1:]
}

// goSpeak are fragments of Go and YAML-library vocabulary a user should
// never have to read.
var goSpeak = []string{"time.Duration", "!!", "config.", "unmarshal", "int64", "struct"}

func TestLoadListsEveryBadVariable(t *testing.T) {
	t.Parallel()
	_, err := Load("", envMap(map[string]string{
		"TOLLGATE_ACCESS_TOKEN_TTL":   "300",
		"TOLLGATE_CLOCK_SKEW":         "half a minute",
		"TOLLGATE_RATE_LIMIT_IP":      "many",
		"TOLLGATE_REVOCATION_STREAMS": "1.5",
	}))
	got := problemLines(t, err)
	want := []string{
		`TOLLGATE_ACCESS_TOKEN_TTL="300" is not a duration: write 300s or 5m`,
		`TOLLGATE_CLOCK_SKEW="half a minute" is not a duration: write a number and a unit, like 30s, 5m or 720h`,
		`TOLLGATE_RATE_LIMIT_IP="many" is not a whole number: write one like 50`,
		`TOLLGATE_REVOCATION_STREAMS="1.5" is not a whole number: write one like 50`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.HasPrefix(err.Error(), "invalid configuration, 4 problems:\n") {
		t.Errorf("heading of %q does not count 4 problems", err)
	}
}

// TestLoadJoinsFileEnvAndValidate: parse failures in the file and the
// environment come out together with Validate's problems.
func TestLoadJoinsFileEnvAndValidate(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "tokens:\n  acess_ttl: 5m\nlog:\n  level: loud\n")
	_, err := Load(path, envMap(map[string]string{
		"TOLLGATE_IDLE_TIMEOUT": "60",
		"TOLLGATE_ISSUER":       "auth.example.com",
	}))
	got := problemLines(t, err)
	want := []string{
		path + ", line 2: unknown setting acess_ttl in tokens (did you mean access_ttl?)",
		`TOLLGATE_IDLE_TIMEOUT="60" is not a duration: write 60s or 1m`,
		`issuer (TOLLGATE_ISSUER) "auth.example.com" is not an absolute http(s) URL`,
		`log.level (TOLLGATE_LOG_LEVEL) "loud" is not supported: write debug, info, warn or error`,
	}
	if len(got) != len(want) {
		t.Fatalf("%d problems, want %d:\n%s", len(got), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d = %q, want it to start %q", i+1, got[i], want[i])
		}
	}
}

func TestLoadFileProblemsInUserTerms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, content string
		// want are the problems after "PATH, ", in order.
		want []string
	}{
		{"misspelt key in a section", "tokens:\n  acess_ttl: 5m\n",
			[]string{"line 2: unknown setting acess_ttl in tokens (did you mean access_ttl?)"}},
		{"misspelt section", "databse:\n  url: sqlite:t.db\n",
			[]string{"line 1: unknown setting databse (did you mean database?)"}},
		{"key in the wrong section", "access_ttl: 5m\nserver:\n  streams: 10\n", []string{
			"line 1: unknown setting access_ttl (did you mean tokens.access_ttl?)",
			"line 3: unknown setting streams in server (did you mean limits.streams?)",
		}},
		{"variable name as key", "TOLLGATE_ISSUER: https://auth.example.com\n",
			[]string{"line 1: unknown setting TOLLGATE_ISSUER (did you mean issuer? TOLLGATE_ISSUER is its environment variable)"}},
		{"nothing near", "log:\n  colour: red\n",
			[]string{"line 2: unknown setting colour in log; the settings in log are level, format"}},
		{"bare number duration", "tokens:\n  access_ttl: 300\n",
			[]string{"line 2: tokens.access_ttl: 300 is not a duration; write 300s or 5m"}},
		{"small bare number duration", "tokens:\n  clock_skew: 5\n",
			[]string{"line 2: tokens.clock_skew: 5 is not a duration; write 5s or 5m, with a unit"}},
		{"duration in words", "server:\n  read_timeout: ten seconds\n",
			[]string{`line 2: server.read_timeout: "ten seconds" is not a duration; write a number and a unit, like 30s, 5m or 720h`}},
		{"number with a fraction", "limits:\n  ip_rate: 2.5\n",
			[]string{"line 2: limits.ip_rate: 2.5 is not a whole number; write one like 50"}},
		{"list for a value", "addr: [a, b]\n",
			[]string{"line 1: addr takes a single value, not a list"}},
		{"value for a section", "tokens: 5m\n",
			[]string{`line 1: tokens is a section, not a value: write tokens: on a line of its own and its settings indented below it, like "  access_ttl: …"`}},
		{"key twice", "addr: 127.0.0.1:1\naddr: 127.0.0.1:2\n",
			[]string{"line 2: addr is set twice (also on line 1): keep one"}},
		{"every problem at once", "tokens:\n  access_ttl: 300\n  refresh_tl: 1h\nlimits:\n  streams: lots\n", []string{
			"line 2: tokens.access_ttl: 300 is not a duration; write 300s or 5m",
			"line 3: unknown setting refresh_tl in tokens (did you mean refresh_ttl?)",
			"line 5: limits.streams: lots is not a whole number; write one like 50",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, tc.content)
			_, err := Load(path, nil)
			got := problemLines(t, err)
			for i := range tc.want {
				tc.want[i] = path + ", " + tc.want[i]
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			for _, g := range goSpeak {
				if strings.Contains(err.Error(), g) {
					t.Errorf("error speaks Go (%q): %v", g, err)
				}
			}
		})
	}
}

// TestLoadFileAcceptsWhatItShould: what strict reading must not reject.
func TestLoadFileAcceptsWhatItShould(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, content string }{
		{"zero duration without unit", "tokens:\n  refresh_reuse_grace: 0\n"},
		{"quoted number", "limits:\n  ip_rate: \"20\"\n"},
		{"hexadecimal number", "limits:\n  ip_rate: 0x14\n"},
		{"key with no value", "issuer:\ntokens:\n  audience:\n"},
		{"alias", "server:\n  read_timeout: &t 20s\n  write_timeout: *t\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Load(writeFile(t, tc.content), nil); err != nil {
				t.Errorf("Load: %v", err)
			}
		})
	}
}

// TestLoadUnreadableFileSkipsValidation: with the file unusable, Validate
// would judge a configuration without it; the variables' own problems are
// still listed.
func TestLoadUnreadableFileSkipsValidation(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "addr: [\n")
	_, err := Load(path, envMap(map[string]string{"TOLLGATE_READ_TIMEOUT": "10", "TOLLGATE_DATABASE_URL": "postgres://db/t"}))
	got := problemLines(t, err)
	if len(got) != 2 || !strings.HasPrefix(got[0], "config file "+path+" is not valid YAML: line ") ||
		!strings.HasPrefix(got[1], `TOLLGATE_READ_TIMEOUT="10"`) {
		t.Errorf("problems = %q, want the YAML error and the variable's, and no master key complaint", got)
	}
}

// TestLogValueCoversEverySetting: the configuration logged at start-up
// holds every setting under its YAML path.
func TestLogValueCoversEverySetting(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("configuration", "config", Default())
	var line struct {
		Config map[string]any `json:"config"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	for _, b := range bindings {
		var at any = line.Config
		for _, part := range strings.Split(b.key, ".") {
			m, _ := at.(map[string]any)
			at = m[part]
		}
		if at == nil {
			t.Errorf("the logged configuration lacks %s", b.key)
		}
	}
}

// TestConfigurationDocErrorExample: the error example in
// docs/CONFIGURATION.md is what Load says about its file and variable.
func TestConfigurationDocErrorExample(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "CONFIGURATION.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "## Errors")
	var blocks []string
	for rest := section; len(blocks) < 2; {
		var ok bool
		if _, rest, ok = strings.Cut(rest, "```text\n"); !ok {
			t.Fatal("the Errors section lacks its two text blocks: the file and the output")
		}
		var block string
		block, rest, _ = strings.Cut(rest, "```")
		blocks = append(blocks, block)
	}
	path := writeFile(t, blocks[0])
	_, err = Load(path, envMap(map[string]string{"TOLLGATE_RATE_LIMIT_IP": "lots"}))
	if err == nil {
		t.Fatal("the documented file loads without a problem")
	}
	got := "tollgate: " + strings.ReplaceAll(err.Error(), path, "tollgate.yaml") + "\n"
	if got != blocks[1] {
		t.Errorf("docs/CONFIGURATION.md shows\n%s\nLoad says\n%s", blocks[1], got)
	}
}

package config

import (
	"strings"
	"testing"
)

// TestConsoleSetting: the console is on by default; YAML server.console
// and TOLLGATE_CONSOLE turn it off; anything but true or false is refused.
func TestConsoleSetting(t *testing.T) {
	t.Parallel()
	off := writeFile(t, "server:\n  console: false\n")
	cases := []struct {
		name, file string
		env        map[string]string
		on         bool
	}{
		{"default", "", nil, true},
		{"file", off, nil, false},
		{"env", "", map[string]string{"TOLLGATE_CONSOLE": "false"}, false},
		{"env over file", off, map[string]string{"TOLLGATE_CONSOLE": "true"}, true},
	}
	for _, c := range cases {
		cfg, err := Load(c.file, envMap(c.env))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := cfg.Server.ConsoleOn(); got != c.on {
			t.Errorf("%s: console on = %v, want %v", c.name, got, c.on)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	cfg, err := Load("", envMap(map[string]string{"TOLLGATE_CONSOLE": "off"}))
	if err == nil {
		err = cfg.Validate()
	}
	if err == nil || !strings.Contains(err.Error(), `server.console (TOLLGATE_CONSOLE) "off": write true or false`) {
		t.Errorf("TOLLGATE_CONSOLE=off: %v, want an error naming the setting", err)
	}
}

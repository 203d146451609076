package config

import (
	"errors"
	"fmt"
)

// Load builds the configuration: the defaults, then the YAML file at path
// ("" for none), then the TOLLGATE_* variables read through getenv (nil for
// none), then the derived defaults (Issuer from Addr, audience from Issuer),
// and validates the result. It reports every problem at once: the file's
// (unknown keys, values that do not parse, each with its line), every
// variable that does not parse, and Validate's, joined with errors.Join
// under one "invalid configuration" line. When the file cannot be read or
// is not YAML, Validate is skipped: it would judge a configuration without
// the file's settings.
func Load(path string, getenv func(string) string) (Config, error) {
	c := defaults()
	var problems []error
	fileUnusable := false
	if path != "" {
		problems, fileUnusable = c.readFile(path)
	}
	problems = append(problems, c.applyEnv(getenv)...)
	c.derive()
	if !fileUnusable {
		problems = append(problems, c.problems()...)
	}
	if len(problems) == 0 {
		return c, nil
	}
	return Config{}, invalid(problems)
}

// invalid heads the problems with their count, one problem per line.
func invalid(problems []error) error {
	noun := "problems"
	if len(problems) == 1 {
		noun = "problem"
	}
	return fmt.Errorf("invalid configuration, %d %s:\n%w", len(problems), noun, errors.Join(problems...))
}

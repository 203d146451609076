package config

import (
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// Load builds the configuration: the defaults, then the YAML file at path
// ("" for none), then the TOLLGATE_* variables read through getenv (nil for
// none), then the derived defaults (Issuer from Addr, audience from Issuer).
// It fails on an unreadable file, an unknown YAML key, or a value that does
// not parse, naming the key or variable; it does not Validate.
func Load(path string, getenv func(string) string) (Config, error) {
	c := defaults()
	if path != "" {
		if err := c.readFile(path); err != nil {
			return Config{}, err
		}
	}
	if err := c.applyEnv(getenv); err != nil {
		return Config{}, err
	}
	c.derive()
	return c, nil
}

// readFile overlays the settings present in the YAML file onto c; keys the
// file leaves out keep their current value.
func (c *Config) readFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	defer f.Close()

	dec := yaml.NewDecoder(f)
	// A misspelt key would otherwise be silently ignored.
	dec.KnownFields(true)
	switch err := dec.Decode(c); {
	case errors.Is(err, io.EOF):
		return nil // an empty file sets nothing
	case err != nil:
		return fmt.Errorf("config file %s: %w", path, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: holds more than one YAML document; keep a single one", path)
	}
	return nil
}

package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// readFile overlays the settings present in the YAML file onto c; keys the
// file leaves out, or writes with no value, keep their current value. It
// returns every problem in the file, each naming the file, the line and
// the setting in the user's terms (never a Go type), and fatal when the
// file could not be read or is not YAML at all, so nothing was applied.
func (c *Config) readFile(path string) (problems []error, fatal bool) {
	f, err := os.Open(path)
	if err != nil {
		return []error{fmt.Errorf("config file: %w; check the --config path", err)}, true
	}
	defer f.Close()

	dec := yaml.NewDecoder(f)
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return nil, false // an empty file sets nothing
	case err != nil:
		// yaml.v3's syntax errors read "yaml: line N: …".
		return []error{fmt.Errorf("config file %s is not valid YAML: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))}, true
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return []error{fmt.Errorf("config file %s holds more than one YAML document; keep a single one", path)}, true
	}
	d := fileDecoder{file: path}
	if len(doc.Content) == 1 {
		d.section(doc.Content[0], reflect.ValueOf(c).Elem(), "")
	}
	return d.problems, false
}

// fileDecoder walks the YAML tree against Config's yaml tags, collecting
// every problem instead of stopping at the first.
type fileDecoder struct {
	file     string
	problems []error
}

func (d *fileDecoder) problem(n *yaml.Node, format string, args ...any) {
	d.problems = append(d.problems, fmt.Errorf("%s, line %d: %s", d.file, n.Line, fmt.Sprintf(format, args...)))
}

// section sets the fields of the struct v from the mapping n.
func (d *fileDecoder) section(n *yaml.Node, v reflect.Value, path string) {
	n = resolveAlias(n)
	if isNull(n) {
		return // "tokens:" with nothing below it sets nothing
	}
	if n.Kind != yaml.MappingNode && path == "" {
		d.problem(n, "the file holds no settings: write one per line, like \"addr: 127.0.0.1:8080\", sections indented below their name")
		return
	}
	if n.Kind != yaml.MappingNode {
		first := yamlKeys(v.Type())[0]
		d.problem(n, "%s is a section, not a value: write %s: on a line of its own and its settings indented below it, like \"  %s: …\"",
			path, leaf(path), first)
		return
	}
	fields := yamlFieldIndex(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name := joinPath(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			d.problem(k, "%s is set twice (also on line %d): keep one", name, line)
			continue
		}
		seen[k.Value] = k.Line
		idx, ok := fields[k.Value]
		if !ok {
			d.problem(k, "%s", unknownKey(v.Type(), path, k.Value))
			continue
		}
		d.value(val, v.Field(idx), name)
	}
}

// value sets one setting, or descends into a section.
func (d *fileDecoder) value(n *yaml.Node, v reflect.Value, path string) {
	n = resolveAlias(n)
	if v.Kind() == reflect.Struct {
		d.section(n, v, path)
		return
	}
	switch {
	case n.Kind == yaml.MappingNode:
		d.problem(n, "%s takes a single value, not a section", path)
		return
	case n.Kind == yaml.SequenceNode:
		d.problem(n, "%s takes a single value, not a list", path)
		return
	case isNull(n):
		return // "issuer:" with no value leaves it unset, like an empty variable
	}
	switch p := v.Addr().Interface().(type) {
	case *time.Duration:
		dur, err := time.ParseDuration(n.Value)
		if err != nil {
			d.problem(n, "%s: %s is not a duration; %s", path, quoteIfSpaced(n.Value), durationAdvice(n.Value))
			return
		}
		*p = dur
	case *int:
		i, err := parseInt(n)
		if err != nil {
			d.problem(n, "%s: %s is not a whole number; write one like 50", path, quoteIfSpaced(n.Value))
			return
		}
		*p = i
	case *string:
		*p = n.Value
	default:
		d.problem(n, "%s: config has no reader for %T; this is a bug in Tollgate", path, p)
	}
}

// parseInt reads plain digits, and YAML's other integer forms (0x1F,
// 1_000), but no fraction: yaml.v3 would truncate 2.5 to 2.
func parseInt(n *yaml.Node) (int, error) {
	i, err := strconv.Atoi(n.Value)
	if err != nil && n.ShortTag() == "!!int" {
		err = n.Decode(&i)
	}
	return i, err
}

// quoteIfSpaced quotes a value that would not read as one word.
func quoteIfSpaced(v string) string {
	if v == "" || strings.ContainsAny(v, " \t") {
		return strconv.Quote(v)
	}
	return v
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlKeys lists the yaml keys of a struct type's fields, in order.
func yamlKeys(t reflect.Type) []string {
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		keys = append(keys, yamlKey(t.Field(i)))
	}
	return keys
}

// yamlFieldIndex maps each yaml key of a struct type to its field index.
func yamlFieldIndex(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		m[yamlKey(t.Field(i))] = i
	}
	return m
}

func yamlKey(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

// durationAdvice says how to write a duration instead of v. A bare number
// is the common mistake; the advice reuses it with units.
func durationAdvice(v string) string {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	switch {
	case err != nil:
		return "write a number and a unit, like 30s, 5m or 720h"
	case n > 0 && n%60 == 0:
		return fmt.Sprintf("write %ds or %s", n, formatDuration(time.Duration(n)*time.Second))
	default:
		return fmt.Sprintf("write %ds or %dm, with a unit", n, n)
	}
}

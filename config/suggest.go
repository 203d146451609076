package config

import (
	"fmt"
	"reflect"
	"strings"
)

// unknownKey explains a YAML key that names no setting of the section at
// path ("" for the top level), suggesting what the user probably meant: a
// near spelling in the same section, the same setting in another section,
// or the key of a TOLLGATE_* variable written as a key.
func unknownKey(section reflect.Type, path, key string) string {
	msg := "unknown setting " + key
	if path != "" {
		msg += " in " + path
	}
	if b, ok := bindingByEnv(key); ok {
		return fmt.Sprintf("%s (did you mean %s? %s is its environment variable)", msg, b.key, b.env)
	}
	if elsewhere := settingPaths(key); len(elsewhere) > 0 {
		return fmt.Sprintf("%s (did you mean %s?)", msg, strings.Join(elsewhere, " or "))
	}
	keys := yamlKeys(section)
	if best := closest(key, keys); best != "" {
		return fmt.Sprintf("%s (did you mean %s?)", msg, best)
	}
	var all []string
	for _, b := range bindings {
		all = append(all, b.key)
	}
	if best := closestLeaf(key, all); best != "" {
		return fmt.Sprintf("%s (did you mean %s?)", msg, best)
	}
	if path == "" {
		return fmt.Sprintf("%s; the top-level settings are %s", msg, strings.Join(keys, ", "))
	}
	return fmt.Sprintf("%s; the settings in %s are %s", msg, path, strings.Join(keys, ", "))
}

// bindingByEnv finds the binding of a TOLLGATE_* variable, so a variable
// name written as a YAML key can be pointed at its key.
func bindingByEnv(name string) (binding, bool) {
	for _, b := range bindings {
		if strings.EqualFold(b.env, name) {
			return b, true
		}
	}
	return binding{}, false
}

// settingPaths lists the YAML paths whose last part is key: where a setting
// written in the wrong section belongs.
func settingPaths(key string) []string {
	var out []string
	for _, b := range bindings {
		if leaf(b.key) == key {
			out = append(out, b.key)
		}
	}
	return out
}

// closestLeaf is closest over the last part of each path, returning the
// whole path.
func closestLeaf(s string, paths []string) string {
	leaves := make([]string, len(paths))
	for i, p := range paths {
		leaves[i] = leaf(p)
	}
	best := closest(s, leaves)
	for i, l := range leaves {
		if best != "" && l == best {
			return paths[i]
		}
	}
	return ""
}

// leaf returns the part of a YAML path after its last dot.
func leaf(path string) string {
	return path[strings.LastIndex(path, ".")+1:]
}

// closest returns the candidate nearest to s when it is near enough to be
// a plausible typo (at most a third of the longer word differs), else "".
// Case is ignored.
func closest(s string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), c)
		if limit := max(len(s), len(c)) / 3; d <= max(limit, 1) && (bestDist < 0 || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, counted in
// bytes: keys are ASCII.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

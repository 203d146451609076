// Package childenv builds the environment of the processes the benchmark
// programs start.
package childenv

import (
	"sort"
	"strings"
)

// Env is a child's environment: environ without any TOLLGATE_* variable
// (a developer's own settings must not leak into a measurement), plus set
// in a stable order.
func Env(environ []string, set map[string]string) []string {
	var env []string
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "TOLLGATE_") {
			env = append(env, kv)
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+set[k])
	}
	return env
}

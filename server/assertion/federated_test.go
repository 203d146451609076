package assertion

import "testing"

func TestMatchSubject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, sub string
		want         bool
	}{
		{"system:serviceaccount:payments:worker", "system:serviceaccount:payments:worker", true},
		{"system:serviceaccount:payments:worker", "system:serviceaccount:payments:worker2", false},
		{"system:serviceaccount:payments:*", "system:serviceaccount:payments:worker", true},
		{"system:serviceaccount:payments:*", "system:serviceaccount:billing:worker", false},
		{"repo:org/app:ref:refs/heads/*", "repo:org/app:ref:refs/heads/feature/x", true},
		{"repo:org/app:ref:refs/heads/*", "repo:org/app:ref:refs/tags/v1", false},
		{"repo:org/*:environment:prod", "repo:org/app:environment:prod", true},
		{"repo:org/*:environment:prod", "repo:org/app:environment:staging", false},
		{"*", "anything", true},
		{"*", "", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"", "", false},
		{"", "x", false},
		{"x", "", false},
	}
	for _, tc := range tests {
		if got := MatchSubject(tc.pattern, tc.sub); got != tc.want {
			t.Errorf("MatchSubject(%q, %q) = %v, want %v", tc.pattern, tc.sub, got, tc.want)
		}
	}
}

// FuzzMatchSubject: no pattern panics, and a pattern without * matches
// exactly itself.
func FuzzMatchSubject(f *testing.F) {
	f.Add("a*b", "axxb")
	f.Fuzz(func(t *testing.T, pattern, sub string) {
		got := MatchSubject(pattern, sub)
		if pattern != "" && !containsStar(pattern) && got != (pattern == sub) {
			t.Fatalf("MatchSubject(%q, %q) = %v", pattern, sub, got)
		}
		if pattern != "" && !MatchSubject(pattern, pattern) && !containsStar(pattern) {
			t.Fatalf("%q does not match itself", pattern)
		}
	})
}

func containsStar(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '*' {
			return true
		}
	}
	return false
}

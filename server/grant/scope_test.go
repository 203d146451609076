package grant

import (
	"slices"
	"strings"
	"testing"
)

func TestParseScope(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{"a b", []string{"a", "b"}, true},
		{"a  a b", []string{"a", "b"}, true},
		{"orders:read https://x/y", []string{"orders:read", "https://x/y"}, true},
		{`a"b`, nil, false},
		{`a\b`, nil, false},
		{"a\tb", nil, false},
		{"é", nil, false},
		{manyScopes(maxScopes + 1), nil, false},
		{manyScopes(maxScopes), strings.Fields(manyScopes(maxScopes)), true},
	} {
		got, err := ParseScope(tc.in)
		if (err == nil) != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("ParseScope(%q) = %v, %v", tc.in, got, err)
		}
	}
}

// FuzzParseScope: no panic, and every accepted value re-parses to itself.
func FuzzParseScope(f *testing.F) {
	f.Add("a b c")
	f.Add("x\x00y")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseScope(s)
		if err != nil {
			return
		}
		again, err := ParseScope(strings.Join(got, " "))
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("%q: %v then %v %v", s, got, again, err)
		}
	})
}

func manyScopes(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(" s")
		b.WriteString(strings.Repeat("x", i))
	}
	return b.String()
}

func BenchmarkParseScope(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseScope("orders:read orders:write invoices:read profile"); err != nil {
			b.Fatal(err)
		}
	}
}

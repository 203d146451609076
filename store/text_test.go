package store_test

import (
	"testing"

	"github.com/tollgate/tollgate/store"
)

func TestStorableText(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want bool
	}{
		{"ascii", "tgc_abc", true},
		{"empty", "", true},
		{"unicode", "ünïcode 名前", true},
		{"nul", "a\x00b", false},
		{"trailing nul", "tgc_x\x00", false},
		{"invalid utf-8", "tgc_\xff", false},
		{"truncated sequence", "caf\xc3", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := store.StorableText(tc.in); got != tc.want {
				t.Errorf("StorableText(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

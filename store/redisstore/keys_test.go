package redisstore

import (
	"strings"
	"testing"
)

// clusterHashTag returns what Redis Cluster hashes for key: the text
// between the first '{' and the first '}' after it when that is non-empty,
// otherwise the whole key (cluster spec, "Hash tags").
func clusterHashTag(key string) (tag string, whole bool) {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return key, true
	}
	end := strings.IndexByte(key[open+1:], '}')
	if end <= 0 {
		return key, true
	}
	return key[open+1 : open+1+end], false
}

// TestKeysShareHashTag: every key a script touches for one family must hash
// to one Cluster slot, whatever the family ID contains.
func TestKeysShareHashTag(t *testing.T) {
	t.Parallel()
	families := []string{"fam", "", "}", "{", "a}b", "{x}", "}}{{", "a:b:c", "f:"}
	for _, prefix := range []string{"", "tollgate:", "app:tollgate:"} {
		s := New(nil, Options{Prefix: prefix})
		for _, fam := range families {
			keys := []string{
				s.tokenKey(fam, "id-1"), s.tokenKey(fam, "}{"),
				s.tokenKeyPrefix(fam) + "id-2", s.familyKey(fam), s.revokedKey(fam),
			}
			want, whole := clusterHashTag(keys[0])
			if whole {
				t.Errorf("prefix %q family %q: key %q has no hash tag", prefix, fam, keys[0])
				continue
			}
			for _, k := range keys[1:] {
				if got, _ := clusterHashTag(k); got != want {
					t.Errorf("prefix %q family %q: key %q hashes %q, want %q", prefix, fam, k, got, want)
				}
			}
			// Families are spread over slots (those with a '}' may share one).
			other, _ := clusterHashTag(s.familyKey(fam + "x"))
			if !strings.Contains(fam, "}") && other == want {
				t.Errorf("families %q and %q share hash tag %q", fam, fam+"x", want)
			}
		}
	}
}

func TestKeysUnderPrefix(t *testing.T) {
	t.Parallel()
	s := New(nil, Options{})
	for _, k := range []string{s.tokenKey("f", "i"), s.familyKey("f"), s.revokedKey("f")} {
		if !strings.HasPrefix(k, DefaultPrefix) {
			t.Errorf("key %q lacks the default prefix %q", k, DefaultPrefix)
		}
	}
}

func TestNewRejectsBracePrefix(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"{", "}", "a{b}:"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New with prefix %q did not panic", prefix)
				}
			}()
			New(nil, Options{Prefix: prefix})
		}()
	}
}

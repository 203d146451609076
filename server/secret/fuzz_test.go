package secret

import (
	"strings"
	"testing"
)

// tokenFrom builds a checksummed value of prefix whose body is derived
// deterministically from seed, so that fuzz failures reproduce.
func tokenFrom(prefix string, seed []byte) string {
	body := make([]byte, bodyLen)
	for i := range body {
		var r byte
		if len(seed) > 0 {
			r = seed[i%len(seed)] + byte(i/len(seed))
		}
		body[i] = alphabet[int(r)%62]
	}
	var sum [checksumLen]byte
	encodeChecksum(&sum, crcUpdate(crcUpdate(0, prefix), body))
	return prefix + string(body) + string(sum[:])
}

// mutate changes s at pos%len(s) to a different byte derived from c.
func mutate(s string, pos uint, c byte) string {
	i := int(pos % uint(len(s)))
	if c == s[i] {
		c++
	}
	return s[:i] + string([]byte{c}) + s[i+1:]
}

func FuzzValid(f *testing.F) {
	f.Add(ClientSecretPrefix, Generate(ClientSecretPrefix), []byte("seed"), uint(3), byte('x'))
	f.Add("", "", []byte{}, uint(0), byte(0))
	f.Add(APIKeyPrefix, "tgk_0000", []byte{0xff, 0}, uint(50), byte('0'))
	f.Fuzz(func(t *testing.T, prefix, s string, seed []byte, pos uint, c byte) {
		Valid(prefix, s) // must not panic on anything
		tok := tokenFrom(prefix, seed)
		if !Valid(prefix, tok) {
			t.Fatalf("generated %q is not valid", tok)
		}
		if m := mutate(tok, pos, c); Valid(prefix, m) {
			t.Fatalf("single change %q -> %q still valid", tok, m)
		}
	})
}

func FuzzParseRefreshToken(f *testing.F) {
	f.Add(NewRefreshToken(NewID("")), NewID(""), []byte("seed"), uint(7), byte('_'))
	f.Add("tgr__", "a", []byte{}, uint(0), byte(0))
	f.Add("tgr_"+strings.Repeat("_", 60), "Z9", []byte{1, 2, 3}, uint(100), byte('A'))
	f.Fuzz(func(t *testing.T, s, family string, seed []byte, pos uint, c byte) {
		if fam, ok := ParseRefreshToken(s); ok && (!validFamily(fam) || !strings.HasPrefix(s, RefreshTokenPrefix+fam+"_")) {
			t.Fatalf("ParseRefreshToken(%q) = %q, true: inconsistent", s, fam)
		}
		if !validFamily(family) {
			return
		}
		tok := tokenFrom(RefreshTokenPrefix+family+"_", seed)
		if got, ok := ParseRefreshToken(tok); !ok || got != family {
			t.Fatalf("ParseRefreshToken(%q) = %q, %v; want %q, true", tok, got, ok, family)
		}
		if m := mutate(tok, pos, c); func() bool { _, ok := ParseRefreshToken(m); return ok }() {
			t.Fatalf("single change %q -> %q still parses", tok, m)
		}
	})
}

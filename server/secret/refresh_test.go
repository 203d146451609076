package secret

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

func TestRefreshTokenRoundTrip(t *testing.T) {
	t.Parallel()
	family := NewID("")
	tok := NewRefreshToken(family)
	if !strings.HasPrefix(tok, RefreshTokenPrefix+family+"_") {
		t.Fatalf("NewRefreshToken = %q: wrong shape", tok)
	}
	got, ok := ParseRefreshToken(tok)
	if !ok || got != family {
		t.Fatalf("ParseRefreshToken = %q, %v; want %q, true", got, ok, family)
	}
	if NewRefreshToken(family) == tok {
		t.Fatal("two tokens of one family are equal")
	}
}

func TestParseRefreshTokenRejects(t *testing.T) {
	t.Parallel()
	family := NewID("")
	tok := NewRefreshToken(family)
	other := NewID("")
	tests := map[string]string{
		"empty":            "",
		"prefix only":      RefreshTokenPrefix,
		"client secret":    Generate(ClientSecretPrefix),
		"no family":        RefreshTokenPrefix + "_" + tok[len(tok)-bodyLen-checksumLen:],
		"other family":     RefreshTokenPrefix + other + tok[len(RefreshTokenPrefix)+len(family):],
		"truncated":        tok[:len(tok)-1],
		"extra":            tok + "a",
		"underscore in id": RefreshTokenPrefix + family[:3] + "_" + family[3:] + tok[len(RefreshTokenPrefix)+len(family):],
		"long family":      RefreshTokenPrefix + strings.Repeat("a", maxFamilyLen+1) + tok[len(RefreshTokenPrefix)+len(family):],
		"generated body":   RefreshTokenPrefix + family + "_" + Generate("")[:bodyLen+checksumLen],
	}
	for name, s := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if f, ok := ParseRefreshToken(s); ok {
				t.Errorf("ParseRefreshToken(%q) = %q, true", s, f)
			}
		})
	}
}

func TestNewRefreshTokenPanicsOnBadFamily(t *testing.T) {
	t.Parallel()
	for _, family := range []string{"", "a_b", strings.Repeat("a", maxFamilyLen+1), "é"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewRefreshToken(%q) did not panic", family)
				}
			}()
			NewRefreshToken(family)
		}()
	}
}

func TestTokenHash(t *testing.T) {
	t.Parallel()
	tok := NewRefreshToken(NewID(""))
	sum := sha256.Sum256([]byte(tok))
	if got, want := TokenHash(tok), base64.RawURLEncoding.EncodeToString(sum[:]); got != want {
		t.Fatalf("TokenHash = %q, want %q", got, want)
	}
	if TokenHash(tok) == TokenHash(tok+"x") {
		t.Fatal("TokenHash collides")
	}
}

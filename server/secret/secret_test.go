package secret

import (
	"hash/crc32"
	"strings"
	"testing"
)

func TestGenerateIsValid(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{ClientSecretPrefix, RefreshTokenPrefix, APIKeyPrefix, ""} {
		s := Generate(prefix)
		if len(s) != len(prefix)+bodyLen+checksumLen || !strings.HasPrefix(s, prefix) {
			t.Fatalf("Generate(%q) = %q: wrong shape", prefix, s)
		}
		if !Valid(prefix, s) {
			t.Fatalf("Valid(%q, %q) = false", prefix, s)
		}
	}
}

func TestGenerateIsRandom(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for range 1000 {
		s := Generate(ClientSecretPrefix)
		if seen[s] {
			t.Fatalf("Generate repeated %q", s)
		}
		seen[s] = true
	}
}

func TestFillRandomUsesWholeAlphabet(t *testing.T) {
	t.Parallel()
	// 62 symbols over 43,000 draws: each is expected ~693 times. A bias such
	// as a missing digit, or a modulo reduction of a byte, shows up as a
	// count far from that.
	var counts [256]int
	buf := make([]byte, 43000)
	fillRandom(buf)
	for _, c := range buf {
		counts[c]++
	}
	for i := 0; i < len(alphabet); i++ {
		if n := counts[alphabet[i]]; n < 500 || n > 900 {
			t.Errorf("digit %q drawn %d times, want about 693", alphabet[i], n)
		}
	}
}

func TestValidRejects(t *testing.T) {
	t.Parallel()
	good := Generate(ClientSecretPrefix)
	tests := []struct {
		name, prefix, s string
	}{
		{"empty", ClientSecretPrefix, ""},
		{"other prefix", APIKeyPrefix, good},
		{"missing prefix", ClientSecretPrefix, good[len(ClientSecretPrefix):]},
		{"truncated", ClientSecretPrefix, good[:len(good)-1]},
		{"extra char", ClientSecretPrefix, good + "0"},
		{"non-base62", ClientSecretPrefix, good[:10] + "-" + good[11:]},
		{"swapped chars", ClientSecretPrefix, swap(good, 10, 11)},
		{"checksum of another", ClientSecretPrefix, good[:len(good)-checksumLen] + Generate(ClientSecretPrefix)[len(good)-checksumLen:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.s == good && tt.prefix == ClientSecretPrefix {
				t.Fatal("test case is the valid value")
			}
			if Valid(tt.prefix, tt.s) {
				t.Errorf("Valid(%q, %q) = true", tt.prefix, tt.s)
			}
		})
	}
}

func swap(s string, i, j int) string {
	b := []byte(s)
	if b[i] == b[j] {
		b[j] = alphabet[(strings.IndexByte(alphabet, b[j])+1)%62]
	}
	b[i], b[j] = b[j], b[i]
	return string(b)
}

func TestEveryCharacterChangeRejected(t *testing.T) {
	t.Parallel()
	s := Generate(APIKeyPrefix)
	for i := range len(s) {
		for c := range 256 {
			if byte(c) == s[i] {
				continue
			}
			m := s[:i] + string([]byte{byte(c)}) + s[i+1:]
			if Valid(APIKeyPrefix, m) {
				t.Fatalf("changing byte %d of %q to %q still valid", i, s, byte(c))
			}
		}
	}
}

func TestCRCMatchesStdlib(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "a", "tgs_abc", strings.Repeat("xyz", 100)} {
		if got, want := crcUpdate(0, s), crc32.ChecksumIEEE([]byte(s)); got != want {
			t.Errorf("crcUpdate(%q) = %08x, want %08x", s, got, want)
		}
		split := len(s) / 2
		if got, want := crcUpdate(crcUpdate(0, s[:split]), []byte(s[split:])), crc32.ChecksumIEEE([]byte(s)); got != want {
			t.Errorf("incremental crcUpdate(%q) = %08x, want %08x", s, got, want)
		}
	}
}

func TestEncodeChecksumExtremes(t *testing.T) {
	t.Parallel()
	var sum [checksumLen]byte
	encodeChecksum(&sum, 0)
	if string(sum[:]) != "000000" {
		t.Errorf("encodeChecksum(0) = %q", sum)
	}
	encodeChecksum(&sum, 1<<32-1)
	if string(sum[:]) != "4gfFC3" { // 4294967295 in base62
		t.Errorf("encodeChecksum(max) = %q", sum)
	}
}

func TestNewID(t *testing.T) {
	t.Parallel()
	a, b := NewID(ClientIDPrefix), NewID(ClientIDPrefix)
	if a == b {
		t.Fatalf("NewID repeated %q", a)
	}
	if len(a) != len(ClientIDPrefix)+idLen || !ValidID(ClientIDPrefix, a) {
		t.Fatalf("NewID = %q: not a valid ID", a)
	}
	if strings.Contains(NewID(""), "_") {
		t.Fatal("NewID(\"\") contains an underscore")
	}
	for _, bad := range []string{"", a[:len(a)-1], a + "x", UserIDPrefix + a[len(ClientIDPrefix):], a[:5] + "/" + a[6:]} {
		if ValidID(ClientIDPrefix, bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func TestValidDoesNotAllocate(t *testing.T) {
	s := Generate(ClientSecretPrefix)
	if n := testing.AllocsPerRun(100, func() { Valid(ClientSecretPrefix, s) }); n != 0 {
		t.Errorf("Valid allocates %v times", n)
	}
	r := NewRefreshToken(NewID(""))
	if n := testing.AllocsPerRun(100, func() { ParseRefreshToken(r) }); n != 0 {
		t.Errorf("ParseRefreshToken allocates %v times", n)
	}
}

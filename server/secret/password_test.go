package secret

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

func TestPasswordRoundTrip(t *testing.T) {
	t.Parallel()
	enc, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("HashPassword = %q: not the OWASP argon2id PHC string", enc)
	}
	p, err := parseHash(enc)
	if err != nil || len(p.salt) != 16 || len(p.key) != 32 {
		t.Fatalf("parseHash(%q) = %+v, %v; want 16-byte salt and 32-byte key", enc, p, err)
	}
	if other, _ := HashPassword("correct horse battery staple"); other == enc {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
	for pw, want := range map[string]bool{
		"correct horse battery staple":  true,
		"correct horse battery staple ": false,
		"Correct horse battery staple":  false,
	} {
		got, err := VerifyPassword(enc, pw)
		if err != nil || got != want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v, nil", pw, got, err, want)
		}
	}
}

func TestVerifyPasswordReadsParameters(t *testing.T) {
	t.Parallel()
	// A hash made with other parameters, as an older Tollgate or another
	// tool would have, still verifies.
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte("pw"), salt, 1, 64, 2, 24)
	enc := "$argon2id$v=19$m=64,t=1,p=2$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key)
	if ok, err := VerifyPassword(enc, "pw"); !ok || err != nil {
		t.Fatalf("VerifyPassword = %v, %v; want true, nil", ok, err)
	}
}

func TestPasswordInputErrors(t *testing.T) {
	t.Parallel()
	enc, err := HashPassword("pw")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, password string
		want           error
	}{
		{"empty", "", ErrPasswordEmpty},
		{"too long", strings.Repeat("a", MaxPasswordLen+1), ErrPasswordTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := HashPassword(tt.password); !errors.Is(err, tt.want) {
				t.Errorf("HashPassword error = %v, want %v", err, tt.want)
			}
			if ok, err := VerifyPassword(enc, tt.password); ok || !errors.Is(err, tt.want) {
				t.Errorf("VerifyPassword = %v, %v; want false, %v", ok, err, tt.want)
			}
		})
	}
	if _, err := HashPassword(strings.Repeat("a", MaxPasswordLen)); err != nil {
		t.Errorf("HashPassword of exactly %d bytes: %v", MaxPasswordLen, err)
	}
}

func TestVerifyPasswordRejectsBadHashes(t *testing.T) {
	t.Parallel()
	salt := b64.EncodeToString([]byte("0123456789abcdef"))
	key := b64.EncodeToString(make([]byte, 32))
	tests := map[string]string{
		"empty":             "",
		"bcrypt":            "$2a$10$abcdefghijklmnopqrstuu5Rr0G5W0dHn9rWQjJ6J2n0zJ2k6O0yC",
		"argon2i":           "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"old version":       "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key,
		"reordered params":  "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key,
		"huge memory":       "$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key,
		"huge time":         "$argon2id$v=19$m=19456,t=1000,p=1$" + salt + "$" + key,
		"zero threads":      "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key,
		"many threads":      "$argon2id$v=19$m=19456,t=2,p=255$" + salt + "$" + key,
		"zero time":         "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key,
		"short key":         "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key[:4],
		"memory below 8p":   "$argon2id$v=19$m=7,t=2,p=1$" + salt + "$" + key,
		"negative":          "$argon2id$v=19$m=-1,t=2,p=1$" + salt + "$" + key,
		"overflow":          "$argon2id$v=19$m=4294967296,t=2,p=1$" + salt + "$" + key,
		"short salt":        "$argon2id$v=19$m=19456,t=2,p=1$YWJj$" + key,
		"padded base64":     "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key,
		"bad base64":        "$argon2id$v=19$m=19456,t=2,p=1$!!!!$" + key,
		"trailing field":    "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$",
		"missing key field": "$argon2id$v=19$m=19456,t=2,p=1$" + salt,
	}
	for name, enc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if ok, err := VerifyPassword(enc, "pw"); ok || !errors.Is(err, ErrInvalidHash) {
				t.Errorf("VerifyPassword(%q) = %v, %v; want false, ErrInvalidHash", enc, ok, err)
			}
		})
	}
}

func TestDummyPasswordVerify(t *testing.T) {
	t.Parallel()
	p, err := parseHash(dummyHash)
	if err != nil {
		t.Fatalf("dummyHash does not parse: %v", err)
	}
	if p.memory != argonMemory || p.time != argonTime || p.threads != argonThreads || len(p.key) != keyLen {
		t.Fatalf("dummyHash parameters %+v differ from HashPassword's", p)
	}
	DummyPasswordVerify("anything")
}

func BenchmarkVerifyPassword(b *testing.B) {
	enc, err := HashPassword("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyPassword(enc, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

package secret

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"sync"
	"testing"
)

func TestHasher(t *testing.T) {
	t.Parallel()
	pepper := []byte("0123456789abcdef0123456789abcdef")
	h := NewHasher(pepper)
	s := Generate(ClientSecretPrefix)
	hash := h.Hash(s)

	mac := hmac.New(sha256.New, pepper)
	mac.Write([]byte(s))
	if !hmac.Equal(hash, mac.Sum(nil)) {
		t.Fatal("Hash is not HMAC-SHA256 keyed with the pepper")
	}
	long := strings.Repeat("x", 1000) // longer than the staging chunk
	mac.Reset()
	mac.Write([]byte(long))
	if !hmac.Equal(h.Hash(long), mac.Sum(nil)) {
		t.Fatal("Hash of a long secret differs from HMAC-SHA256")
	}

	tests := []struct {
		name   string
		hash   []byte
		secret string
		want   bool
	}{
		{"match", hash, s, true},
		{"other secret", hash, Generate(ClientSecretPrefix), false},
		{"nil hash", nil, s, false},
		{"empty hash", []byte{}, s, false},
		{"empty hash empty secret", []byte{}, "", false},
		{"truncated hash", hash[:16], s, false},
		{"other pepper", NewHasher([]byte("another pepper")).Hash(s), s, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := h.Equal(tt.hash, tt.secret); got != tt.want {
				t.Errorf("Equal = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHasherDoesNotAliasPepper(t *testing.T) {
	t.Parallel()
	pepper := []byte("pepper-pepper-pepper")
	h := NewHasher(pepper)
	before := h.Hash("s")
	pepper[0] ^= 0xff
	if !h.Equal(before, "s") {
		t.Fatal("changing the caller's pepper slice changed the Hasher")
	}
}

func TestHasherConcurrent(t *testing.T) {
	t.Parallel()
	h := NewHasher([]byte("pepper"))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				s := Generate(ClientSecretPrefix)
				if !h.Equal(h.Hash(s), s) {
					t.Error("concurrent Hash/Equal mismatch")
					return
				}
				h.Dummy(s)
			}
		})
	}
	wg.Wait()
}

func TestNewHasherPanicsWithoutPepper(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("NewHasher(nil) did not panic")
		}
	}()
	NewHasher(nil)
}

func TestHasherAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	h := NewHasher([]byte("pepper"))
	s := Generate(ClientSecretPrefix)
	hash := h.Hash(s)
	if n := testing.AllocsPerRun(100, func() { h.Equal(hash, s) }); n != 0 {
		t.Errorf("Equal allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { h.Dummy(s) }); n != 0 {
		t.Errorf("Dummy allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { h.Hash(s) }); n != 1 {
		t.Errorf("Hash allocates %v times, want 1 (the result)", n)
	}
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	s := Generate(ClientSecretPrefix)
	b.ReportAllocs()
	for b.Loop() {
		h.Hash(s)
	}
}

func BenchmarkEqual(b *testing.B) {
	h := NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	s := Generate(ClientSecretPrefix)
	hash := h.Hash(s)
	b.ReportAllocs()
	for b.Loop() {
		h.Equal(hash, s)
	}
}

func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Generate(ClientSecretPrefix)
	}
}

func BenchmarkValid(b *testing.B) {
	s := Generate(ClientSecretPrefix)
	b.ReportAllocs()
	for b.Loop() {
		Valid(ClientSecretPrefix, s)
	}
}

func BenchmarkNewRefreshToken(b *testing.B) {
	family := NewID("")
	b.ReportAllocs()
	for b.Loop() {
		NewRefreshToken(family)
	}
}

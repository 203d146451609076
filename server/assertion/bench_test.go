package assertion

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/tollgate/tollgate/store"
)

// syncReplays is memReplays safe for b.RunParallel.
type syncReplays struct {
	mu sync.Mutex
	m  memReplays
}

func (s *syncReplays) UseOnce(ctx context.Context, id string, until time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.UseOnce(ctx, id, until)
}

// BenchmarkVerify measures one private_key_jwt check (parse, signature,
// claims, replay record in memory) per algorithm; the replay store's
// round trip comes on top.
func BenchmarkVerify(b *testing.B) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, tc := range []struct {
		alg jose.SignatureAlgorithm
		key any
		pub any
	}{{jose.EdDSA, ed, ed.Public()}, {jose.ES256, ec, ec.Public()}, {jose.RS256, rs, rs.Public()}} {
		b.Run(string(tc.alg), func(b *testing.B) {
			set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: tc.pub, KeyID: "k"}}})
			c := &store.Client{ID: "c", AuthMethod: store.AuthPrivateKeyJWT, JWKS: set}
			s, _ := jose.NewSigner(jose.SigningKey{Algorithm: tc.alg, Key: tc.key}, (&jose.SignerOptions{}).WithHeader("kid", "k"))
			toks := make([]string, b.N)
			for i := range toks {
				toks[i], _ = jwt.Signed(s).Claims(jwt.Claims{Issuer: "c", Subject: "c", Audience: jwt.Audience{"a"},
					Expiry: jwt.NewNumericDate(time.Now().Add(time.Minute)), ID: strconv.Itoa(i)}).Serialize()
			}
			v := New(Options{Audiences: []string{"a"}, Replays: &syncReplays{m: memReplays{}}})
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := v.Verify(ctx, c, toks[i]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

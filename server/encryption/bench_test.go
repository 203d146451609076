package encryption

import (
	"context"
	"testing"

	"github.com/tollgate/tollgate/store"
)

// benchAlgs names the sub-benchmarks after the key algorithms.
var benchAlgs = []struct{ name, alg string }{
	{"ECDH-ES", store.KeyECDHES},
	{"RSA-OAEP-256", store.KeyRSAOAEP256},
}

// BenchmarkEncrypt measures what encryption adds to issuing a token, and
// how much longer the token gets (jws-bytes in, jwe-bytes out).
func BenchmarkEncrypt(b *testing.B) {
	r, _, _ := ringWith(b, store.KeyECDHES, store.KeyRSAOAEP256)
	for _, ba := range benchAlgs {
		b.Run(ba.name, func(b *testing.B) {
			jws := signedToken(b, ba.alg)
			var tok string
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if tok, err = r.Encrypt(ba.alg, jws); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(jws)), "jws-bytes")
			b.ReportMetric(float64(len(tok)), "jwe-bytes")
			b.ReportMetric(float64(len(tok)-len(jws)), "added-bytes")
		})
	}
}

// BenchmarkDecrypt measures what decryption adds to verifying a token
// (introspection here; an API pays about the same).
func BenchmarkDecrypt(b *testing.B) {
	r, _, _ := ringWith(b, store.KeyECDHES, store.KeyRSAOAEP256)
	ctx := context.Background()
	for _, ba := range benchAlgs {
		b.Run(ba.name, func(b *testing.B) {
			tok, err := r.Encrypt(ba.alg, signedToken(b, ba.alg))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := r.Decrypt(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

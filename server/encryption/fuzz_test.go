package encryption

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/store"
)

// FuzzDecrypt: Decrypt never panics on arbitrary input, every failure
// wraps ErrUndecryptable, and whatever decrypts is one of the genuine
// payloads (AES-GCM authenticates every part, so no mutation can make a
// new one).
func FuzzDecrypt(f *testing.F) {
	r, _, _ := ringWith(f, store.KeyECDHES, store.KeyRSAOAEP256)
	var payloads []string
	for _, alg := range []string{store.KeyECDHES, store.KeyRSAOAEP256} {
		jws := signedToken(f, alg)
		payloads = append(payloads, jws)
		tok, err := r.Encrypt(alg, jws)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
		parts := strings.Split(tok, ".")
		for i := range parts {
			f.Add(strings.Join(slices.Delete(slices.Clone(parts), i, i+1), "."))
		}
		f.Add(jws)
	}
	f.Add("")
	f.Add("....")
	f.Add("eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0....")
	f.Fuzz(func(t *testing.T, tok string) {
		jws, aud, err := r.Decrypt(context.Background(), tok)
		if err != nil {
			if !errors.Is(err, ErrUndecryptable) {
				t.Fatalf("error %v does not wrap ErrUndecryptable", err)
			}
			return
		}
		if !slices.Contains(payloads, jws) || !r.Encrypted(aud) {
			t.Fatalf("decrypted to a payload nobody encrypted (aud %q)", aud)
		}
	})
}

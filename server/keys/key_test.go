package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"github.com/tollgate/tollgate/store"
)

func testSealKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{EdDSA, ES256} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			sealKey := testSealKey(t)
			k, err := GenerateKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			row, err := seal(sealKey, k)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := x509.ParsePKCS8PrivateKey(row.PrivateKey); err == nil {
				t.Fatal("stored private key parses as plaintext PKCS #8")
			}
			if len(row.PrivateKey) < 12+16 {
				t.Fatalf("sealed key is %d bytes: no room for nonce and tag", len(row.PrivateKey))
			}
			got, err := open(sealKey, row)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != k.ID || got.Algorithm != alg || !got.signer.(interface{ Equal(crypto.PrivateKey) bool }).Equal(k.signer) {
				t.Fatal("opened key differs from the sealed one")
			}
			other, _ := seal(sealKey, k)
			if bytes.Equal(other.PrivateKey, row.PrivateKey) {
				t.Fatal("two seals are equal: nonce is not random")
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	sealKey := testSealKey(t)
	k, _ := GenerateKey(EdDSA)
	row, err := seal(sealKey, k)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := GenerateKey(EdDSA)
	otherRow, _ := seal(sealKey, other)
	es, _ := GenerateKey(ES256)
	esRow, _ := seal(sealKey, es)

	tests := []struct {
		name    string
		sealKey []byte
		edit    func(r *store.SigningKey)
		unseal  bool // want ErrUnseal; else another error
	}{
		{"wrong seal key", testSealKey(t), func(*store.SigningKey) {}, true},
		{"tampered ciphertext", sealKey, func(r *store.SigningKey) { r.PrivateKey[20] ^= 1 }, true},
		{"tampered nonce", sealKey, func(r *store.SigningKey) { r.PrivateKey[0] ^= 1 }, true},
		{"truncated", sealKey, func(r *store.SigningKey) { r.PrivateKey = r.PrivateKey[:10] }, true},
		{"swapped kid", sealKey, func(r *store.SigningKey) { r.ID = other.ID }, true},
		{"private key of another row", sealKey, func(r *store.SigningKey) { r.PrivateKey = otherRow.PrivateKey }, true},
		{"public key of another key", sealKey, func(r *store.SigningKey) { r.PublicKey = otherRow.PublicKey }, false},
		{"garbage public key", sealKey, func(r *store.SigningKey) { r.PublicKey = []byte("x") }, false},
		{"algorithm relabelled", sealKey, func(r *store.SigningKey) { r.Algorithm = ES256 }, false},
		{"ES256 key labelled EdDSA", sealKey, func(r *store.SigningKey) { *r = *esRow; r.Algorithm = EdDSA }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := cloneRow(*row)
			tt.edit(&r)
			_, err := open(tt.sealKey, &r)
			if err == nil {
				t.Fatal("opened")
			}
			if errors.Is(err, ErrUnseal) != tt.unseal {
				t.Fatalf("error %v: errors.Is(ErrUnseal) = %v, want %v", err, !tt.unseal, tt.unseal)
			}
		})
	}
}

func TestAppendSignatureVerifies(t *testing.T) {
	t.Parallel()
	msg := []byte("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0")
	for _, alg := range []string{EdDSA, ES256} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			k, _ := GenerateKey(alg)
			for range 50 { // ES256 R and S are sometimes short
				sig, err := k.AppendSignature([]byte("prefix"), msg)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(sig, []byte("prefix")) || len(sig) != len("prefix")+64 {
					t.Fatalf("signature is %d bytes after the prefix, want 64", len(sig)-len("prefix"))
				}
				sig = sig[len("prefix"):]
				var ok bool
				switch pub := k.Public().(type) {
				case ed25519.PublicKey:
					ok = ed25519.Verify(pub, msg, sig)
				case *ecdsa.PublicKey:
					h := sha256.Sum256(msg)
					ok = ecdsa.Verify(pub, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
				}
				if !ok {
					t.Fatal("signature does not verify")
				}
			}
		})
	}
}

func TestAppendRawECDSA(t *testing.T) {
	t.Parallel()
	der := func(r, s []byte) []byte {
		var b cryptobyte.Builder
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(asn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(r) })
			b.AddASN1(asn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(s) })
		})
		return b.BytesOrPanic()
	}
	short := bytes.Repeat([]byte{0x11}, 30)
	high := append([]byte{0}, bytes.Repeat([]byte{0xff}, 32)...)
	got, err := appendRawECDSA(nil, der(short, high), 32)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte{0, 0}, short...), bytes.Repeat([]byte{0xff}, 32)...)
	if !bytes.Equal(got, want) {
		t.Fatalf("appendRawECDSA = %x, want %x", got, want)
	}
	for name, in := range map[string][]byte{
		"too long":  der(bytes.Repeat([]byte{1}, 33), short),
		"trailing":  append(der(short, short), 0),
		"not asn.1": []byte("nope"),
	} {
		if _, err := appendRawECDSA(nil, in, 32); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestKeyDoesNotPrintPrivateMaterial(t *testing.T) {
	t.Parallel()
	k, _ := GenerateKey(EdDSA)
	priv := fmt.Sprintf("%x", []byte(k.signer.(ed25519.PrivateKey)))
	var log strings.Builder
	slog.New(slog.NewTextHandler(&log, nil)).Info("x", "key", k)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k), log.String()} {
		if !strings.Contains(s, k.ID) || strings.Contains(s, priv[:16]) || strings.Contains(s, "[") {
			t.Errorf("printed key %q: want the ID and no key bytes", s)
		}
	}
}

func TestGenerateKeyRejectsAlgorithms(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{"", "RS256", "HS256", "none", "eddsa"} {
		if _, err := GenerateKey(alg); err == nil {
			t.Errorf("GenerateKey(%q) succeeded", alg)
		}
	}
}

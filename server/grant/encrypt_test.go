package grant_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/accesstoken"
	"github.com/tollgate/tollgate/server/encryption"
	"github.com/tollgate/tollgate/server/grant"
	"github.com/tollgate/tollgate/server/keys"
	"github.com/tollgate/tollgate/server/oauth"
	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/sqlstore"
)

// encFixture is an engine on the embedded store whose audience "secret"
// receives encrypted tokens, with a client, a user and API keys that all
// carry public and private claims.
type encFixture struct {
	e       *grant.Engine
	km      *keys.Manager
	opener  func(t *testing.T, tok string) (jws, aud string)
	hasher  *secret.Hasher
	userKey string // an API key of the user
	appKey  string // an API key of the client
}

const (
	encIssuer = "https://issuer.test"
	// The message the sole-audience rule answers with (I15 wire format).
	soleAudience = "audience secret receives encrypted tokens and must be the token's only audience: ask for it with audience=secret"
)

func newEncFixture(t testing.TB) *encFixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "t.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	seal := make([]byte, 32)
	km, err := keys.New(db, keys.Options{SealKey: seal, Retain: time.Hour})
	if err == nil {
		err = km.Load(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	enc, opener := newTestEncrypter(t, db, "secret")
	hasher := secret.NewHasher(seal)
	f := &encFixture{km: km, hasher: hasher, opener: opener}
	f.e = grant.New(grant.Options{
		Clients: db, Users: db, Refresh: db, APIKeys: db, Hasher: hasher, Keys: km, Encrypter: enc,
		Issuer: encIssuer, Audience: []string{"default"}, AccessTTL: time.Minute, RefreshTTL: time.Hour,
	})
	now := time.Now()
	for _, c := range []*store.Client{
		{ID: "app", Audience: []string{"plain", "secret"}, Claims: []byte(`{"tenant":"acme"}`), PrivateClaims: []byte(`{"risk":7}`)},
		{ID: "bare", Claims: []byte(`{"tenant":"bare"}`), PrivateClaims: []byte(`{"risk":1}`)},
	} {
		c.Name, c.SecretHash, c.Scopes = c.ID, hasher.Hash("s"), []string{"read"}
		c.GrantTypes = []string{grant.ClientCredentials, grant.Password, grant.RefreshToken}
		c.CreatedAt, c.UpdatedAt = now, now
		if err := db.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	hash, err := secret.HashPassword("pw")
	if err != nil {
		t.Fatal(err)
	}
	u := &store.User{ID: "u1", Username: "ann", PasswordHash: hash, Claims: []byte(`{"email_domain":"example.com"}`), PrivateClaims: []byte(`{"email":"ann@example.com"}`), CreatedAt: now, UpdatedAt: now}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct {
		kind  store.OwnerKind
		owner string
		dst   *string
	}{{store.OwnerUser, "u1", &f.userKey}, {store.OwnerClient, "app", &f.appKey}} {
		key := secret.Generate(secret.APIKeyPrefix)
		ak := &store.APIKey{ID: "k-" + k.owner, OwnerKind: k.kind, OwnerID: k.owner, Name: "k", Scopes: []string{"read"},
			Hash: hasher.Hash(key), Prefix: key[:8], Last4: key[len(key)-4:], CreatedAt: now}
		if err := db.CreateAPIKey(ctx, ak); err != nil {
			t.Fatal(err)
		}
		*k.dst = key
	}
	return f
}

// token runs one grant; form holds its parameters besides grant_type.
func (f *encFixture) token(ctx context.Context, clientID, grantType string, form url.Values) (*grant.Token, error) {
	form.Set("grant_type", grantType)
	req := &grant.Request{GrantType: grantType, ClientID: clientID, ClientSecret: "s", Form: form}
	if grantType == grant.TokenExchange {
		req.ClientID, req.ClientSecret = "", ""
		form.Set("subject_token_type", grant.TokenTypeAPIKey)
		return f.e.Exchange(ctx, req)
	}
	return f.e.Token(ctx, req)
}

// payload verifies tok (opening it first when it is encrypted) and
// returns its claims as JSON members, and whether it was encrypted.
func (f *encFixture) payload(t *testing.T, tok string) (map[string]any, bool) {
	t.Helper()
	jws, aud := tok, ""
	encrypted := strings.Count(tok, ".") != 2
	if encrypted {
		jws, aud = f.opener(t, tok)
	}
	c, err := accesstoken.Verify(jws, f.km, accesstoken.VerifyOptions{Issuer: encIssuer, Now: time.Now()})
	if err != nil {
		t.Fatalf("the token does not verify: %v", err)
	}
	if encrypted && !slices.Equal(c.Audience, []string{aud}) {
		t.Errorf("a token encrypted to %s has aud %v", aud, c.Audience)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(jws, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m, encrypted
}

// TestEncryptedAudiences: every grant narrows aud with the audience
// parameter; a token for the encrypted audience is a nested JWT carrying
// its subject's private claims, any other token a JWS without them; an
// encrypted audience is never one of several.
func TestEncryptedAudiences(t *testing.T) {
	t.Parallel()
	f := newEncFixture(t)
	ctx := t.Context()
	tok, err := f.token(ctx, "app", grant.Password, url.Values{"username": {"ann"}, "password": {"pw"}, "audience": {"plain"}})
	if err != nil {
		t.Fatal(err)
	}
	refresh := tok.RefreshToken
	for _, tc := range []struct {
		name, client, grantType string
		form                    url.Values
		aud                     any // the token's aud, or the invalid_target description
		encrypted               bool
		claims                  map[string]any // with the private ones only when encrypted
		private                 []string
	}{
		{"client_credentials, both audiences", "app", grant.ClientCredentials, url.Values{}, soleAudience, false, nil, nil},
		{"client_credentials, plain", "app", grant.ClientCredentials, url.Values{"audience": {"plain"}}, "plain", false, map[string]any{"tenant": "acme"}, []string{"risk"}},
		{"client_credentials, secret", "app", grant.ClientCredentials, url.Values{"audience": {"secret"}}, "secret", true, map[string]any{"tenant": "acme", "risk": 7.0}, nil},
		{"client_credentials, not its audience", "app", grant.ClientCredentials, url.Values{"audience": {"default"}}, "this client may not get tokens for that audience; ask for one of the client's audiences", false, nil, nil},
		{"client without audiences, default", "bare", grant.ClientCredentials, url.Values{}, "default", false, map[string]any{"tenant": "bare"}, []string{"risk"}},
		{"client without audiences, asks for the default", "bare", grant.ClientCredentials, url.Values{"audience": {"default"}}, "default", false, map[string]any{"tenant": "bare"}, []string{"risk"}},
		{"client without audiences, asks for secret", "bare", grant.ClientCredentials, url.Values{"audience": {"secret"}}, "this client may not get tokens for that audience; ask for one of the client's audiences", false, nil, nil},
		{"password, secret", "app", grant.Password, url.Values{"username": {"ann"}, "password": {"pw"}, "audience": {"secret"}}, "secret", true, map[string]any{"email_domain": "example.com", "email": "ann@example.com"}, []string{"tenant", "risk"}},
		{"password, both audiences", "app", grant.Password, url.Values{"username": {"ann"}, "password": {"pw"}}, soleAudience, false, nil, nil},
		{"refresh, secret", "app", grant.RefreshToken, url.Values{"refresh_token": {refresh}, "audience": {"secret"}}, "secret", true, map[string]any{"email_domain": "example.com", "email": "ann@example.com"}, []string{"tenant", "risk"}},
		{"exchange of a user's key, plain default", "", grant.TokenExchange, url.Values{"subject_token": {f.userKey}}, "default", false, map[string]any{"email_domain": "example.com"}, []string{"email"}},
		{"exchange of the client's key, both audiences", "", grant.TokenExchange, url.Values{"subject_token": {f.appKey}}, soleAudience, false, nil, nil},
		{"exchange of the client's key, secret", "", grant.TokenExchange, url.Values{"subject_token": {f.appKey}, "audience": {"secret"}}, "secret", true, map[string]any{"tenant": "acme", "risk": 7.0}, nil},
		{"exchange of the client's key, plain", "", grant.TokenExchange, url.Values{"subject_token": {f.appKey}, "audience": {"plain"}}, "plain", false, map[string]any{"tenant": "acme"}, []string{"risk"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := f.token(ctx, tc.client, tc.grantType, tc.form)
			if tc.claims == nil {
				var oe *oauth.Error
				if !errors.As(err, &oe) || oe.Code != oauth.InvalidTarget || oe.Description != tc.aud {
					t.Fatalf("got %v, want invalid_target %q", err, tc.aud)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.grantType == grant.RefreshToken {
				refresh = tok.RefreshToken
			}
			m, encrypted := f.payload(t, tok.AccessToken)
			if encrypted != tc.encrypted || m["aud"] != tc.aud {
				t.Errorf("encrypted %v, aud %v; want %v, %v", encrypted, m["aud"], tc.encrypted, tc.aud)
			}
			if m["jti"] != tok.JTI || m["sub"] != tok.Subject {
				t.Errorf("Token names jti %q sub %q, the token %v %v", tok.JTI, tok.Subject, m["jti"], m["sub"])
			}
			for k, v := range tc.claims {
				if m[k] != v {
					t.Errorf("claim %s = %v, want %v", k, m[k], v)
				}
			}
			for _, k := range tc.private {
				if _, ok := m[k]; ok {
					t.Errorf("claim %s is in the token: %v", k, m)
				}
			}
		})
	}
}

// newTestEncrypter is the real encryption ring on db with the encrypted
// audiences auds, and a func that opens a token with it.
func newTestEncrypter(t testing.TB, db *sqlstore.Store, auds ...string) (*encryption.Ring, func(*testing.T, string) (string, string)) {
	t.Helper()
	ring, err := encryption.New(db, encryption.Options{SealKey: make([]byte, 32), Retain: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range auds {
		if err := ring.CreateAudience(t.Context(), &store.Audience{Name: a, Encrypted: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ring.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return ring, func(t *testing.T, tok string) (string, string) {
		t.Helper()
		jws, aud, err := ring.Decrypt(t.Context(), tok)
		if err != nil {
			t.Fatalf("the ring cannot open the token: %v", err)
		}
		return jws, aud
	}
}

// BenchmarkClientCredentials is one client_credentials token on the
// embedded store (the secret's hash included): for an audience with plain
// tokens and no claims work beyond copying the client's, and for the
// encrypted one, private claims merged and the JWS encrypted.
func BenchmarkClientCredentials(b *testing.B) {
	for _, aud := range []string{"plain", "secret"} {
		b.Run(aud, func(b *testing.B) {
			f := newEncFixture(b)
			ctx := context.Background()
			form := url.Values{"audience": {aud}}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.token(ctx, "app", grant.ClientCredentials, form); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

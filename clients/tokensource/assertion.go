package tokensource

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/tollgate/tollgate/clients/internal/clientassert"
)

// ClientAssertionType is the client_assertion_type of a JWT client
// assertion (RFC 7523 §2.2).
const ClientAssertionType = clientassert.Type

// maxProjectedToken bounds a token read from a file.
const maxProjectedToken = 16 << 10

// PrivateKeyJWT configures NewPrivateKeyJWT.
type PrivateKeyJWT struct {
	TokenURL string
	ClientID string
	// Key signs the assertions: an Ed25519, P-256, P-384 or RSA (at least
	// 2048 bits) private key, or any crypto.Signer over one (a KMS or HSM
	// key). LoadPrivateKey reads one from a PEM file.
	Key crypto.Signer
	// KeyID is the kid of Key in the client's registered JWK Set; set it
	// when the set holds more than one key (during a rotation).
	KeyID string
	// Audience is the assertion's aud (default: TokenURL); TokenAudience,
	// if set, asks for tokens for that one of the client's audiences.
	Audience      string
	TokenAudience string
	// Lifetime is how long each assertion is valid (default 2m; Tollgate
	// refuses more than 5m by default). Each is used once.
	Lifetime time.Duration
	// Scopes requested; none means the client's default scopes.
	Scopes []string
	Options
}

// NewPrivateKeyJWT returns a Source that gets tokens with the
// client_credentials grant, authenticating with a JWT signed by Key
// (private_key_jwt, RFC 7523 §2.2): a new assertion with a new jti for
// every request. No secret is involved. ctx bounds the Source's life.
func NewPrivateKeyJWT(ctx context.Context, c PrivateKeyJWT) (*Source, error) {
	o, err := c.Options.withDefaults()
	prover, perr := newProver(o)
	signer, serr := clientassert.New(c.Key, c.KeyID, c.ClientID)
	if serr != nil {
		serr = fmt.Errorf("tokensource: Key: %w", serr)
	}
	errs := []error{err, perr, serr, checkTokenURL(c.TokenURL), checkScopes(c.Scopes)}
	if c.ClientID == "" {
		errs = append(errs, errors.New("tokensource: ClientID is required"))
	}
	if c.Lifetime < 0 {
		errs = append(errs, errors.New("tokensource: Lifetime must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	aud := c.Audience
	if aud == "" {
		aud = c.TokenURL
	}
	life := c.Lifetime
	if life == 0 {
		life = 2 * time.Minute
	}
	s := &Source{ctx: ctx, o: o, tokenURL: c.TokenURL, form: clientCredentialsForm(c.Scopes, c.TokenAudience), auth: func(*http.Request) {}, prover: prover}
	s.assertion = func() (string, error) { return signer.Sign(aud, o.Now(), life) }
	return s, nil
}

// Federated configures NewFederated.
type Federated struct {
	TokenURL string
	// ClientID is the Tollgate client bound to the workload's identity.
	ClientID string
	// TokenFile holds the workload's token from its platform: a
	// Kubernetes projected service-account token, say
	// (/var/run/secrets/tollgate/token). It is read again for every
	// request, since the platform rotates it in place.
	TokenFile string
	// Scopes requested; none means the client's default scopes.
	Scopes []string
	// Audience, if set, asks for tokens for that one of the client's
	// audiences.
	Audience string
	Options
}

// NewFederated returns a Source that gets tokens with the
// client_credentials grant, authenticating with the token in TokenFile as
// the client assertion (workload identity federation): no Tollgate
// credential exists anywhere. ctx bounds the Source's life.
func NewFederated(ctx context.Context, c Federated) (*Source, error) {
	o, err := c.Options.withDefaults()
	prover, perr := newProver(o)
	errs := []error{err, perr, checkTokenURL(c.TokenURL), checkScopes(c.Scopes)}
	if c.ClientID == "" || c.TokenFile == "" {
		errs = append(errs, errors.New("tokensource: ClientID and TokenFile are required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s := &Source{ctx: ctx, o: o, tokenURL: c.TokenURL, form: clientCredentialsForm(c.Scopes, c.Audience), auth: func(*http.Request) {}, prover: prover}
	s.form.Set("client_id", c.ClientID)
	s.assertion = func() (string, error) { return readTokenFile(c.TokenFile) }
	return s, nil
}

func clientCredentialsForm(scopes []string, audience string) url.Values {
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	if audience != "" {
		form.Set("audience", audience)
	}
	return form
}

// requestForm is the form of one request: with a fresh client assertion
// when the Source makes them.
func (s *Source) requestForm() (url.Values, error) {
	if s.assertion == nil {
		return s.form, nil
	}
	a, err := s.assertion()
	if err != nil {
		return nil, fmt.Errorf("tokensource: client assertion: %w", err)
	}
	form := make(url.Values, len(s.form)+2)
	for k, v := range s.form {
		form[k] = v
	}
	form.Set("client_assertion_type", ClientAssertionType)
	form.Set("client_assertion", a)
	return form, nil
}

// readTokenFile reads a platform token, trimmed of surrounding space.
func readTokenFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxProjectedToken+1))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	if len(b) > maxProjectedToken {
		return "", fmt.Errorf("%s is larger than %d KiB", path, maxProjectedToken>>10)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return tok, nil
}

// LoadPrivateKey reads a PEM private key (PKCS #8, or SEC 1 "EC PRIVATE
// KEY", or PKCS #1 "RSA PRIVATE KEY") from a file.
func LoadPrivateKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokensource: %w", err)
	}
	return ParsePrivateKey(b)
}

// ParsePrivateKey parses a PEM private key as LoadPrivateKey does.
func ParsePrivateKey(pemBytes []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(pemBytes)
	if blk == nil {
		return nil, errors.New("tokensource: no PEM block in the key")
	}
	var key any
	var err error
	switch blk.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(blk.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	default:
		return nil, fmt.Errorf("tokensource: PEM block %q is not a private key", blk.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("tokensource: parsing the private key: %w", err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("tokensource: the key cannot sign")
	}
	return s, nil
}

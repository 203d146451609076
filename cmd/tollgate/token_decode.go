package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/go-jose/go-jose/v4"
	"github.com/spf13/cobra"
)

// signatureAlgs are the algorithms Tollgate signs with: a key of the JWKS
// checks only its own alg, never "none" or HMAC.
var signatureAlgs = []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256}

// decoded is what token decode prints.
type decoded struct {
	Header    json.RawMessage `json:"header"`
	Claims    json.RawMessage `json:"claims"`
	Signature signatureCheck  `json:"signature"`
}

// signatureCheck says whether the signature was checked and held.
type signatureCheck struct {
	Checked  bool   `json:"checked"`
	Verified bool   `json:"verified"`
	JWKSURI  string `json:"jwks_uri,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// errBadSignature makes token decode exit non-zero after printing.
var errBadSignature = errors.New("the token's signature does not verify against the server's JWKS: it was not issued by this server, or it was altered")

func tokenDecodeCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "decode (TOKEN | -)",
		Short: "Print a JWT's header and claims, and whether its signature verifies against the server's JWKS",
		Long: `Print a JWT's header and claims ("-" reads the token from standard input) and
check its signature against the JWKS of --server, else of the configured
issuer. It exits non-zero when the signature is invalid; when the JWKS
cannot be fetched it says "signature: not checked (…)" and exits 0. It does
not check expiry or revocation: use 'tollgate token introspect' for that.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tok, err := tokenArg(e, args[0])
			if err != nil {
				return err
			}
			d, err := decodeJWT(tok)
			if err != nil {
				return err
			}
			d.Signature = checkSignature(cmd.Context(), e, tok)
			if err := printDecoded(e, asJSON, d); err != nil {
				return err
			}
			if d.Signature.Checked && !d.Signature.Verified {
				return errBadSignature
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document for scripts")
	return cmd
}

// decodeJWT splits a compact JWS and decodes its header and claims.
func decodeJWT(tok string) (decoded, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return decoded{}, errors.New("not a JWT: a token has three dot-separated parts (header.claims.signature)")
	}
	var d decoded
	for i, dst := range []*json.RawMessage{&d.Header, &d.Claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || !json.Valid(b) {
			return decoded{}, fmt.Errorf("not a JWT: its %s is not base64url-encoded JSON", []string{"header", "claims"}[i])
		}
		*dst = b
	}
	return d, nil
}

// checkSignature fetches the JWKS and verifies tok with the key its kid
// names. A JWKS that cannot be had leaves the signature unchecked.
func checkSignature(ctx context.Context, e *env, tok string) signatureCheck {
	base, err := e.serverBase()
	if err != nil {
		return signatureCheck{Reason: err.Error()}
	}
	sc := signatureCheck{JWKSURI: base + "/.well-known/jwks.json"}
	set, err := fetchJWKS(ctx, sc.JWKSURI)
	if err != nil {
		sc.Reason = err.Error()
		return sc
	}
	sc.Checked = true
	jws, err := jose.ParseSignedCompact(tok, signatureAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		sc.Reason = "not a JWS Tollgate signs (EdDSA or ES256)"
		return sc
	}
	h := jws.Signatures[0].Header
	keys := set.Key(h.KeyID)
	if len(keys) == 0 {
		sc.Reason = fmt.Sprintf("no key %q in the JWKS", h.KeyID)
		return sc
	}
	for _, k := range keys {
		if k.Algorithm != h.Algorithm {
			continue
		}
		if _, err := jws.Verify(k.Key); err == nil {
			sc.Verified = true
			sc.Reason = ""
			return sc
		}
	}
	sc.Reason = fmt.Sprintf("the signature does not match key %q", h.KeyID)
	return sc
}

func fetchJWKS(ctx context.Context, uri string) (*jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, err
	}
	res, err := httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", uri, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered HTTP %d", uri, res.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("%s is not a JWK set: %w", uri, err)
	}
	return &set, nil
}

func printDecoded(e *env, asJSON bool, d decoded) error {
	if asJSON {
		return writeJSON(e.stdout, d)
	}
	for _, part := range []struct {
		name string
		raw  json.RawMessage
	}{{"header", d.Header}, {"claims", d.Claims}} {
		fmt.Fprintln(e.stdout, part.name+":")
		if err := writeRawJSON(e.stdout, part.raw); err != nil {
			return err
		}
	}
	s := d.Signature
	var line string
	switch {
	case !s.Checked:
		line = "signature: not checked (" + s.Reason + ")"
	case s.Verified:
		line = "signature: verified against " + s.JWKSURI
	default:
		line = "signature: INVALID (" + s.Reason + ", " + s.JWKSURI + ")"
	}
	_, err := fmt.Fprintln(e.stdout, line)
	return err
}

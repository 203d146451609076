package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// keyFlags are the client flags of private_key_jwt (RFC 7523 §2.2).
type keyFlags struct {
	method, jwksFile, jwksURI string
	// The federation binding.
	fedIssuer, fedSubject string
	fedClaims             []string
}

func (k *keyFlags) register(f *pflag.FlagSet) {
	f.StringVar(&k.method, "auth-method", "", "how the client authenticates: client_secret_basic (default), client_secret_post or private_key_jwt (implied by --jwks-file or --jwks-uri)")
	f.StringVar(&k.jwksFile, "jwks-file", "", "file holding the client's public JWK Set, for private_key_jwt")
	f.StringVar(&k.jwksURI, "jwks-uri", "", "https URL where the client publishes its public JWK Set, for private_key_jwt")
	f.StringVar(&k.fedIssuer, "federated-issuer", "", "authenticate with tokens of this trusted issuer (tollgate issuer add) instead of keys of its own")
	f.StringVar(&k.fedSubject, "federated-subject", "", "the sub those tokens must have: exact, or with * for any run of characters")
	f.StringArrayVar(&k.fedClaims, "federated-claim", nil, "a claim those tokens must have, as name=value (repeatable), e.g. repository=org/repo")
}

// binding reads the federation flags into the patch fields.
func (k *keyFlags) binding(changed func(string) bool) (iss, sub *string, claims *map[string]string, err error) {
	if changed("federated-issuer") {
		iss = &k.fedIssuer
	}
	if changed("federated-subject") {
		sub = &k.fedSubject
	}
	if changed("federated-claim") {
		m := map[string]string{}
		for _, c := range k.fedClaims {
			name, value, ok := strings.Cut(c, "=")
			if !ok || name == "" {
				return nil, nil, nil, fmt.Errorf("--federated-claim %q: write name=value", c)
			}
			m[name] = value
		}
		claims = &m
	}
	return iss, sub, claims, nil
}

// read returns the method and keys the flags give; changed reports which
// flags were given (nil: all were).
func (k *keyFlags) read(changed func(string) bool) (method *string, jwks *[]byte, uri *string, err error) {
	if k.jwksFile != "" && k.jwksURI != "" {
		return nil, nil, nil, errors.New("give --jwks-file or --jwks-uri, not both")
	}
	if changed("auth-method") {
		method = &k.method
	}
	if k.jwksFile != "" {
		b, err := os.ReadFile(k.jwksFile)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--jwks-file: %w", err)
		}
		if !json.Valid(b) {
			return nil, nil, nil, fmt.Errorf("--jwks-file %s does not hold JSON: it must be a JWK Set {\"keys\": [...]}", k.jwksFile)
		}
		jwks = &b
	}
	if changed("jwks-uri") {
		uri = &k.jwksURI
	}
	if method == nil && (jwks != nil || (uri != nil && *uri != "") || k.fedIssuer != "") {
		m := store.AuthPrivateKeyJWT
		method = &m
	}
	return method, jwks, uri, nil
}

// apply sets a new client's method and keys.
func (k *keyFlags) apply(spec *registry.ClientSpec, changed func(string) bool) error {
	m, jwks, uri, err := k.read(changed)
	if err != nil {
		return err
	}
	if m != nil {
		spec.AuthMethod = *m
	}
	if jwks != nil {
		spec.JWKS = *jwks
	}
	if uri != nil {
		spec.JWKSURI = *uri
	}
	iss, sub, claims, err := k.binding(changed)
	if err != nil {
		return err
	}
	if iss != nil {
		spec.FederatedIssuer = *iss
	}
	if sub != nil {
		spec.FederatedSubject = *sub
	}
	if claims != nil {
		spec.FederatedClaims = *claims
	}
	return nil
}

// patch sets the changed method and keys on p.
func (k *keyFlags) patch(p *registry.ClientPatch, changed func(string) bool) error {
	var err error
	p.AuthMethod, p.JWKS, p.JWKSURI, err = k.read(changed)
	if err != nil {
		return err
	}
	p.FederatedIssuer, p.FederatedSubject, p.FederatedClaims, err = k.binding(changed)
	return err
}

// keyFields adds the method, keys and binding to an admin API request
// body.
func keyFields(in map[string]any, spec registry.ClientSpec) {
	method, jwks, uri := spec.AuthMethod, spec.JWKS, spec.JWKSURI
	if spec.FederatedIssuer != "" {
		in["federated_issuer"], in["federated_subject"] = spec.FederatedIssuer, spec.FederatedSubject
	}
	if len(spec.FederatedClaims) > 0 {
		in["federated_claims"] = spec.FederatedClaims
	}
	if method != "" {
		in["token_endpoint_auth_method"] = method
	}
	if len(jwks) > 0 {
		in["jwks"] = json.RawMessage(jwks)
	}
	if uri != "" {
		in["jwks_uri"] = uri
	}
}

// claimsText prints claim conditions as sorted name=value pairs.
func claimsText(m map[string]string) string {
	pairs := make([]string, 0, len(m))
	for k, v := range m {
		pairs = append(pairs, k+"="+v)
	}
	slices.Sort(pairs)
	return strings.Join(pairs, ",")
}

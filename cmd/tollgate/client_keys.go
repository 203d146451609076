package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// keyFlags are the client flags of private_key_jwt (RFC 7523 §2.2).
type keyFlags struct {
	method, jwksFile, jwksURI string
}

func (k *keyFlags) register(f *pflag.FlagSet) {
	f.StringVar(&k.method, "auth-method", "", "how the client authenticates: client_secret_basic (default), client_secret_post or private_key_jwt (implied by --jwks-file or --jwks-uri)")
	f.StringVar(&k.jwksFile, "jwks-file", "", "file holding the client's public JWK Set, for private_key_jwt")
	f.StringVar(&k.jwksURI, "jwks-uri", "", "https URL where the client publishes its public JWK Set, for private_key_jwt")
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
	if method == nil && (jwks != nil || (uri != nil && *uri != "")) {
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
	return nil
}

// patch sets the changed method and keys on p.
func (k *keyFlags) patch(p *registry.ClientPatch, changed func(string) bool) error {
	var err error
	p.AuthMethod, p.JWKS, p.JWKSURI, err = k.read(changed)
	return err
}

// keyFields adds the method and keys to an admin API request body.
func keyFields(in map[string]any, method string, jwks []byte, uri string) {
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

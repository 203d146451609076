package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// claimFlags are --claim and --private-claim (repeatable name=value): the
// extra claims of a client's or user's tokens, public or only in tokens
// for an encrypted audience.
type claimFlags struct {
	public, private []string
}

func (c *claimFlags) register(f *pflag.FlagSet, subject string) {
	f.StringArrayVar(&c.public, "claim", nil, "an extra claim of the "+subject+"'s tokens, as name=value (repeatable); "+
		"the value is JSON if it parses as JSON (2, true, {\"a\":1}), else a string. On update the flags replace every claim; --claim \"\" removes them")
	f.StringArrayVar(&c.private, "private-claim", nil, "as --claim, but put only into tokens for an encrypted audience (tollgate audience create --encrypt), never into a readable JWS")
}

// read returns the claims objects the flags give; nil for a flag not
// given, JSON null for one given only as "".
func (c *claimFlags) read(changed func(string) bool) (public, private json.RawMessage, err error) {
	if changed("claim") {
		if public, err = claimsObject("--claim", c.public); err != nil {
			return nil, nil, err
		}
	}
	if changed("private-claim") {
		if private, err = claimsObject("--private-claim", c.private); err != nil {
			return nil, nil, err
		}
	}
	return public, private, nil
}

// claimsObject makes a JSON object of name=value pairs. A value that is
// valid JSON is taken as such, so that numbers, booleans and objects keep
// their type; anything else is a string ("acme", "01234").
func claimsObject(flag string, pairs []string) (json.RawMessage, error) {
	if len(pairs) == 1 && pairs[0] == "" {
		return json.RawMessage("null"), nil
	}
	m := make(map[string]json.RawMessage, len(pairs))
	for _, p := range pairs {
		name, value, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%s %q: write name=value, e.g. tenant=acme", flag, p)
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("%s: %q given twice", flag, name)
		}
		v := []byte(value)
		if !json.Valid(v) {
			v, _ = json.Marshal(value) // a string always encodes
		}
		m[name] = v
	}
	return json.Marshal(m)
}

// claimsShown is a claims object for a table: its JSON, or "-".
func claimsShown(raw json.RawMessage) string {
	return orDash(string(raw))
}

// claimFields puts the claims given (nil: not given) into an admin API
// request body.
func claimFields(in map[string]any, public, private json.RawMessage) {
	if public != nil {
		in["claims"] = public
	}
	if private != nil {
		in["private_claims"] = private
	}
}

package server

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

// FuzzParseBasic: no panic on any header, and any id and secret encoded
// per RFC 6749 §2.3.1 decode back to themselves.
func FuzzParseBasic(f *testing.F) {
	f.Add("Basic dGdjX2FiYzp0Z3NfeHl6", "tgc_abc", "tgs_xyz")
	f.Add("basic   Zm9vOmJhcg==", "a:b", "c d%e")
	f.Add("Basic !!!", "", "")
	f.Add("Bearer x", "ü", "\x00")
	f.Fuzz(func(t *testing.T, header, id, secret string) {
		_, _, _ = parseBasic(header)
		if id == "" {
			return
		}
		enc := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))
		gotID, gotSecret, err := parseBasic("Basic " + enc)
		if err != nil || gotID != id || gotSecret != secret {
			t.Fatalf("round trip of %q:%q gave %q:%q, %v", id, secret, gotID, gotSecret, err)
		}
	})
}

func TestParseBasicSchemeCaseInsensitive(t *testing.T) {
	enc := base64.StdEncoding.EncodeToString([]byte("tgc%5Fa:s%3As"))
	for _, scheme := range []string{"Basic", "basic", "BASIC"} {
		id, secret, err := parseBasic(scheme + " " + enc)
		if err != nil || id != "tgc_a" || secret != "s:s" {
			t.Errorf("%s: %q %q %v", scheme, id, secret, err)
		}
	}
	if _, _, err := parseBasic("Basic " + base64.StdEncoding.EncodeToString([]byte(":secret"))); err == nil {
		t.Error("empty client id accepted")
	}
	if _, _, err := parseBasic("Basic " + strings.Repeat("=", 3)); err == nil {
		t.Error("padding only accepted")
	}
}

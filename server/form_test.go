package server

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
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

// FuzzParseForm: no panic on any body; what is accepted has each
// parameter once, and a body over the bound is always refused.
func FuzzParseForm(f *testing.F) {
	f.Add("grant_type=client_credentials&scope=a+b", "application/x-www-form-urlencoded")
	f.Add("a=1&a=2", "application/x-www-form-urlencoded; charset=utf-8")
	f.Add("%zz=1", "application/x-www-form-urlencoded")
	f.Add("x=\x00\xff", "text/plain")
	f.Fuzz(func(t *testing.T, body, ct string) {
		r := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		form, err := parseForm(r)
		if err != nil {
			return
		}
		if len(body) > maxFormBytes {
			t.Fatalf("accepted a %d-byte body", len(body))
		}
		for k, v := range form {
			if len(v) != 1 {
				t.Fatalf("parameter %q accepted %d times", k, len(v))
			}
		}
	})
}

package server

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/server/oauth"
	"github.com/tollgate/tollgate/store"
)

// FuzzParseBasic: no panic on any header, and any id and secret encoded
// per RFC 6749 §2.3.1 decode back to themselves, except ids no store can
// hold (NUL, invalid UTF-8), which are refused.
func FuzzParseBasic(f *testing.F) {
	f.Add("Basic dGdjX2FiYzp0Z3NfeHl6", "tgc_abc", "tgs_xyz")
	f.Add("basic   Zm9vOmJhcg==", "a:b", "c d%e")
	f.Add("Basic !!!", "", "")
	f.Add("Bearer x", "ü", "\x00")
	f.Add("Basic x", "tgc_x\x00", "s")
	f.Add("Basic x", "\xc3", "0")
	f.Add("Basic x", "\xc3", "0")
	f.Add("Basic x", "tgc_x\x00", "s")
	f.Fuzz(func(t *testing.T, header, id, secret string) {
		_, _, _ = parseBasic(header)
		if id == "" {
			return
		}
		enc := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))
		gotID, gotSecret, err := parseBasic("Basic " + enc)
		if !store.StorableText(id) {
			if err == nil {
				t.Fatalf("client_id %q accepted", id)
			}
			return
		}
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

// TestParseFormUnstorableText: a value no store can hold is invalid_request
// before anything reads it; passwords and tokens (opaqueParams) may hold
// anything.
func TestParseFormUnstorableText(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		ok         bool
	}{
		{"nul in client_id", "client_id=tgc_x%00", false},
		{"invalid utf-8 in username", "username=a%FFb", false},
		{"nul in scope", "scope=read%00", false},
		{"nul in password", "username=ann&password=p%00w%FF", true},
		{"garbage token", "token=%00%FF", true},
		{"unicode", "username=%C3%BCser", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			_, err := parseForm(r)
			if tc.ok != (err == nil) {
				t.Fatalf("parseForm(%q) = %v, want ok=%v", tc.body, err, tc.ok)
			}
			if oe, isOAuth := err.(*oauth.Error); err != nil && (!isOAuth || oe.Code != oauth.InvalidRequest) {
				t.Errorf("error %v, want invalid_request", err)
			}
		})
	}
}

// TestExtractAssertion: a JWT client assertion (RFC 7521 §4.2) is one
// method, alone; its sub names the client when client_id is absent.
func TestExtractAssertion(t *testing.T) {
	t.Parallel()
	const typ = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// {"alg":"EdDSA"}.{"sub":"tgc_a"}.sig: the sub is read unverified.
	jwt := "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ0Z2NfYSJ9.c2ln"
	tests := []struct {
		name    string
		form    url.Values
		basic   bool
		wantID  string
		wantErr string
	}{
		{"sub names the client", url.Values{"client_assertion_type": {typ}, "client_assertion": {jwt}}, false, "tgc_a", ""},
		{"client_id wins", url.Values{"client_assertion_type": {typ}, "client_assertion": {jwt}, "client_id": {"tgc_b"}}, false, "tgc_b", ""},
		{"not a JWT: no id", url.Values{"client_assertion_type": {typ}, "client_assertion": {"garbage"}}, false, "", ""},
		{"with Basic", url.Values{"client_assertion_type": {typ}, "client_assertion": {jwt}}, true, "", oauth.InvalidRequest},
		{"with a secret", url.Values{"client_assertion_type": {typ}, "client_assertion": {jwt}, "client_secret": {"s"}}, false, "", oauth.InvalidRequest},
		{"wrong type", url.Values{"client_assertion_type": {"urn:x"}, "client_assertion": {jwt}}, false, "", oauth.InvalidRequest},
		{"type without assertion", url.Values{"client_assertion_type": {typ}}, false, "", oauth.InvalidRequest},
		{"assertion without type", url.Values{"client_assertion": {jwt}}, false, "", oauth.InvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/oauth2/token", nil)
			if tc.basic {
				r.SetBasicAuth("tgc_a", "s")
			}
			cc, err := extractClient(r, tc.form)
			if tc.wantErr != "" {
				oe, ok := err.(*oauth.Error)
				if !ok || oe.Code != tc.wantErr {
					t.Fatalf("err = %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || cc.ID != tc.wantID || cc.Assertion != tc.form.Get("client_assertion") || cc.Secret != "" {
				t.Fatalf("got %+v, %v; want id %q", cc, err, tc.wantID)
			}
		})
	}
}

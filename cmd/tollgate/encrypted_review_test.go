package main

import (
	"net/url"
	"strings"
	"testing"
)

// TestAudienceKeysAfterEncryptionOff: turning an audience's encryption off
// keeps its keys decrypting the tokens already encrypted to them until
// retention ends, so its API (a new instance, with no keys cached yet)
// still fetches them; new tokens are plain JWSs.
func TestAudienceKeysAfterEncryptionOff(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newEncEnv(t, b)
			cc := url.Values{"grant_type": {"client_credentials"}, "audience": {secretAPI}}
			before := e.token(e.app, cc).body["access_token"].(string)
			if r := e.newAdmin().call("PATCH", "/audiences/"+url.PathEscape(secretAPI), map[string]any{"encrypted": false}); r.status != 200 {
				t.Fatalf("turning encryption off: %d %s", r.status, r.raw)
			}
			if after := e.token(e.app, cc).body["access_token"].(string); strings.Count(after, ".") != 2 {
				t.Fatalf("a token after encryption was turned off is not a JWS")
			}
			set, r := e.audienceKeys(e.api, "")
			if r.status != 200 {
				t.Fatalf("the API cannot fetch the keys of its still-valid tokens: %d %s", r.status, r.raw)
			}
			open(t, before, set)
			if _, r := e.audienceKeys(e.api, "?audience="+url.QueryEscape(secretAPI)); r.status != 200 {
				t.Errorf("by name: %d %s", r.status, r.raw)
			}
			if _, r := e.audienceKeys(e.app, ""); r.status != 403 {
				t.Errorf("a client without tollgate:decrypt: %d %s", r.status, r.raw)
			}
		})
	}
}

package main

import "testing"

// A password change ends every session of the user, as disabling does:
// the refresh family stops rotating and the access token goes inactive.
func TestPasswordChangeEndsSessions(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e, id, secret, userID := passwordSetup(t, b)
			rsID, rsSecret := e.rsClient()
			a := e.newAdmin()
			r := e.login(id, secret, "alice", "correct horse battery")
			if r.status != 200 {
				t.Fatalf("login: %d %s", r.status, r.raw)
			}
			at, rt := r.body["access_token"].(string), r.body["refresh_token"].(string)
			if r := e.introspect(rsID, rsSecret, at); r.body["active"] != true {
				t.Fatalf("fresh token: %s", r.raw)
			}

			if r := a.call("PUT", "/users/"+userID+"/password", map[string]any{"password": "a new passphrase"}); r.status != 204 {
				t.Fatalf("set password: %d %s", r.status, r.raw)
			}
			if r := e.refresh(id, secret, rt); r.status != 400 || r.body["error"] != "invalid_grant" {
				t.Errorf("refresh after the password change: %d %s", r.status, r.raw)
			}
			if r := e.introspect(rsID, rsSecret, at); r.status != 200 || r.body["active"] != false {
				t.Errorf("access token after the password change: %d %s", r.status, r.raw)
			}
			if r := e.login(id, secret, "alice", "correct horse battery"); r.status != 400 {
				t.Errorf("old password: %d %s", r.status, r.raw)
			}
			if r := e.login(id, secret, "alice", "a new passphrase"); r.status != 200 {
				t.Errorf("new password: %d %s", r.status, r.raw)
			}
		})
	}
}

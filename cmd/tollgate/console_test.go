package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestConsoleWired: tollgate serve serves the console by default, on
// every backend, and an admin created with the CLI signs in and sees the
// overview (its node count from the backend's revocation roster);
// TOLLGATE_CONSOLE=false leaves /console out.
func TestConsoleWired(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			e.mustCLI("an admin passphrase\n", "user", "create", "--username", "ops", "--roles", "admin", "--password-stdin")
			e.start()
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar}
			body := func(resp *http.Response, err error) (int, string) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			status, page := body(c.Get(e.srv.URL + "/console/sign-in"))
			m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
			if status != http.StatusOK || m == nil {
				t.Fatalf("GET /console/sign-in: %d\n%s", status, page)
			}
			status, page = body(c.PostForm(e.srv.URL+"/console/sign-in", url.Values{"csrf": {m[1]}, "username": {"ops"}, "password": {"an admin passphrase"}}))
			if status != http.StatusOK || !strings.Contains(page, "<h1>Overview</h1>") || !strings.Contains(page, "on the revocation roster") {
				t.Errorf("signing in: %d\n%s", status, page)
			}
		})
	}
	t.Run("off", func(t *testing.T) {
		t.Parallel()
		e := newTestEnv(t, embedded)
		e.vars["TOLLGATE_CONSOLE"] = "false"
		e.start()
		for _, p := range []string{"/console", "/console/sign-in", "/console/static/console.css"} {
			if r := e.get(p); r.status != http.StatusNotFound {
				t.Errorf("TOLLGATE_CONSOLE=false: GET %s answers %d, want 404", p, r.status)
			}
		}
	})
}

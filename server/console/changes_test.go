package console_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

var secretField = regexp.MustCompile(`data-secret>([^<]+)<`)

// shownOnce returns the secret of a page that shows one once.
func shownOnce(t *testing.T, p page) string {
	t.Helper()
	m := secretField.FindStringSubmatch(p.body)
	if m == nil || !strings.Contains(p.body, "shown once") {
		t.Fatalf("no secret shown once (%d):\n%s", p.status, p.body)
	}
	return m[1]
}

// token asks the token endpoint for a client_credentials token.
func (n *node) token(t *testing.T, id, secret string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, n.srv.URL+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.AccessToken
}

// lastAudit returns the newest audit entry.
func (n *node) lastAudit(t *testing.T) store.AuditEntry {
	t.Helper()
	es, err := n.st.ListAudit(t.Context(), store.AuditFilter{}, 0, 10000)
	if err != nil || len(es) == 0 {
		t.Fatalf("no audit entries: %v", err)
	}
	return es[len(es)-1]
}

// wantAudit checks the newest entry's action and that the signed-in admin
// made it through the console.
func (n *node) wantAudit(t *testing.T, action, target string) {
	t.Helper()
	e := n.lastAudit(t)
	actor := "user:" + n.admin.ID + " (" + adminName + ") via console"
	if e.Action != action || e.Target != target || e.Actor != actor {
		t.Errorf("audit entry %s %s by %s, want %s %s by %s", e.Action, e.Target, e.Actor, action, target, actor)
	}
}

// TestClientLifecycle creates, edits, rotates, disables, revokes and
// deletes a client through the console, checking each with the token
// endpoint and the audit log.
func TestClientLifecycle(t *testing.T) {
	n := newNode(t)
	b := n.signedIn()
	b.get("/console/clients/new")
	p := b.post("/console/clients/new", url.Values{"name": {"billing"}, "scopes": {"read write"}, "grant_types": {"client_credentials"}, "access_token_ttl": {"15m"}})
	if p.status != http.StatusCreated {
		t.Fatalf("create: %d\n%s", p.status, p.body)
	}
	sec := shownOnce(t, p)
	cs, _ := n.st.ListClients(t.Context(), "", 10)
	if len(cs) != 1 || cs[0].Name != "billing" || cs[0].AccessTokenTTL != 15*time.Minute {
		t.Fatalf("stored clients: %+v", cs)
	}
	id := cs[0].ID
	n.wantAudit(t, "client.create", "client:"+id)
	if status, _ := n.token(t, id, sec); status != http.StatusOK {
		t.Fatalf("a token with the secret shown: %d", status)
	}
	page := b.get("/console/clients/" + id)
	if strings.Contains(page.body, sec) {
		t.Error("the client page shows the secret again")
	}
	for _, want := range []string{">Rotate secret</button>", ">Revoke tokens</button>", ">Delete</button>"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the client page lacks %s", want)
		}
	}
	if list := b.get("/console/clients?q=bill"); !strings.Contains(list.body, `href="/console/clients/`+id+`">billing</a>`) {
		t.Error("the list's row does not link to the client by name")
	}
	if list := b.get("/console/clients?q=nomatch"); strings.Contains(list.body, ">billing</a>") {
		t.Error("the search does not filter")
	}

	// Edit: grant types and TTLs.
	p = b.post("/console/clients/"+id, url.Values{"name": {"billing"}, "scopes": {"read write"}, "grant_types": {"client_credentials", "password", "refresh_token"},
		"access_token_ttl": {"600"}, "refresh_token_ttl": {"2h"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", p.status, p.body)
	}
	c, _ := n.st.GetClient(t.Context(), id)
	if len(c.GrantTypes) != 3 || c.AccessTokenTTL != 10*time.Minute || c.RefreshTokenTTL != 2*time.Hour {
		t.Errorf("after the edit: grant types %v, TTLs %s %s", c.GrantTypes, c.AccessTokenTTL, c.RefreshTokenTTL)
	}
	n.wantAudit(t, "client.update", "client:"+id)
	if p := b.get("/console/clients/" + id); !strings.Contains(p.body, "Saved the client") {
		t.Error("no message after saving")
	}

	// Rotate without overlap: only the new secret works.
	p = b.post("/console/clients/"+id+"/rotate-secret", url.Values{"overlap": {"0"}, "confirmed": {"yes"}})
	rotated := shownOnce(t, p)
	if s, _ := n.token(t, id, sec); s != http.StatusUnauthorized {
		t.Errorf("the old secret after a rotation without overlap: %d", s)
	}
	status, tok := n.token(t, id, rotated)
	if status != http.StatusOK {
		t.Errorf("the new secret: %d", status)
	}
	n.wantAudit(t, "client.rotate_secret", "client:"+id)

	// Revoke tokens.
	if p := b.post("/console/clients/"+id+"/revoke-tokens", url.Values{"confirmed": {"yes"}}); p.status != http.StatusSeeOther {
		t.Fatalf("revoke tokens: %d", p.status)
	}
	n.wantAudit(t, "client.revoke_tokens", "client:"+id)
	if tok == "" {
		t.Fatal("no token")
	}

	// Disable, enable.
	b.post("/console/clients/"+id+"/disable", url.Values{"disabled": {"true"}, "confirmed": {"yes"}})
	if s, _ := n.token(t, id, rotated); s != http.StatusUnauthorized {
		t.Errorf("a disabled client's token request: %d", s)
	}
	b.post("/console/clients/"+id+"/disable", url.Values{"disabled": {"false"}})
	if s, _ := n.token(t, id, rotated); s != http.StatusOK {
		t.Errorf("an enabled client's token request: %d", s)
	}

	// Delete asks first, then deletes.
	p = b.post("/console/clients/"+id+"/delete", nil)
	if p.status != http.StatusOK || !strings.Contains(p.body, "Please confirm") {
		t.Fatalf("delete without confirmation: %d", p.status)
	}
	if _, err := n.st.GetClient(t.Context(), id); err != nil {
		t.Fatalf("the client went before it was confirmed: %v", err)
	}
	if p := b.post("/console/clients/"+id+"/delete", url.Values{"confirmed": {"yes"}}); p.status != http.StatusSeeOther {
		t.Fatalf("confirmed delete: %d", p.status)
	}
	if _, err := n.st.GetClient(t.Context(), id); err == nil {
		t.Error("the client is still there")
	}
	n.wantAudit(t, "client.delete", "client:"+id)
	if p := b.get("/console/clients/" + id); p.status != http.StatusNotFound {
		t.Errorf("a deleted client's page: %d", p.status)
	}
}

// TestUsersAndAPIKeys manages a user and an API key through the console.
func TestUsersAndAPIKeys(t *testing.T) {
	n := newNode(t)
	b := n.signedIn()
	b.get("/console/users/new")
	p := b.post("/console/users/new", url.Values{"username": {"alice"}, "password": {"alice-password"}, "roles": {"reader"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("create user: %d\n%s", p.status, p.body)
	}
	u, err := n.st.GetUserByUsername(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	n.wantAudit(t, "user.create", "user:"+u.ID)
	b.get("/console/users/" + u.ID)
	steps := []struct {
		path   string
		form   url.Values
		action string
	}{
		{"/console/users/" + u.ID, url.Values{"roles": {"reader writer"}}, "user.update"},
		{"/console/users/" + u.ID + "/password", url.Values{"password": {"a-new-password"}}, "user.set_password"},
		{"/console/users/" + u.ID + "/revoke-tokens", url.Values{"confirmed": {"yes"}}, "user.revoke_tokens"},
		{"/console/users/" + u.ID, url.Values{"disabled": {"true"}, "confirmed": {"yes"}}, "user.update"},
	}
	for _, s := range steps {
		if p := b.post(s.path, s.form); p.status != http.StatusSeeOther {
			t.Fatalf("POST %s: %d\n%s", s.path, p.status, p.body)
		}
		n.wantAudit(t, s.action, "user:"+u.ID)
	}
	got, _ := n.st.GetUser(t.Context(), u.ID)
	if !got.Disabled || strings.Join(got.Roles, " ") != "reader writer" {
		t.Errorf("user after the changes: disabled %v roles %v", got.Disabled, got.Roles)
	}
	if p := b.post("/console/users/"+n.admin.ID+"/delete", url.Values{"confirmed": {"yes"}}); p.status != http.StatusBadRequest {
		t.Errorf("deleting yourself: %d, want 400", p.status)
	}
	if p := b.post("/console/users/"+n.admin.ID, url.Values{"disabled": {"true"}, "confirmed": {"yes"}}); p.status != http.StatusBadRequest {
		t.Errorf("disabling yourself: %d, want 400", p.status)
	}

	c := n.client("svc")
	b.get("/console/api-keys/new")
	p = b.post("/console/api-keys/new", url.Values{"owner_type": {"client"}, "owner": {"svc"}, "name": {"deploy"}, "expires_in": {"720h"}})
	if p.status != http.StatusCreated {
		t.Fatalf("create key: %d\n%s", p.status, p.body)
	}
	key := shownOnce(t, p)
	if !strings.HasPrefix(key, "tgk_") {
		t.Errorf("key %q", key)
	}
	ks, _ := n.st.ListAPIKeys(t.Context(), store.OwnerClient, c.ID, "", 10)
	if len(ks) != 1 || ks[0].Name != "deploy" {
		t.Fatalf("keys of the client: %+v", ks)
	}
	n.wantAudit(t, "apikey.create", "apikey:"+ks[0].ID)
	list := b.get("/console/api-keys?owner_type=client&owner_id=" + c.ID)
	if !strings.Contains(list.body, "deploy") || strings.Contains(list.body, key) {
		t.Error("the key list does not show the key's name, or shows the key")
	}
	if p := b.post("/console/api-keys/"+ks[0].ID+"/revoke", url.Values{"confirmed": {"yes"}, "back": {"/api-keys?owner_type=client&owner_id=" + c.ID}}); p.status != http.StatusSeeOther ||
		p.header.Get("Location") != "/console/api-keys?owner_type=client&owner_id="+c.ID {
		t.Fatalf("revoke key: %d → %s", p.status, p.header.Get("Location"))
	}
	n.wantAudit(t, "apikey.revoke", "apikey:"+ks[0].ID)
	if p := b.post("/console/api-keys/"+ks[0].ID+"/revoke", url.Values{"confirmed": {"yes"}, "back": {"//evil.example/"}}); p.header.Get("Location") != "/console/api-keys" {
		t.Errorf("a foreign back link was followed: %s", p.header.Get("Location"))
	}
}

// TestSigningKeysAndAudit rotates the signing key and reads the audit log
// with filters and diffs.
func TestSigningKeysAndAudit(t *testing.T) {
	n := newNode(t)
	c := n.client("app")
	b := n.signedIn()
	b.get("/console/signing-keys")
	if p := b.post("/console/signing-keys/rotate", url.Values{"confirmed": {"yes"}}); p.status != http.StatusSeeOther {
		t.Fatalf("rotate: %d", p.status)
	}
	if e := n.lastAudit(t); e.Action != "signing_key.rotate" || !strings.Contains(e.Actor, "via console") {
		t.Errorf("rotation audit: %+v", e)
	}
	if p := b.get("/console/signing-keys"); strings.Count(p.body, `class="badge badge-next"`) != 1 || !strings.Contains(p.body, `class="timeline"`) {
		t.Errorf("the signing-keys page shows no next key on a timeline")
	}
	b.get("/console/clients/" + c.ID)
	b.post("/console/clients/"+c.ID, url.Values{"name": {"app-renamed"}, "scopes": {"read"}, "grant_types": {"client_credentials"}})
	p := b.get("/console/audit?action=client.update&target=client:" + c.ID + "&actor=via+console")
	if !strings.Contains(p.body, `<tr class="changed"><th scope="row">client_name</th><td><code>app</code></td><td><code>app-renamed</code></td>`) {
		t.Errorf("no diff of the name in the audit page:\n%s", p.body)
	}
	if p := b.get("/console/audit?actor=nobody"); !strings.Contains(p.body, "No entries match") {
		t.Error("the actor filter does not filter")
	}
	future := time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04")
	if p := b.get("/console/audit?since=" + future); !strings.Contains(p.body, "No entries match") {
		t.Error("the time filter does not filter")
	}
	if p := b.get("/console/audit?since=yesterday"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "date and time") {
		t.Errorf("a bad time: %d", p.status)
	}
}

// TestBadInputChangesNothing: malformed forms get a clear 4xx page, never
// a 500, and change nothing.
func TestBadInputChangesNothing(t *testing.T) {
	n := newNode(t)
	c := n.client("target")
	b := n.signedIn()
	b.get("/console/clients/new")
	form := func(kv ...string) string {
		v := url.Values{"csrf": {b.csrf}}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	const ct = "application/x-www-form-urlencoded"
	cases := []struct {
		name, path, contentType, body string
		status                        int
		says                          string
	}{
		{"over-long value", "/console/clients/new", ct, form("name", strings.Repeat("a", 5000)), 400, "too long"},
		{"non-UTF-8 value", "/console/clients/new", ct, form() + "&name=%ff%fe", 400, "valid UTF-8"},
		{"NUL in a value", "/console/clients/new", ct, form() + "&name=a%00b", 400, "valid UTF-8"},
		{"unknown field", "/console/clients/new", ct, form("name", "x", "is_admin", "true"), 400, "does not know: is_admin"},
		{"field twice", "/console/clients/new", ct, form("name", "x", "name", "y"), 400, "more than once"},
		{"not a form", "/console/clients/new", "application/json", `{"name":"x"}`, 415, "x-www-form-urlencoded"},
		{"body too large", "/console/clients/new", ct, form("name", "x") + "&pad=" + strings.Repeat("a", 70<<10), 413, "too large"},
		{"unreadable form", "/console/clients/new", ct, form() + "&name=%zz", 400, "could not be read"},
		{"bad lifetime", "/console/clients/new", ct, form("name", "x", "access_token_ttl", "soon"), 400, "must be a duration"},
		{"registry's message", "/console/clients/new", ct, form("name", "x", "scopes", `bad"scope`), 400, "is not a valid scope"},
		{"taken name", "/console/clients/new", ct, form("name", "target"), 400, "already taken"},
		{"unknown grant type", "/console/clients/" + c.ID, ct, form("name", "target", "grant_types", "implicit"), 400, "unknown grant type"},
		{"bad overlap", "/console/clients/" + c.ID + "/rotate-secret", ct, form("overlap", "-5", "confirmed", "yes"), 400, "Choose an overlap"},
		{"unknown client", "/console/clients/tgc_nope/revoke-tokens", ct, form("confirmed", "yes"), 404, "No such client"},
		{"short password", "/console/users/new", ct, form("username", "bob", "password", "short"), 400, "must be 8 to 1024 bytes"},
		{"unknown key owner", "/console/api-keys/new", ct, form("owner_type", "client", "owner", "nobody", "name", "k"), 400, "owner"},
		{"bad key owner type", "/console/api-keys/new", ct, form("owner_type", "robot", "owner", "x", "name", "k"), 400, "owner_type"},
	}
	before := n.audits()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := b.postRaw(tc.path, tc.contentType, tc.body)
			if p.status != tc.status || !strings.Contains(p.body, tc.says) {
				t.Errorf("%d, want %d saying %q\n%s", p.status, tc.status, tc.says, p.body)
			}
		})
	}
	for _, q := range []string{"/console/clients?q=" + strings.Repeat("x", 300), "/console/users?cursor=%ff", "/console/api-keys?owner_type=robot", "/console/audit?before=-1"} {
		if p := b.get(q); p.status != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", q, p.status)
		}
	}
	if got := n.audits(); got != before {
		t.Errorf("bad input changed things: %d audit entries, then %d", before, got)
	}
	if cs, _ := n.st.ListClients(t.Context(), "", 10); len(cs) != 1 {
		t.Errorf("%d clients after bad input, want 1", len(cs))
	}
	// The field's message sits next to the field.
	p := b.postRaw("/console/clients/new", ct, form("name", "x", "scopes", `bad"scope`))
	if !regexp.MustCompile(`(?s)id="scopes".*?aria-invalid="true".*?class="field-error"[^>]*>[^<]*is not a valid scope`).MatchString(p.body) {
		t.Error("the scope's error is not next to the Scopes field")
	}
}

// TestOverviewCharts draws the charts from the server's own metrics.
func TestOverviewCharts(t *testing.T) {
	n := newNode(t)
	n.stats.Sample(t.Context())
	for range 5 {
		n.token(t, "tgc_unknown", "wrong")
	}
	n.clk.Advance(10 * time.Second)
	n.stats.Sample(t.Context())
	n.clk.Advance(10 * time.Second)
	n.stats.Sample(t.Context())
	b := n.signedIn()
	p := b.get("/console/overview")
	for _, want := range []string{"Token requests", "Errors", "p99 latency", "Revocation set", "Nodes", `<polyline class="series c0"`, "invalid_client", `aria-label="Token requests per second"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the overview lacks %q", want)
		}
	}

}

// TestListsPage: a list shows 25 rows and links to the next page, which
// shows the rest; a search pages too.
func TestListsPage(t *testing.T) {
	n := newNode(t)
	for i := range 30 {
		n.client(fmt.Sprintf("app-%02d", i))
	}
	b := n.signedIn()
	first := b.get("/console/clients")
	next := regexp.MustCompile(`href="\?q=&amp;cursor=([^"]+)">Next page`).FindStringSubmatch(first.body)
	if got := strings.Count(first.body, `class="strong" href="/console/clients/`); got != 25 || next == nil {
		t.Fatalf("first page: %d rows, next link %v", got, next)
	}
	second := b.get("/console/clients?cursor=" + next[1])
	if got := strings.Count(second.body, `class="strong" href="/console/clients/`); got != 5 || strings.Contains(second.body, "Next page") {
		t.Errorf("second page: %d rows, want 5 and no next page", got)
	}
	if p := b.get("/console/clients?q=app-1"); strings.Count(p.body, `class="strong" href="/console/clients/`) != 10 {
		t.Errorf("searching app-1: %d rows, want 10", strings.Count(p.body, `class="strong" href="/console/clients/`))
	}
}

// TestSignInSharesThePasswordGrantBudget: wrong passwords at the token
// endpoint lock the same username out of the console.
func TestSignInSharesThePasswordGrantBudget(t *testing.T) {
	n := newNode(t)
	c, sec, err := n.reg.CreateClient(t.Context(), registry.ClientSpec{Name: "web", GrantTypes: []string{"password"}})
	if err != nil {
		t.Fatal(err)
	}
	for range 11 {
		req, _ := http.NewRequest(http.MethodPost, n.srv.URL+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"password"}, "username": {adminName}, "password": {"wrong"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(c.ID, sec)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	b := n.browser()
	b.get("/console/sign-in")
	if p := b.post("/console/sign-in", url.Values{"username": {adminName}, "password": {adminPassword}}); p.status != http.StatusTooManyRequests {
		t.Errorf("console sign-in after 11 wrong passwords at the token endpoint: %d, want 429", p.status)
	}
}

// TestPagesEscape: names are shown as text, never as markup.
func TestPagesEscape(t *testing.T) {
	n := newNode(t)
	c := n.client(`<script>alert("x")</script>`)
	b := n.signedIn()
	for _, p := range []string{"/console/clients", "/console/clients/" + c.ID, "/console/audit"} {
		body := b.get(p).body
		if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;alert(") {
			t.Errorf("%s does not escape the client's name", p)
		}
	}
}

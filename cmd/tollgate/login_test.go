package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/tollgate/tollgate/store/sqlstore"
)

// passwordLogin is a password-grant form.
func passwordLogin(username, password string) url.Values {
	return url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}}
}

// fromAddr sets the caller address a trusted proxy reports.
func fromAddr(ip string, h http.Header) http.Header {
	h.Set("X-Forwarded-For", ip)
	return h
}

// cheapenPassword stores username's password again under the cheapest
// argon2id parameters the verifier accepts (8 KiB, one pass), as a row
// written by an older release could be. A failure budget counts failed
// verifications whatever they cost, and at the default cost (19 MiB, two
// passes) each one takes a quarter second or more under -race: tests that
// spend a budget of fifty would spend most of their time hashing.
func (e *testEnv) cheapenPassword(username, password string) {
	e.t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, e.vars["TOLLGATE_DATABASE_URL"], sqlstore.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer st.Close()
	u, err := st.GetUserByUsername(ctx, username)
	if err != nil {
		e.t.Fatal(err)
	}
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	b64 := base64.RawStdEncoding
	u.PasswordHash = fmt.Sprintf("$argon2id$v=%d$m=8,t=1,p=1$%s$%s", argon2.Version,
		b64.EncodeToString(salt), b64.EncodeToString(argon2.IDKey([]byte(password), salt, 1, 8, 1, 32)))
	if err := st.UpdateUser(ctx, u); err != nil {
		e.t.Fatal(err)
	}
}

// TestPasswordFailureBudgets: wrong passwords are budgeted per username
// (by address, and across every address), never on the client; IPv6
// addresses share a budget per /64; and the per-username lockout is short.
func TestPasswordFailureBudgets(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.vars["TOLLGATE_TRUSTED_PROXIES"] = "127.0.0.1"
	web, webSecret := e.newClient("--name", "web", "--grant-types", "password")
	for _, u := range []string{"grace", "heidi", "ivan"} {
		e.mustCLI("a long passphrase\n", "user", "create", "--username", u, "--password-stdin")
	}
	// heidi and ivan take 13 and 52 wrong guesses.
	e.cheapenPassword("heidi", "a long passphrase")
	e.cheapenPassword("ivan", "a long passphrase")
	e.start()
	login := func(ip, username, password string) response {
		return e.post("/oauth2/token", passwordLogin(username, password), fromAddr(ip, basic(web, webSecret)))
	}

	t.Run("made-up usernames do not lock the client out", func(t *testing.T) {
		// One backend-for-frontend address, as every user behind it has.
		// Twelve failures: were they budgeted per client and address, the
		// 11th would lock the pair (10 are free) and the 12th see a 429.
		const bff = "203.0.113.50"
		for i := range 12 {
			if r := login(bff, "nobody"+strconv.Itoa(i), "guess"); r.status != 400 || r.body["error"] != "invalid_grant" {
				t.Fatalf("wrong password %d for a made-up user: %d %s", i+1, r.status, r.raw)
			}
		}
		if r := login(bff, "grace", "a long passphrase"); r.status != 200 {
			t.Fatalf("a real user's right password through the same client and address: %d %s", r.status, r.raw)
		}
	})

	t.Run("one IPv6 /64 is one address", func(t *testing.T) {
		lockedAt := 0
		for i := 1; i <= 13 && lockedAt == 0; i++ {
			r := login(fmt.Sprintf("2001:db8:1:2::%x", i), "heidi", "guess"+strconv.Itoa(i))
			if r.status == 429 {
				lockedAt = i
			} else if r.status != 400 {
				t.Fatalf("guess %d: %d %s", i, r.status, r.raw)
			}
		}
		// 10 failures are free, the 11th locks the pair: the 12th waits.
		if lockedAt != 12 {
			t.Fatalf("guesses from 13 addresses of one /64 locked out at %d, want 12", lockedAt)
		}
		if r := login("2001:db8:1:3::1", "heidi", "a long passphrase"); r.status != 200 {
			t.Errorf("heidi from the next /64: %d %s", r.status, r.raw)
		}
	})

	t.Run("no address spread escapes the per-username budget", func(t *testing.T) {
		lockedAt, retry := 0, 0
		for i := 1; i <= 60 && lockedAt == 0; i++ {
			r := login(fmt.Sprintf("198.51.100.%d", i), "ivan", "guess"+strconv.Itoa(i))
			if r.status == 429 {
				lockedAt = i
				retry, _ = strconv.Atoi(r.header.Get("Retry-After"))
			} else if r.status != 400 {
				t.Fatalf("guess %d: %d %s", i, r.status, r.raw)
			}
		}
		// 50 failures are free, the 51st locks the username for 1 s.
		if lockedAt != 52 {
			t.Fatalf("one guess each from 60 addresses locked out at %d, want 52", lockedAt)
		}
		if retry < 1 || retry > 60 {
			t.Errorf("Retry-After %d: the per-username lockout must stay short (at most a minute)", retry)
		}
	})
}

// TestLoginRate: successful password logins are limited per username (on
// by default); wrong passwords do not spend the budget, and other users
// are unaffected. Cluster-wide with Redis, per process embedded.
func TestLoginRate(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			// Two a minute rather than the default ten: with -race each
			// argon2id login takes a second or more here, and twenty of
			// them would outlast the bucket's refill (one per six seconds).
			e.vars["TOLLGATE_RATE_LIMIT_LOGIN"] = "2"
			web, webSecret := e.newClient("--name", "web", "--grant-types", "password")
			e.mustCLI("judy's passphrase\n", "user", "create", "--username", "judy", "--password-stdin")
			e.mustCLI("karl's passphrase\n", "user", "create", "--username", "karl", "--password-stdin")
			e.start()
			login := func(username, password string) response {
				return e.post("/oauth2/token", passwordLogin(username, password), basic(web, webSecret))
			}
			// Wrong passwords within the failure budget cost no logins.
			for i := range 3 {
				if r := login("judy", "wrong"+strconv.Itoa(i)); r.status != 400 {
					t.Fatalf("wrong password %d: %d %s", i+1, r.status, r.raw)
				}
			}
			for i := range 2 {
				if r := login("judy", "judy's passphrase"); r.status != 200 {
					t.Fatalf("login %d of 2 a minute: %d %s", i+1, r.status, r.raw)
				}
			}
			r := login("judy", "judy's passphrase")
			if r.status != 429 || r.body["error"] != "temporarily_unavailable" || r.header.Get("Retry-After") == "" || r.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("3rd login in a minute: %d %v %s", r.status, r.header, r.raw)
			}
			if r := login("karl", "karl's passphrase"); r.status != 200 {
				t.Errorf("another user: %d %s", r.status, r.raw)
			}
		})
	}
}

// TestLoginQueueTimeout: logins that find no free password-hashing slot
// within the queue timeout are answered 503 temporarily_unavailable with
// Retry-After (RFC 6749 §5.2), instead of waiting until their callers give
// up.
func TestLoginQueueTimeout(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.vars["TOLLGATE_LOGIN_QUEUE_TIMEOUT"] = "100ms"
	e.vars["TOLLGATE_RATE_LIMIT_LOGIN"] = "0"
	web, webSecret := e.newClient("--name", "web", "--grant-types", "password")
	e.mustCLI("a long passphrase\n", "user", "create", "--username", "lena", "--password-stdin")
	e.start()
	const n = 128
	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		busy     response
		wg       sync.WaitGroup
	)
	for range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth2/token", strings.NewReader(passwordLogin("lena", "a long passphrase").Encode()))
			req.Header = basic(web, webSecret)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			mu.Lock()
			defer mu.Unlock()
			statuses[res.StatusCode]++
			if res.StatusCode == 503 && busy.status == 0 {
				busy = response{status: 503, header: res.Header, raw: string(raw)}
				_ = json.Unmarshal(raw, &busy.body)
				if err := checkOpenAPI(req, res.StatusCode, res.Header, raw); err != nil {
					t.Errorf("the 503 is not as openapi.json documents: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if statuses[200]+statuses[503] != n || statuses[200] == 0 {
		t.Fatalf("%d concurrent logins answered %v, want only 200 and 503", n, statuses)
	}
	if statuses[503] == 0 {
		t.Fatalf("%d concurrent logins with a 100ms queue timeout all waited their turn: %v", n, statuses)
	}
	if busy.body["error"] != "temporarily_unavailable" || busy.header.Get("Retry-After") != "1" || busy.header.Get("Cache-Control") != "no-store" {
		t.Errorf("the 503: %v %s", busy.header, busy.raw)
	}
	if r := e.post("/oauth2/token", passwordLogin("lena", "a long passphrase"), basic(web, webSecret)); r.status != 200 {
		t.Errorf("a lone login after the burst: %d %s", r.status, r.raw)
	}
}

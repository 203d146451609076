package main

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
)

// TestBruteForceLockout: well before 300 wrong secrets for one client from
// one address the token endpoint answers 429 with Retry-After (in the
// OAuth error format); the lock is per client and address, so the same
// client from another address (behind a trusted proxy) is not locked out.
func TestBruteForceLockout(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.vars["TOLLGATE_TRUSTED_PROXIES"] = "127.0.0.1"
	id, secret := e.newClient("--name", "victim")
	e.start()
	cc := url.Values{"grant_type": {"client_credentials"}}
	from := func(ip string, h http.Header) http.Header {
		h.Set("X-Forwarded-For", ip)
		return h
	}

	lockedAt := 0
	for i := 1; i <= 300; i++ {
		r := e.post("/oauth2/token", cc, from("203.0.113.7", basic(id, "tgs_guess"+strconv.Itoa(i))))
		if r.status == 429 {
			lockedAt = i
			if r.header.Get("Retry-After") == "" || r.body["error"] != "temporarily_unavailable" || r.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("lockout answer: %d %v %s", r.status, r.header, r.raw)
			}
			break
		}
		if r.status != 401 {
			t.Fatalf("attempt %d: %d %s", i, r.status, r.raw)
		}
	}
	if lockedAt == 0 || lockedAt > 20 {
		t.Fatalf("locked out at attempt %d, want well before 300", lockedAt)
	}
	// Even the right secret waits while the pair is locked.
	if r := e.post("/oauth2/token", cc, from("203.0.113.7", basic(id, secret))); r.status != 429 {
		t.Errorf("right secret from the locked address: %d", r.status)
	}
	// The victim from its own address is not locked out by the attacker.
	if r := e.post("/oauth2/token", cc, from("198.51.100.20", basic(id, secret))); r.status != 200 {
		t.Errorf("the client from another address: %d %s", r.status, r.raw)
	}
	// Password guessing is budgeted per username and address too.
	webID, webSecret := e.newClient("--name", "web", "--grant-types", "password")
	e.mustCLI("a long passphrase\n", "user", "create", "--username", "frank", "--password-stdin")
	e.cheapenPassword("frank", "a long passphrase")
	locked := false
	for i := 1; i <= 50 && !locked; i++ {
		r := e.post("/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"frank"}, "password": {"guess" + strconv.Itoa(i)}}, from("203.0.113.8", basic(webID, webSecret)))
		locked = r.status == 429
	}
	if !locked {
		t.Error("50 wrong passwords for one user from one address were never locked out")
	}
	if r := e.post("/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"frank"}, "password": {"a long passphrase"}}, from("198.51.100.21", basic(webID, webSecret))); r.status != 200 {
		t.Errorf("the user from another address: %d %s", r.status, r.raw)
	}
}

// TestUntrustedForwardedFor: without trusted proxies X-Forwarded-For is
// ignored, so rotating it does not escape the budget.
func TestUntrustedForwardedFor(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	id, _ := e.newClient("--name", "victim")
	e.start()
	for i := 1; i <= 40; i++ {
		h := basic(id, "tgs_guess")
		h.Set("X-Forwarded-For", "192.0.2."+strconv.Itoa(i))
		if r := e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, h); r.status == 429 {
			return
		}
	}
	t.Fatal("a spoofed X-Forwarded-For escaped the lockout")
}

// TestRateLimits: off by default; once configured, a client over its rate
// gets 429 with Retry-After, a client's own rate_limit wins, and another
// client is unaffected. Runs on both backends (Redis GCRA and in-process).
func TestRateLimits(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			e.vars["TOLLGATE_RATE_LIMIT_CLIENT"] = "5"
			limited, lsecret := e.newClient("--name", "limited")
			vip, vsecret := e.newClient("--name", "vip", "--rate-limit", "1000")
			e.start()
			cc := url.Values{"grant_type": {"client_credentials"}}
			got429 := false
			for range 20 {
				r := e.post("/oauth2/token", cc, basic(limited, lsecret))
				if r.status == 429 {
					got429 = true
					if r.header.Get("Retry-After") == "" || r.body["error"] != "temporarily_unavailable" {
						t.Fatalf("rate-limited answer: %v %s", r.header, r.raw)
					}
					break
				}
			}
			if !got429 {
				t.Fatal("20 immediate requests at 5/s were all admitted")
			}
			for i := range 20 {
				if r := e.post("/oauth2/token", cc, basic(vip, vsecret)); r.status != 200 {
					t.Fatalf("client with its own higher limit, request %d: %d %s", i, r.status, r.raw)
				}
			}
		})
	}
}

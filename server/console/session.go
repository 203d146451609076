package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// Cookie names. The session cookie is HttpOnly, SameSite=Strict, Path
// /console (Secure behind https); it holds a random 256-bit ID of which
// the server keeps only the SHA-256, so a memory dump names no live
// cookie.
const (
	sessionCookie = "tollgate_console"
	// signInCookie carries the sign-in form's CSRF token before there is
	// a session (login CSRF).
	signInCookie = "tollgate_console_signin"
)

// maxSessions bounds the sessions one node keeps; past it, signing in
// first drops expired ones, then refuses.
const maxSessions = 10000

// session is one signed-in person.
type session struct {
	userID, username string
	// csrf is the token every POST of this session must carry.
	csrf     string
	created  time.Time
	lastSeen time.Time
	// flash is a message for the next page shown (after a redirect).
	flash string
}

// sessions are this node's console sessions, in memory: a restart or
// another node does not know them (put the console behind sticky
// sessions, or sign in again).
type sessions struct {
	mu        sync.Mutex
	byHash    map[[32]byte]*session
	now       func() time.Time
	idle, max time.Duration
}

func newSessions(now func() time.Time, idle, maxAge time.Duration) *sessions {
	return &sessions{byHash: map[[32]byte]*session{}, now: now, idle: idle, max: maxAge}
}

// token returns a random 256-bit value, base64url.
func token() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session and returns its cookie value, or "" when the
// node holds maxSessions live ones.
func (s *sessions) create(userID, username string) (string, *session) {
	id := token()
	now := s.now()
	se := &session{userID: userID, username: username, csrf: token(), created: now, lastSeen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byHash) >= maxSessions {
		for h, old := range s.byHash {
			if s.expired(old, now) {
				delete(s.byHash, h)
			}
		}
		if len(s.byHash) >= maxSessions {
			return "", nil
		}
	}
	s.byHash[sha256.Sum256([]byte(id))] = se
	return id, se
}

// get returns the live session of a cookie value and marks it seen; an
// expired one is dropped. The copy returned is the caller's.
func (s *sessions) get(id string) (session, bool) {
	if id == "" || len(id) > 100 {
		return session{}, false
	}
	h := sha256.Sum256([]byte(id))
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.byHash[h]
	if !ok {
		return session{}, false
	}
	if s.expired(se, now) {
		delete(s.byHash, h)
		return session{}, false
	}
	se.lastSeen = now
	return *se, true
}

func (s *sessions) expired(se *session, now time.Time) bool {
	return now.Sub(se.lastSeen) >= s.idle || now.Sub(se.created) >= s.max
}

// end drops a session (sign-out).
func (s *sessions) end(id string) {
	h := sha256.Sum256([]byte(id))
	s.mu.Lock()
	delete(s.byHash, h)
	s.mu.Unlock()
}

// endUser drops every session of a user but the one whose cookie value
// is except (a deleted or disabled user, or one whose password was set:
// whoever knew the old password is signed out).
func (s *sessions) endUser(userID, except string) {
	keep := sha256.Sum256([]byte(except))
	s.mu.Lock()
	for h, se := range s.byHash {
		if se.userID == userID && h != keep {
			delete(s.byHash, h)
		}
	}
	s.mu.Unlock()
}

// setFlash leaves a one-time message for the session's next page.
func (s *sessions) setFlash(id, msg string) {
	h := sha256.Sum256([]byte(id))
	s.mu.Lock()
	if se, ok := s.byHash[h]; ok {
		se.flash = msg
	}
	s.mu.Unlock()
}

// takeFlash returns and clears the session's message.
func (s *sessions) takeFlash(id string) string {
	h := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.byHash[h]
	if !ok {
		return ""
	}
	msg := se.flash
	se.flash = ""
	return msg
}

// sameToken compares CSRF tokens in constant time.
func sameToken(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

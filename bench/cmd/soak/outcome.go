package main

import "time"

// op is a kind of request of the load.
type op int

const (
	opClientCredentials op = iota
	opPassword
	opRefresh
	opAPIKey
	opIntrospectLive
	opIntrospectRevoked
	opRevokeAccess
	opRevokeRefresh
	opJWKS
	opCount
)

func (o op) String() string {
	switch o {
	case opClientCredentials:
		return "client_credentials"
	case opPassword:
		return "password"
	case opRefresh:
		return "refresh"
	case opAPIKey:
		return "apikey exchange"
	case opIntrospectLive:
		return "introspect live"
	case opIntrospectRevoked:
		return "introspect revoked"
	case opRevokeAccess:
		return "revoke access token"
	case opRevokeRefresh:
		return "revoke refresh token"
	case opJWKS:
		return "jwks"
	}
	return "unknown"
}

// needs returns the store whose return a 200 of o proves: a refresh
// rotates in Redis, a password login reads the user from PostgreSQL.
func (o op) needs() (component, bool) {
	switch o {
	case opRefresh:
		return compRedis, true
	case opPassword:
		return compPostgres, true
	}
	return 0, false
}

// Kinds of wrong answer. Each fails a check.
const (
	wrongRefreshLost   = "refresh token lost (invalid_grant for a token held legitimately)"
	wrongRevokedActive = "revoked token reported active"
	wrongLiveInactive  = "live access token reported inactive outside a Redis window"
	wrongStatus        = "unexpected 4xx"
	wrongBody          = "malformed answer"
)

// outcome is one request's result as the load saw it.
type outcome struct {
	op     op
	node   int // index of the node that answered
	sent   time.Time
	took   time.Duration
	status int    // 0: no answer (transport error)
	code   string // the OAuth "error" of a non-200, or the transport error
	wrong  string // the kind of wrong answer, "" if none
	detail string // what was wrong; never a token or a secret
	// failClosed: an access token answered inactive during a Redis window,
	// the documented fail-closed rule (docs/REVOCATION.md).
	failClosed bool
	// doubtful: an invalid_grant for a refresh token whose previous refresh
	// got no answer at all, so the server may have rotated it.
	doubtful bool
	// For a revoked token reported active: whether the node that answered
	// is the one that answered the revocation, and how long after that
	// answer the introspection was sent.
	sameNode bool
	lag      time.Duration
}

func (o outcome) answered() time.Time { return o.sent.Add(o.took) }

// statusClass is how the status tables group answers.
type statusClass int

const (
	class2xx statusClass = iota
	class3xx
	class4xx
	class503
	class5xx // any 5xx but 503
	classNone
	classCount
)

func (c statusClass) String() string {
	return [...]string{"2xx", "3xx", "4xx", "503", "other 5xx", "no answer"}[c]
}

func classOf(status int) statusClass {
	switch {
	case status == 0:
		return classNone
	case status == 503:
		return class503
	case status >= 500:
		return class5xx
	case status >= 400:
		return class4xx
	case status >= 300:
		return class3xx
	}
	return class2xx
}

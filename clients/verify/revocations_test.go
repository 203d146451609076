package verify

import (
	"testing"
	"time"
)

// TestRevocationSetSubjects: a subject entry revokes tokens of that client,
// user or API key issued at or before it, and nothing else.
func TestRevocationSetSubjects(t *testing.T) {
	now := time.Now().Unix()
	s := newRevocationSet()
	s.apply([]revocation{
		{Seq: 1, Kind: "subject", Subject: "apikey:key_1", RevokedAt: now, ExpiresAt: now + 300},
		{Seq: 2, Kind: "subject", Subject: "user:usr_1", RevokedAt: now, ExpiresAt: now + 300},
		{Seq: 3, Kind: "token", JTI: "j1", RevokedAt: now, ExpiresAt: now + 300},
		{Seq: 4, Kind: "subject", Subject: "client:old", RevokedAt: now, ExpiresAt: now - 1},
	}, now)
	at := time.Unix(now, 0)
	for _, tc := range []struct {
		name    string
		p       Principal
		revoked bool
	}{
		{"bought with the revoked key", Principal{ID: "a", ClientID: "key_1", Subject: "usr_2", APIKeyID: "key_1", IssuedAt: at}, true},
		{"another key", Principal{ID: "b", ClientID: "key_2", Subject: "usr_2", APIKeyID: "key_2", IssuedAt: at}, false},
		{"issued after the key's revocation", Principal{ID: "c", ClientID: "key_1", Subject: "usr_2", APIKeyID: "key_1", IssuedAt: at.Add(time.Second)}, false},
		{"revoked user", Principal{ID: "d", ClientID: "c", Subject: "usr_1", IssuedAt: at}, true},
		{"revoked jti", Principal{ID: "j1", ClientID: "c", Subject: "s", IssuedAt: at}, true},
		{"expired entry", Principal{ID: "e", ClientID: "old", Subject: "s", IssuedAt: at}, false},
		{"no API key", Principal{ID: "f", ClientID: "c", Subject: "s", IssuedAt: at}, false},
	} {
		p := tc.p
		if got := s.revoked(newEntry(&p, at.Add(time.Minute)), now); got != tc.revoked {
			t.Errorf("%s: revoked = %v", tc.name, got)
		}
	}
	if !(&revocation{Kind: "subject", Subject: "apikey:key_1"}).valid() || (&revocation{Kind: "subject", Subject: "team:x"}).valid() {
		t.Error("valid() disagrees with the feed's subject kinds")
	}
}

package server

import (
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/encryption"
	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// TestOpenAPIAudienceSchemas checks the audience views and the subject
// claims of clients and users against the document.
func TestOpenAPIAudienceSchemas(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 123, time.UTC)
	active := registry.ViewAudienceKey(encryption.KeyInfo{ID: "ak_1", Algorithm: store.KeyECDHES, CreatedAt: at, ActiveAt: at, RetiredAt: at.Add(time.Hour), DecryptsUntil: at.Add(2 * time.Hour), State: encryption.StateActive})
	pending := registry.ViewAudienceKey(encryption.KeyInfo{ID: "ak_2", Algorithm: store.KeyRSAOAEP256, CreatedAt: at, ActiveAt: at.Add(time.Hour), State: encryption.StatePending})
	aud := registry.AudienceView{Name: "https://api.example.com", Encrypted: true, KeyAlgorithm: store.KeyECDHES, Keys: []registry.AudienceKeyView{active, pending}, CreatedAt: at, UpdatedAt: at}
	plain := registry.AudienceView{Name: "urn:plain", KeyAlgorithm: store.KeyECDHES, Keys: []registry.AudienceKeyView{}, CreatedAt: at, UpdatedAt: at}
	badState := pending
	badState.State = "next"
	client := &store.Client{ID: "tgc_1", Name: "orders", Claims: []byte(`{"tenant":"acme"}`), PrivateClaims: []byte(`{"internal_id":7}`), CreatedAt: at, UpdatedAt: at}
	user := &store.User{ID: "usr_1", Username: "carol", Claims: []byte(`{"tenant":"acme"}`), PrivateClaims: []byte(`{"email":"c@example.com"}`), CreatedAt: at, UpdatedAt: at}
	checkSchemas(t, []schemaCase{
		{"encrypted audience", "AudienceView", aud, true},
		{"plain audience", "AudienceView", plain, true},
		{"audience list", "AudienceList", map[string]any{"items": []any{aud, plain}}, true},
		{"audience without keys", "AudienceView", map[string]any{"name": "a", "encrypted": false, "key_algorithm": "ECDH-ES+A256KW", "created_at": "2026-05-01T12:00:00Z", "updated_at": "2026-05-01T12:00:00Z"}, false},
		{"key in an unknown state", "AudienceKeyView", badState, false},
		{"audience input", "AudienceInput", map[string]any{"name": "https://api.example.com", "encrypted": true, "key_algorithm": "RSA-OAEP-256"}, true},
		{"audience input with a space", "AudienceInput", map[string]any{"name": "my api"}, false},
		{"audience input with alg dir", "AudienceInput", map[string]any{"name": "a", "key_algorithm": "dir"}, false},
		{"client with claims", "ClientView", registry.ViewClient(client), true},
		{"user with claims", "UserView", registry.ViewUser(user), true},
		{"user input with claims", "UserInput", map[string]any{"username": "u", "password": "12345678", "claims": map[string]any{"tenant": "a"}, "private_claims": nil}, true},
		{"user patch with claims as a list", "UserPatch", map[string]any{"claims": []any{"tenant"}}, false},
	})
}

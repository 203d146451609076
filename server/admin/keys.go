package admin

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/store"
)

// SigningKeyView is a signing key's public facts.
type SigningKeyView struct {
	KID       string     `json:"kid"`
	Algorithm string     `json:"alg"`
	State     string     `json:"state"`
	CreatedAt time.Time  `json:"created_at"`
	ActiveAt  time.Time  `json:"active_at"`
	RetiredAt *time.Time `json:"retired_at,omitempty"`
}

// KeyState says whether a key is "next" (published, not yet signing),
// "active" or "retired" at now.
func KeyState(k store.SigningKey, now time.Time) string {
	switch {
	case !k.RetiredAt.IsZero() && !now.Before(k.RetiredAt):
		return "retired"
	case now.Before(k.ActiveAt):
		return "next"
	}
	return "active"
}

// ViewSigningKey returns k's public facts at now.
func ViewSigningKey(k store.SigningKey, now time.Time) SigningKeyView {
	v := SigningKeyView{KID: k.ID, Algorithm: k.Algorithm, State: KeyState(k, now), CreatedAt: k.CreatedAt, ActiveAt: k.ActiveAt}
	if !k.RetiredAt.IsZero() {
		v.RetiredAt = &k.RetiredAt
	}
	return v
}

func listSigningKeys(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		now := d.Now()
		keys := d.Keys.Keys()
		out := make([]SigningKeyView, len(keys))
		for i, k := range keys {
			out[i] = ViewSigningKey(k, now)
		}
		c.JSON(http.StatusOK, gin.H{"items": out})
	}
}

// rotateSigningKey creates the next key: published now, signing after the
// pre-publication delay, audited.
func rotateSigningKey(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		k, err := d.Registry.RotateSigningKey(c.Request.Context(), d.Keys)
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.JSON(http.StatusCreated, ViewSigningKey(*k, d.Now()))
	}
}

package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// keyFilter is the API-key list's owner filter.
type keyFilter struct {
	OwnerType, OwnerID string
}

// keysPage is the API-key list's data.
type keysPage struct {
	Filter keyFilter
	listing[registry.APIKeyView]
}

func (h *handlers) listAPIKeys(c *gin.Context) {
	_, cursor, ok := h.listParams(c)
	if !ok {
		return
	}
	f := keyFilter{OwnerType: c.Query("owner_type"), OwnerID: strings.TrimSpace(c.Query("owner_id"))}
	kind := store.OwnerKind(f.OwnerType)
	if (kind != "" && kind != store.OwnerUser && kind != store.OwnerClient && kind != store.OwnerSubject) || len(f.OwnerID) > 256 || !text(f.OwnerID) {
		h.fail(c, http.StatusBadRequest, "Filter by owner type user, client or subject, and an owner ID of at most 256 characters.")
		return
	}
	if kind == "" {
		f.OwnerID = ""
	}
	rows, err := h.APIKeys.ListAPIKeys(ctx(c), kind, f.OwnerID, cursor, pageSize+1)
	if err != nil {
		h.serverError(c, err)
		return
	}
	p := keysPage{Filter: f}
	for i := range rows {
		p.Rows = append(p.Rows, registry.ViewAPIKey(&rows[i]))
	}
	if len(p.Rows) > pageSize {
		p.Rows = p.Rows[:pageSize]
		p.Next = p.Rows[pageSize-1].ID
	}
	h.render(c, http.StatusOK, "apikeys", view{Title: "API keys", Nav: "api-keys", Data: p})
}

// keyForm is the create form of an API key.
type keyForm struct {
	OwnerType, Owner, Name, Scopes, ExpiresIn string
	Errors                                    map[string]string
}

func (h *handlers) newAPIKey(c *gin.Context) {
	f := keyForm{OwnerType: "client"}
	if t := c.Query("owner_type"); t == "user" || t == "client" {
		f.OwnerType = t
	}
	if o := c.Query("owner_id"); len(o) <= 256 && text(o) {
		f.Owner = o
	}
	h.render(c, http.StatusOK, "apikey_new", view{Title: "New API key", Nav: "api-keys", Data: f})
}

func (h *handlers) createAPIKey(c *gin.Context) {
	vals, ok := h.form(c, []string{"owner_type", "owner", "name", "scopes", "expires_in"})
	if !ok {
		return
	}
	f := keyForm{OwnerType: vals.Get("owner_type"), Owner: strings.TrimSpace(vals.Get("owner")), Name: strings.TrimSpace(vals.Get("name")),
		Scopes: vals.Get("scopes"), ExpiresIn: strings.TrimSpace(vals.Get("expires_in")), Errors: map[string]string{}}
	expires := duration(f.Errors, "expires_in", f.ExpiresIn)
	ownerID, err := h.ownerID(c, store.OwnerKind(f.OwnerType), f.Owner)
	if err != nil {
		h.serverError(c, err)
		return
	}
	if len(f.Errors) > 0 {
		h.render(c, http.StatusBadRequest, "apikey_new", view{Title: "New API key", Nav: "api-keys", Data: f})
		return
	}
	k, key, err := h.Registry.CreateAPIKey(ctx(c), registry.APIKeySpec{
		OwnerKind: store.OwnerKind(f.OwnerType), OwnerID: ownerID, Name: f.Name, Scopes: strings.Fields(f.Scopes), ExpiresIn: *expires,
	})
	if errs, ok := fieldErrors(err); ok {
		if m, ok := errs["owner_id"]; ok {
			errs["owner"] = m
		}
		f.Errors = errs
		h.render(c, http.StatusBadRequest, "apikey_new", view{Title: "New API key", Nav: "api-keys", Data: f})
		return
	}
	if err != nil {
		h.serverError(c, err)
		return
	}
	h.render(c, http.StatusCreated, "secret", view{Title: "API key created", Nav: "api-keys", Data: secretData{
		What: "API key", Name: k.Name, ID: k.ID, Secret: key, Back: "/api-keys?owner_type=" + string(k.OwnerKind) + "&owner_id=" + k.OwnerID,
	}})
}

// ownerID resolves the owner field: an ID, or a username or client name,
// which people know better.
func (h *handlers) ownerID(c *gin.Context, kind store.OwnerKind, owner string) (string, error) {
	switch kind {
	case store.OwnerUser:
		if _, err := h.Users.GetUser(ctx(c), owner); err == nil || !errors.Is(err, store.ErrNotFound) {
			return owner, err
		}
		u, err := h.Users.GetUserByUsername(ctx(c), owner)
		if errors.Is(err, store.ErrNotFound) {
			return owner, nil // the registry says it is missing
		}
		if err != nil {
			return "", err
		}
		return u.ID, nil
	case store.OwnerClient:
		if _, err := h.Clients.GetClient(ctx(c), owner); err == nil || !errors.Is(err, store.ErrNotFound) {
			return owner, err
		}
		l, err := search(ctx(c), h.Clients.ListClients, func(cl store.Client) string { return cl.ID },
			func(cl store.Client) bool { return cl.Name == owner }, "")
		if err != nil || len(l.Rows) == 0 {
			return owner, err
		}
		return l.Rows[0].ID, nil
	}
	return owner, nil
}

func (h *handlers) revokeAPIKey(c *gin.Context) {
	vals, ok := h.form(c, []string{"back"})
	if !ok || !h.confirmed(c, vals, "Revoke this API key? Exchanges of it fail at once, and the tokens it bought stop working.", "Revoke") {
		return
	}
	id := c.Param("id")
	if err := h.Registry.RevokeAPIKey(ctx(c), id); err != nil {
		h.failChange(c, err, "API key")
		return
	}
	back := "/api-keys"
	if b := vals.Get("back"); strings.HasPrefix(b, "/api-keys?") && !strings.ContainsAny(b, "\\\r\n") && !strings.HasPrefix(b, "//") {
		back = b
	}
	h.redirect(c, back, "Revoked the API key "+id+".")
}

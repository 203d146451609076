package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/grant"
	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// grantTypes are the grant types a client form offers.
var grantTypes = []string{grant.ClientCredentials, grant.Password, grant.RefreshToken}

// clientForm is the create and edit form of a client. TTLs are written
// as durations ("15m"); empty is the server default.
type clientForm struct {
	ID                                           string
	Name, Scopes, DefaultScopes, Audience, Roles string
	AccessTTL, RefreshTTL, RateLimit             string
	GrantTypes                                   []string
	Disabled, DPoP                               bool
	// AllGrantTypes are the checkboxes; Errors the messages by field.
	AllGrantTypes []string
	Errors        map[string]string
}

var clientFields = []string{"name", "grant_types", "scopes", "default_scopes", "audience", "roles", "access_token_ttl", "refresh_token_ttl", "rate_limit", "disabled", "dpop_bound"}

func formOfClient(v registry.ClientView) clientForm {
	f := clientForm{
		ID: v.ClientID, Name: v.ClientName, Scopes: v.Scope, DefaultScopes: v.DefaultScope,
		Audience: strings.Join(v.Audience, " "), Roles: strings.Join(v.Roles, " "),
		GrantTypes: v.GrantTypes, Disabled: v.Disabled, DPoP: v.DPoPBound, AllGrantTypes: grantTypes,
	}
	if v.AccessTokenTTL != 0 {
		f.AccessTTL = (time.Duration(v.AccessTokenTTL) * time.Second).String()
	}
	if v.RefreshTokenTTL != 0 {
		f.RefreshTTL = (time.Duration(v.RefreshTokenTTL) * time.Second).String()
	}
	if v.RateLimit != 0 {
		f.RateLimit = strconv.Itoa(v.RateLimit)
	}
	return f
}

// readClientForm reads the form into a patch; problems the registry
// cannot see (a TTL that is no duration) go to f.Errors.
func readClientForm(vals url.Values) (clientForm, registry.ClientPatch) {
	f := clientForm{
		Name: strings.TrimSpace(vals.Get("name")), Scopes: vals.Get("scopes"), DefaultScopes: vals.Get("default_scopes"),
		Audience: vals.Get("audience"), Roles: vals.Get("roles"), AccessTTL: strings.TrimSpace(vals.Get("access_token_ttl")),
		RefreshTTL: strings.TrimSpace(vals.Get("refresh_token_ttl")), RateLimit: strings.TrimSpace(vals.Get("rate_limit")),
		GrantTypes: vals["grant_types"], Disabled: vals.Get("disabled") != "", DPoP: vals.Get("dpop_bound") != "",
		AllGrantTypes: grantTypes, Errors: map[string]string{},
	}
	gts := append([]string{}, f.GrantTypes...)
	scopes, defaults, aud, roles := strings.Fields(f.Scopes), strings.Fields(f.DefaultScopes), fieldsOf(f.Audience), fieldsOf(f.Roles)
	p := registry.ClientPatch{Name: &f.Name, GrantTypes: &gts, Scopes: &scopes, DefaultScopes: &defaults, Audience: &aud, Roles: &roles, Disabled: &f.Disabled, DPoPBound: &f.DPoP}
	p.AccessTokenTTL = duration(f.Errors, "access_token_ttl", f.AccessTTL)
	p.RefreshTokenTTL = duration(f.Errors, "refresh_token_ttl", f.RefreshTTL)
	rate := 0
	if f.RateLimit != "" {
		n, err := strconv.Atoi(f.RateLimit)
		if err != nil {
			f.Errors["rate_limit"] = "must be a whole number of requests per second, or empty for the server's limit"
		}
		rate = n
	}
	p.RateLimit = &rate
	return f, p
}

// fieldsOf splits a list written with spaces or commas.
func fieldsOf(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

// duration reads "15m", "1h30m" or a number of seconds; "" is 0 (the
// server default).
func duration(errs map[string]string, field, s string) *time.Duration {
	var d time.Duration
	if s == "" {
		return &d
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 && n <= 10*365*24*3600 {
		d = time.Duration(n) * time.Second
		return &d
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		errs[field] = "must be a duration such as 15m or 1h, or empty for the server default"
		d = 0
	}
	return &d
}

func (h *handlers) listClients(c *gin.Context) {
	q, cursor, ok := h.listParams(c)
	if !ok {
		return
	}
	l, err := search(ctx(c), h.Clients.ListClients, func(cl store.Client) string { return cl.ID },
		func(cl store.Client) bool { return contains(q, cl.Name, cl.ID, strings.Join(cl.Scopes, " ")) }, cursor)
	if err != nil {
		h.serverError(c, err)
		return
	}
	out := listing[registry.ClientView]{Query: q, Next: l.Next, Truncated: l.Truncated}
	for i := range l.Rows {
		out.Rows = append(out.Rows, registry.ViewClient(&l.Rows[i]))
	}
	h.render(c, http.StatusOK, "clients", view{Title: "Clients", Nav: "clients", Data: out})
}

func (h *handlers) newClient(c *gin.Context) {
	h.render(c, http.StatusOK, "client_new", view{Title: "New client", Nav: "clients", Data: clientForm{GrantTypes: []string{grant.ClientCredentials}, AllGrantTypes: grantTypes}})
}

// secretData is the page that shows a new secret once.
type secretData struct {
	What, Name, ID, Secret string
	// Back is where the page links to afterwards; Note adds a line.
	Back, Note string
}

func (h *handlers) createClient(c *gin.Context) {
	vals, ok := h.form(c, clientFields, "grant_types")
	if !ok {
		return
	}
	f, p := readClientForm(vals)
	if len(f.Errors) > 0 {
		h.render(c, http.StatusBadRequest, "client_new", view{Title: "New client", Nav: "clients", Data: f})
		return
	}
	spec := registry.ClientSpec{Name: *p.Name, GrantTypes: *p.GrantTypes, Scopes: *p.Scopes, DefaultScopes: *p.DefaultScopes, Audience: *p.Audience,
		Roles: *p.Roles, AccessTokenTTL: *p.AccessTokenTTL, RefreshTokenTTL: *p.RefreshTokenTTL, RateLimit: *p.RateLimit, Disabled: f.Disabled, DPoPBound: f.DPoP}
	cl, sec, err := h.Registry.CreateClient(ctx(c), spec)
	if errs, ok := fieldErrors(err); ok {
		f.Errors = errs
		h.render(c, http.StatusBadRequest, "client_new", view{Title: "New client", Nav: "clients", Data: f})
		return
	}
	if err != nil {
		h.serverError(c, err)
		return
	}
	h.render(c, http.StatusCreated, "secret", view{Title: "Client created", Nav: "clients", Data: secretData{
		What: "client secret", Name: cl.Name, ID: cl.ID, Secret: sec, Back: "/clients/" + cl.ID,
	}})
}

// clientPage is the client page's data.
type clientPage struct {
	Client registry.ClientView
	Form   clientForm
	// PrevSecretExpires is when the previous secret stops working (zero:
	// there is none).
	PrevSecretExpires time.Time
	Now               time.Time
}

func (h *handlers) showClient(c *gin.Context) {
	cl, err := h.Clients.GetClient(ctx(c), c.Param("id"))
	if err != nil {
		h.failChange(c, err, "client")
		return
	}
	v := registry.ViewClient(cl)
	h.renderClient(c, http.StatusOK, cl, formOfClient(v))
}

func (h *handlers) renderClient(c *gin.Context, status int, cl *store.Client, f clientForm) {
	f.ID, f.AllGrantTypes = cl.ID, grantTypes
	h.render(c, status, "client", view{Title: cl.Name, Nav: "clients", Data: clientPage{Client: registry.ViewClient(cl), Form: f, PrevSecretExpires: cl.PrevSecretExpiresAt, Now: h.Now()}})
}

func (h *handlers) updateClient(c *gin.Context) {
	vals, ok := h.form(c, clientFields, "grant_types")
	if !ok {
		return
	}
	id := c.Param("id")
	cl, err := h.Clients.GetClient(ctx(c), id)
	if err != nil {
		h.failChange(c, err, "client")
		return
	}
	f, p := readClientForm(vals)
	if len(f.Errors) == 0 {
		_, err = h.Registry.UpdateClient(ctx(c), id, p)
		if errs, ok := fieldErrors(err); ok {
			f.Errors = errs
		} else if err != nil {
			h.failChange(c, err, "client")
			return
		}
	}
	if len(f.Errors) > 0 {
		h.renderClient(c, http.StatusBadRequest, cl, f)
		return
	}
	h.redirect(c, "/clients/"+id, "Saved the client's settings.")
}

// overlaps are the rotation overlaps the form offers, in seconds.
var overlaps = map[string]time.Duration{"0": 0, "3600": time.Hour, "86400": 24 * time.Hour, "604800": 7 * 24 * time.Hour}

func (h *handlers) rotateSecret(c *gin.Context) {
	vals, ok := h.form(c, []string{"overlap"})
	if !ok || !h.confirmed(c, vals, "Rotate this client's secret? The new secret is shown once.", "Rotate secret") {
		return
	}
	overlap, known := overlaps[vals.Get("overlap")]
	if vals.Get("overlap") == "" {
		overlap, known = registry.DefaultSecretOverlap, true
	}
	if !known {
		h.fail(c, http.StatusBadRequest, "Choose an overlap from the list. Nothing was changed.")
		return
	}
	cl, sec, err := h.Registry.RotateClientSecret(ctx(c), c.Param("id"), overlap)
	if err != nil {
		h.failChange(c, err, "client")
		return
	}
	note := "The previous secret stopped working now."
	if overlap > 0 {
		note = "The previous secret keeps working until " + cl.PrevSecretExpiresAt.UTC().Format("2006-01-02 15:04 UTC") + "; move your application to the new one before then."
	}
	h.render(c, http.StatusOK, "secret", view{Title: "New secret", Nav: "clients", Data: secretData{
		What: "client secret", Name: cl.Name, ID: cl.ID, Secret: sec, Back: "/clients/" + cl.ID, Note: note,
	}})
}

func (h *handlers) revokeClientTokens(c *gin.Context) {
	vals, ok := h.form(c, nil)
	if !ok || !h.confirmed(c, vals, "Revoke every token this client holds? Its applications must get new ones.", "Revoke tokens") {
		return
	}
	id := c.Param("id")
	if _, err := h.Registry.RevokeClientTokens(ctx(c), id); err != nil {
		h.failChange(c, err, "client")
		return
	}
	h.redirect(c, "/clients/"+id, "Revoked every token of this client issued until now.")
}

func (h *handlers) deleteClient(c *gin.Context) {
	vals, ok := h.form(c, nil)
	if !ok || !h.confirmed(c, vals, "Delete this client? Its tokens and API keys stop working at once; this cannot be undone.", "Delete") {
		return
	}
	if err := h.Registry.DeleteClient(ctx(c), c.Param("id")); err != nil {
		h.failChange(c, err, "client")
		return
	}
	h.redirect(c, "/clients", "Deleted the client.")
}

// confirmData is the confirmation page's: the same form again, confirmed.
type confirmData struct {
	Question, Button, Action string
	Fields                   map[string]string
	Back                     string
}

// confirmed reports whether a destructive form was confirmed (the
// vendored script's dialog sets confirmed=yes); otherwise it shows a page
// that asks, so that the console confirms without script too.
func (h *handlers) confirmed(c *gin.Context, vals url.Values, question, button string) bool {
	if vals.Get(fieldConfirmed) == "yes" {
		return true
	}
	fields := map[string]string{}
	for k := range vals {
		if k != fieldCSRF && k != fieldConfirmed {
			fields[k] = vals.Get(k)
		}
	}
	back := strings.TrimSuffix(c.Request.URL.Path, "/"+lastSegment(c.Request.URL.Path))
	h.render(c, http.StatusOK, "confirm", view{Title: "Confirm", Data: confirmData{Question: question, Button: button, Action: c.Request.URL.Path, Fields: fields, Back: back}})
	return false
}

func lastSegment(p string) string {
	i := strings.LastIndexByte(p, '/')
	return p[i+1:]
}

func (h *handlers) setClientDisabled(c *gin.Context) {
	vals, ok := h.form(c, []string{"disabled"})
	if !ok {
		return
	}
	disable := vals.Get("disabled") == "true"
	if disable && !h.confirmed(c, vals, "Disable this client? It gets no tokens, and its tokens stop working, until it is enabled.", "Disable") {
		return
	}
	id := c.Param("id")
	if _, err := h.Registry.UpdateClient(ctx(c), id, registry.ClientPatch{Disabled: &disable}); err != nil {
		h.failChange(c, err, "client")
		return
	}
	msg := "Enabled the client."
	if disable {
		msg = "Disabled the client and revoked its tokens."
	}
	h.redirect(c, "/clients/"+id, msg)
}

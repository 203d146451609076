package console

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/grant"
	"github.com/tollgate/tollgate/server/oauth"
	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// scopeAdmin is the scope whose roles make a user a console admin: the
// password grant's rule (grant.UserScopeRoles), so that the console and a
// tollgate:admin token from the password grant agree on who is an admin.
const scopeAdmin = "tollgate:admin"

// isAdmin reports whether an enabled user's roles grant tollgate:admin.
func isAdmin(u *store.User) bool {
	return !u.Disabled && slices.ContainsFunc(grant.UserScopeRoles[scopeAdmin], func(r string) bool { return slices.Contains(u.Roles, r) })
}

// Context keys set by requireSession.
const (
	sessionKey   = "tollgate.console.session"
	cookieValKey = "tollgate.console.cookie"
)

// signInData is the sign-in page's.
type signInData struct {
	Username string
	Error    string
}

func (h *handlers) signInForm(c *gin.Context) {
	if _, ok := h.sessions.get(h.cookie(c, sessionCookie)); ok {
		c.Redirect(http.StatusSeeOther, Prefix+"/overview")
		return
	}
	h.renderSignIn(c, http.StatusOK, signInData{})
}

// renderSignIn shows the form with a fresh pre-session CSRF token, also
// set in a cookie (double submit: a cross-site form cannot read it).
func (h *handlers) renderSignIn(c *gin.Context, status int, d signInData) {
	tok := token()
	h.setCookie(c, signInCookie, tok, 600)
	h.render(c, status, "signin", view{Title: "Sign in", CSRF: tok, Data: d})
}

func (h *handlers) signIn(c *gin.Context) {
	vals, ferr := readForm(c)
	if ferr != nil {
		h.renderSignIn(c, ferr.status, signInData{Error: ferr.msg})
		return
	}
	for k, vs := range vals {
		if (k != "username" && k != "password" && k != fieldCSRF) || len(vs) != 1 {
			h.renderSignIn(c, http.StatusBadRequest, signInData{Error: "The form has an unexpected field; reload the page and try again."})
			return
		}
	}
	if !sameToken(vals.Get(fieldCSRF), h.cookie(c, signInCookie)) {
		h.renderSignIn(c, http.StatusForbidden, signInData{Error: "The form expired or did not come from this page. Try again."})
		return
	}
	username, password := vals.Get("username"), vals.Get("password")
	d := signInData{Username: username}
	if username == "" || password == "" || len(username) > 200 {
		d.Error = "Enter your username and password."
		h.renderSignIn(c, http.StatusBadRequest, d)
		return
	}
	u, status, msg := h.verify(c, username, password)
	if msg != "" {
		d.Error = msg
		h.renderSignIn(c, status, d)
		return
	}
	if u == nil {
		return // verify has answered
	}
	id, _ := h.sessions.create(u.ID, u.Username)
	if id == "" {
		d.Error = "Too many people are signed in to this node; try again later."
		h.renderSignIn(c, http.StatusServiceUnavailable, d)
		return
	}
	h.Logger.LogAttrs(c.Request.Context(), slog.LevelInfo, "console sign-in", slog.String("user_id", u.ID))
	h.setCookie(c, signInCookie, "", -1)
	h.setCookie(c, sessionCookie, id, 0)
	c.Redirect(http.StatusSeeOther, Prefix+"/overview")
}

// verify checks a sign-in under the failure budgets: the admin user, or
// the status and message of the refusal (or neither, when it has
// answered a server error itself).
func (h *handlers) verify(c *gin.Context, username, password string) (*store.User, int, string) {
	if wait := h.Budget.Wait(c, username); wait > 0 {
		secs := strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
		c.Header("Retry-After", secs)
		return nil, http.StatusTooManyRequests, "Too many failed attempts. Try again in " + secs + " seconds."
	}
	u, err := h.Passwords.VerifyUser(c.Request.Context(), username, password)
	var oe *oauth.Error
	switch {
	case errors.As(err, &oe) && oe.Code == oauth.InvalidGrant:
		h.Budget.Failed(c, username)
		return nil, http.StatusUnauthorized, "The username or password is wrong, or the user is disabled."
	case errors.As(err, &oe) && oe.Code == oauth.TemporarilyUnavailable:
		c.Header("Retry-After", "1")
		return nil, http.StatusServiceUnavailable, sentence(oe.Description)
	case errors.As(err, &oe):
		return nil, http.StatusBadRequest, sentence(oe.Description)
	case err != nil:
		h.serverError(c, err)
		return nil, 0, ""
	}
	h.Budget.Succeeded(c, username)
	if !isAdmin(u) {
		// The password was right: no failure counted, but no session.
		h.Logger.LogAttrs(c.Request.Context(), slog.LevelInfo, "console sign-in refused: not an admin", slog.String("user_id", u.ID))
		return nil, http.StatusForbidden, "This user may not use the console: its roles do not grant " + scopeAdmin + " (give it the role admin)."
	}
	return u, 0, ""
}

func (h *handlers) signOut(c *gin.Context) {
	h.sessions.end(c.GetString(cookieValKey))
	h.setCookie(c, sessionCookie, "", -1)
	// Post/Redirect/Get: reloading the page that follows must not post the
	// sign-out again, and the address bar shows the sign-in page.
	c.Redirect(http.StatusSeeOther, Prefix+"/sign-in")
}

// requireSession admits requests with a live session of a user who is
// still an enabled admin (checked on every request, so that disabling or
// demoting an admin ends their console access at once). A POST must also
// carry the session's CSRF token. Without a session: GETs go to the
// sign-in page, POSTs get 403.
func (h *handlers) requireSession(c *gin.Context) {
	id := h.cookie(c, sessionCookie)
	se, ok := h.sessions.get(id)
	if !ok {
		if c.Request.Method == http.MethodGet {
			c.Redirect(http.StatusSeeOther, Prefix+"/sign-in")
			c.Abort()
			return
		}
		h.setCookie(c, sessionCookie, "", -1)
		h.renderSignInAbort(c, http.StatusForbidden, "Your session has ended (signed out, or idle too long). Sign in again; nothing was changed.")
		return
	}
	u, err := h.Users.GetUser(c.Request.Context(), se.userID)
	if err == nil && !isAdmin(u) || errors.Is(err, store.ErrNotFound) {
		h.sessions.end(id)
		h.setCookie(c, sessionCookie, "", -1)
		h.renderSignInAbort(c, http.StatusForbidden, "Your user is no longer an enabled admin; nothing was changed.")
		return
	}
	if err != nil {
		h.serverError(c, err)
		c.Abort()
		return
	}
	c.Set(sessionKey, se)
	c.Set(cookieValKey, id)
	if c.Request.Method == http.MethodPost {
		vals, ferr := readForm(c)
		if ferr != nil {
			h.fail(c, ferr.status, ferr.msg+" Nothing was changed.")
			c.Abort()
			return
		}
		if len(vals[fieldCSRF]) != 1 || !sameToken(vals.Get(fieldCSRF), se.csrf) {
			h.fail(c, http.StatusForbidden, "This form's security token is missing or not this session's (the page may be old, or the form came from another site). Reload the page and try again; nothing was changed.")
			c.Abort()
			return
		}
		c.Set(formKey, vals)
	}
	c.Request = c.Request.WithContext(registry.WithActor(c.Request.Context(), actor(se)))
	c.Next()
}

// actor names a console user in the audit log.
func actor(se session) string {
	return store.SubjectUser + se.userID + " (" + se.username + ") via console"
}

func (h *handlers) renderSignInAbort(c *gin.Context, status int, msg string) {
	h.renderSignIn(c, status, signInData{Error: msg})
	c.Abort()
}

// cookie returns a cookie's value, "" if absent.
func (h *handlers) cookie(c *gin.Context, name string) string {
	v, err := c.Cookie(name)
	if err != nil {
		return ""
	}
	return v
}

// setCookie sets one of the console's cookies: HttpOnly, SameSite=Strict,
// Path /console, Secure behind https. maxAge 0 is a browser-session
// cookie, negative deletes it.
func (h *handlers) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, Secure: h.Secure, SameSite: http.SameSiteStrictMode,
	})
}

// sessionOf returns the request's session (set by requireSession).
func sessionOf(c *gin.Context) session {
	v, _ := c.Get(sessionKey)
	se, _ := v.(session)
	return se
}

// ctx is the request's context (with the audit actor).
func ctx(c *gin.Context) context.Context { return c.Request.Context() }

package console

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// userForm is the create form of a user, and the role editor.
type userForm struct {
	ID, Username, Roles string
	Errors              map[string]string
}

func (h *handlers) listUsers(c *gin.Context) {
	q, cursor, ok := h.listParams(c)
	if !ok {
		return
	}
	l, err := search(ctx(c), h.Users.ListUsers, func(u store.User) string { return u.ID },
		func(u store.User) bool { return contains(q, u.Username, u.ID, strings.Join(u.Roles, " ")) }, cursor)
	if err != nil {
		h.serverError(c, err)
		return
	}
	out := listing[registry.UserView]{Query: q, Next: l.Next, Truncated: l.Truncated}
	for i := range l.Rows {
		out.Rows = append(out.Rows, registry.ViewUser(&l.Rows[i]))
	}
	h.render(c, http.StatusOK, "users", view{Title: "Users", Nav: "users", Data: out})
}

func (h *handlers) newUser(c *gin.Context) {
	h.render(c, http.StatusOK, "user_new", view{Title: "New user", Nav: "users", Data: userForm{}})
}

func (h *handlers) createUser(c *gin.Context) {
	vals, ok := h.form(c, []string{"username", "password", "roles"})
	if !ok {
		return
	}
	f := userForm{Username: strings.TrimSpace(vals.Get("username")), Roles: vals.Get("roles")}
	u, err := h.Registry.CreateUser(ctx(c), registry.UserSpec{Username: f.Username, Password: vals.Get("password"), Roles: fieldsOf(f.Roles)})
	if errs, ok := fieldErrors(err); ok {
		f.Errors = errs
		h.render(c, http.StatusBadRequest, "user_new", view{Title: "New user", Nav: "users", Data: f})
		return
	}
	if err != nil {
		h.serverError(c, err)
		return
	}
	h.redirect(c, "/users/"+u.ID, "Created the user "+u.Username+".")
}

// userPage is the user page's data.
type userPage struct {
	User registry.UserView
	Form userForm
	// PasswordError is the set-password form's message.
	PasswordError string
	// Self is set when the page shows the signed-in user.
	Self bool
}

func (h *handlers) showUser(c *gin.Context) {
	u, err := h.Users.GetUser(ctx(c), c.Param("id"))
	if err != nil {
		h.failChange(c, err, "user")
		return
	}
	h.renderUser(c, http.StatusOK, u, userForm{Roles: strings.Join(u.Roles, " ")}, "")
}

func (h *handlers) renderUser(c *gin.Context, status int, u *store.User, f userForm, pwErr string) {
	f.ID, f.Username = u.ID, u.Username
	h.render(c, status, "user", view{Title: u.Username, Nav: "users", Data: userPage{User: registry.ViewUser(u), Form: f, PasswordError: pwErr, Self: u.ID == sessionOf(c).userID}})
}

// updateUser saves roles, or (with the disabled field) enables or
// disables the user.
func (h *handlers) updateUser(c *gin.Context) {
	vals, ok := h.form(c, []string{"roles", "disabled"})
	if !ok {
		return
	}
	id := c.Param("id")
	u, err := h.Users.GetUser(ctx(c), id)
	if err != nil {
		h.failChange(c, err, "user")
		return
	}
	var p registry.UserPatch
	msg := "Saved the user's roles."
	if d, set := vals["disabled"]; set {
		disable := d[0] == "true"
		if disable && id == sessionOf(c).userID {
			h.fail(c, http.StatusBadRequest, "You cannot disable the user you are signed in as. Nothing was changed.")
			return
		}
		if disable && !h.confirmed(c, vals, "Disable this user? Their tokens and API keys stop working at once.", "Disable") {
			return
		}
		p.Disabled, msg = &disable, "Enabled the user."
		if disable {
			msg = "Disabled the user and revoked their tokens."
		}
	} else {
		roles := fieldsOf(vals.Get("roles"))
		p.Roles = &roles
	}
	if _, err := h.Registry.UpdateUser(ctx(c), id, p); err != nil {
		if errs, ok := fieldErrors(err); ok {
			h.renderUser(c, http.StatusBadRequest, u, userForm{Roles: vals.Get("roles"), Errors: errs}, "")
			return
		}
		h.failChange(c, err, "user")
		return
	}
	if p.Disabled != nil && *p.Disabled {
		h.sessions.endUser(id, "")
	}
	h.redirect(c, "/users/"+id, msg)
}

func (h *handlers) setPassword(c *gin.Context) {
	vals, ok := h.form(c, []string{"password"})
	if !ok {
		return
	}
	id := c.Param("id")
	err := h.Registry.SetPassword(ctx(c), id, vals.Get("password"))
	if errs, ok := fieldErrors(err); ok {
		u, gerr := h.Users.GetUser(ctx(c), id)
		if gerr != nil {
			h.failChange(c, gerr, "user")
			return
		}
		h.renderUser(c, http.StatusBadRequest, u, userForm{Roles: strings.Join(u.Roles, " ")}, errs["password"])
		return
	}
	if err != nil {
		h.failChange(c, err, "user")
		return
	}
	// Whoever signed in with the old password is signed out (but you).
	h.sessions.endUser(id, c.GetString(cookieValKey))
	h.redirect(c, "/users/"+id, "Set the user's password.")
}

func (h *handlers) revokeUserTokens(c *gin.Context) {
	vals, ok := h.form(c, nil)
	if !ok || !h.confirmed(c, vals, "Revoke every token of this user? They must sign in again.", "Revoke tokens") {
		return
	}
	id := c.Param("id")
	if _, err := h.Registry.RevokeUserTokens(ctx(c), id); err != nil {
		h.failChange(c, err, "user")
		return
	}
	h.redirect(c, "/users/"+id, "Revoked every token of this user issued until now.")
}

func (h *handlers) deleteUser(c *gin.Context) {
	vals, ok := h.form(c, nil)
	if !ok || !h.confirmed(c, vals, "Delete this user? Their tokens and API keys stop working at once; this cannot be undone.", "Delete") {
		return
	}
	id := c.Param("id")
	if id == sessionOf(c).userID {
		h.fail(c, http.StatusBadRequest, "You cannot delete the user you are signed in as. Nothing was changed.")
		return
	}
	if err := h.Registry.DeleteUser(ctx(c), id); err != nil {
		h.failChange(c, err, "user")
		return
	}
	h.sessions.endUser(id, "")
	h.redirect(c, "/users", "Deleted the user.")
}

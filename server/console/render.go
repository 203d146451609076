package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages are the parsed templates, one per page, each with the layout.
type pages struct {
	byName map[string]*template.Template
}

// mustParse parses every page; a broken template is a build bug, caught
// by the handler tests.
func mustParse() *pages {
	p := &pages{byName: map[string]*template.Template{}}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" {
			continue
		}
		t := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n))
		p.byName[base] = t
	}
	return p
}

// view is what every page template gets.
type view struct {
	Title string
	// Nav names the sidebar entry to highlight.
	Nav string
	// User is the signed-in username ("" on the sign-in page); CSRF the
	// token every form carries.
	User  string
	CSRF  string
	Flash string
	Data  any
}

// render writes a page. Pages are never cached: one may show a secret
// once.
func (h *handlers) render(c *gin.Context, status int, name string, v view) {
	if se := sessionOf(c); se.userID != "" {
		v.User, v.CSRF = se.username, se.csrf
		if v.Flash == "" {
			v.Flash = h.sessions.takeFlash(c.GetString(cookieValKey))
		}
	}
	var buf bytes.Buffer
	t, ok := h.pages.byName[name]
	if !ok {
		h.Logger.LogAttrs(c.Request.Context(), slog.LevelError, "console: no such template", slog.String("template", name))
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		h.Logger.LogAttrs(c.Request.Context(), slog.LevelError, "console: rendering a page", slog.String("template", name), slog.String("error", err.Error()))
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// errorData is the error page's.
type errorData struct {
	Status  int
	Message string
}

// fail renders an error page with a message that says what happened and
// what to do.
func (h *handlers) fail(c *gin.Context, status int, msg string) {
	h.render(c, status, "error", view{Title: http.StatusText(status), Data: errorData{status, msg}})
	c.Abort()
}

// failChange renders a registry or store error other than a
// ValidationError (which the forms show beside their fields).
func (h *handlers) failChange(c *gin.Context, err error, what string) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.fail(c, http.StatusNotFound, "No such "+what+": it may have been deleted.")
	case errors.Is(err, store.ErrConflict):
		h.fail(c, http.StatusConflict, "A "+what+" with that identity already exists.")
	default:
		h.serverError(c, err)
	}
}

// serverError logs err and shows a page without its cause.
func (h *handlers) serverError(c *gin.Context, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong on the server. The cause is in the server's log."
	switch {
	case errors.Is(err, store.ErrUnavailable):
		status, msg = http.StatusServiceUnavailable, "A database is unreachable. Retry shortly."
		c.Header("Retry-After", "1")
	case errors.Is(err, context.Canceled):
		status, msg = 499, "The request was canceled."
	}
	h.Logger.LogAttrs(c.Request.Context(), slog.LevelError, "console request failed", slog.String("path", c.FullPath()), slog.String("error", err.Error()))
	h.fail(c, status, msg)
}

// fieldErrors maps a ValidationError's fields to their messages (the
// admin API's wording), for the form to show beside each field. ok is
// false for any other error.
func fieldErrors(err error) (map[string]string, bool) {
	var ve *registry.ValidationError
	if !errors.As(err, &ve) {
		return nil, false
	}
	m := map[string]string{}
	for _, f := range ve.Fields {
		if m[f.Field] != "" {
			m[f.Field] += "; "
		}
		m[f.Field] += f.Message
	}
	return m, true
}

// redirect goes to a console path after a change, with a message for the
// page shown there (POST, redirect, GET: a reload repeats nothing).
func (h *handlers) redirect(c *gin.Context, to, flash string) {
	h.sessions.setFlash(c.GetString(cookieValKey), flash)
	c.Redirect(http.StatusSeeOther, Prefix+to)
}

// static serves the embedded assets.
func static(c *gin.Context) {
	name := c.Param("file")
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil || strings.Contains(name, "/") {
		c.String(http.StatusNotFound, "not found")
		return
	}
	ct := "application/octet-stream"
	switch path.Ext(name) {
	case ".css":
		ct = "text/css; charset=utf-8"
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".svg":
		ct = "image/svg+xml"
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, ct, b)
}

// sentence makes an error description a sentence.
func sentence(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	s = string(r)
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"whenp": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"day": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") },
	// actorLabel is an audit actor as people read it: the console's
	// "user:<id> (<name>) via console" becomes "<name> via console".
	"actorLabel": func(a string) string {
		if strings.HasPrefix(a, "user:") && strings.HasSuffix(a, ") via console") {
			if i := strings.Index(a, " ("); i > 0 {
				return strings.TrimSuffix(a[i+2:], ") via console") + " via console"
			}
		}
		return a
	},
	"join": func(s []string) string { return strings.Join(s, " ") },
	"ttl": func(secs int64) string {
		if secs == 0 {
			return "server default"
		}
		return (time.Duration(secs) * time.Second).String()
	},
	"has": func(s []string, v string) bool {
		for _, x := range s {
			if x == v {
				return true
			}
		}
		return false
	},
	"inc": func(n int) int { return n + 1 },
}

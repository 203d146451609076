package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// problem is an RFC 9457 problem details document.
type problem struct {
	Type   string                `json:"type"`
	Title  string                `json:"title"`
	Status int                   `json:"status"`
	Detail string                `json:"detail,omitempty"`
	Errors []registry.FieldError `json:"errors,omitempty"`
}

// problemType is the base of Tollgate's problem type URIs.
const problemType = "https://tollgate.dev/problems/"

// renderProblem writes p as application/problem+json.
func renderProblem(c *gin.Context, p problem) {
	c.Header("Cache-Control", "no-store")
	c.Render(p.Status, problemRender{p})
	c.Abort()
}

// fail renders err: the one place admin errors become responses. Errors
// the caller can fix say what to do; anything else is logged and answered
// with a generic 500, its cause never sent.
func fail(c *gin.Context, log *slog.Logger, err error) {
	var ve *registry.ValidationError
	switch {
	case errors.As(err, &ve):
		status, slug, title := http.StatusBadRequest, "invalid-input", "Invalid input"
		if ve.Conflict {
			status, slug, title = http.StatusConflict, "conflict", "Already taken"
		}
		renderProblem(c, problem{Type: problemType + slug, Title: title, Status: status, Detail: ve.Error(), Errors: ve.Fields})
	case errors.Is(err, store.ErrNotFound):
		renderProblem(c, problem{Type: problemType + "not-found", Title: "Not found", Status: http.StatusNotFound, Detail: "no such " + resourceName(c)})
	case errors.Is(err, store.ErrConflict):
		renderProblem(c, problem{Type: problemType + "conflict", Title: "Conflict", Status: http.StatusConflict, Detail: "a " + resourceName(c) + " with that identity already exists"})
	case errors.Is(c.Request.Context().Err(), context.Canceled):
		// The caller left (closed its connection): not the server's fault,
		// and nobody is left to read the answer (499, as nginx logs it).
		log.LogAttrs(c.Request.Context(), slog.LevelInfo, "admin request canceled by the caller", slog.String("error", err.Error()))
		renderProblem(c, problem{Type: problemType + "canceled", Title: "Canceled", Status: 499, Detail: "the connection was closed before the answer was sent"})
	case errors.Is(err, store.ErrUnavailable):
		log.LogAttrs(c.Request.Context(), slog.LevelWarn, "store unavailable", slog.String("error", err.Error()))
		c.Header("Retry-After", "1")
		renderProblem(c, problem{Type: problemType + "unavailable", Title: "Temporarily unavailable", Status: http.StatusServiceUnavailable, Detail: "a database is unreachable; retry shortly"})
	default:
		log.LogAttrs(c.Request.Context(), slog.LevelError, "admin API error", slog.String("error", err.Error()))
		renderProblem(c, problem{Type: problemType + "internal", Title: "Internal error", Status: http.StatusInternalServerError, Detail: "the error has been logged"})
	}
}

// badRequest answers 400 with one field's problem.
func badRequest(c *gin.Context, field, msg string) {
	renderProblem(c, problem{
		Type: problemType + "invalid-input", Title: "Invalid input", Status: http.StatusBadRequest,
		Detail: field + ": " + msg, Errors: []registry.FieldError{{Field: field, Message: msg}},
	})
}

// resourceName names what the route is about, for messages.
func resourceName(c *gin.Context) string {
	switch p := c.FullPath(); {
	case strings.Contains(p, "/clients"):
		return "client"
	case strings.Contains(p, "/users"):
		return "user"
	case strings.Contains(p, "/api-keys"):
		return "API key"
	case strings.Contains(p, "/audiences"):
		return "audience"
	case strings.Contains(p, "/issuers"):
		return "issuer"
	}
	return "resource"
}

// problemRender writes JSON with the problem+json media type.
type problemRender struct{ p problem }

func (r problemRender) Render(w http.ResponseWriter) error {
	r.WriteContentType(w)
	return jsonEncode(w, r.p)
}

func (problemRender) WriteContentType(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/problem+json")
}

// NotFound answers a path under the admin API that does not exist.
func NotFound(c *gin.Context) {
	renderProblem(c, problem{Type: problemType + "not-found", Title: "Not found", Status: http.StatusNotFound,
		Detail: "no such admin API path; see /openapi.json"})
}

// MethodNotAllowed answers a method an admin API path does not accept
// (the router has set the Allow header).
func MethodNotAllowed(c *gin.Context) {
	renderProblem(c, problem{Type: problemType + "method-not-allowed", Title: "Method not allowed", Status: http.StatusMethodNotAllowed,
		Detail: "method " + c.Request.Method + " is not allowed here; see the Allow header"})
}

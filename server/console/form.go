package console

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// Bounds on a form.
const (
	maxFormBody = 64 << 10
	// maxValue bounds one value; the registry's own limits are lower.
	maxValue = 4096
)

// Fields every console form may carry besides its own.
const (
	fieldCSRF      = "csrf"
	fieldConfirmed = "confirmed"
)

// formKey is the gin context key of the request's checked form.
const formKey = "tollgate.console.form"

// formError is a form the console refuses before it reaches a handler's
// logic: a clear message, status 400 (413 for a body too large).
type formError struct {
	status int
	msg    string
}

// readForm reads an application/x-www-form-urlencoded body of at most
// maxFormBody bytes whose every name and value is valid UTF-8 without NUL
// and at most maxValue bytes.
func readForm(c *gin.Context) (url.Values, *formError) {
	ct := c.GetHeader("Content-Type")
	if mt, _, _ := strings.Cut(ct, ";"); strings.TrimSpace(strings.ToLower(mt)) != "application/x-www-form-urlencoded" {
		return nil, &formError{http.StatusUnsupportedMediaType, "the form must be sent as application/x-www-form-urlencoded"}
	}
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxFormBody+1))
	if err != nil || len(body) > maxFormBody {
		return nil, &formError{http.StatusRequestEntityTooLarge, "the form is too large (at most 64 KiB)"}
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &formError{http.StatusBadRequest, "the form could not be read; reload the page and try again"}
	}
	for k, vs := range vals {
		if !text(k) || len(k) > 100 {
			return nil, &formError{http.StatusBadRequest, "a field name is not valid text"}
		}
		for _, v := range vs {
			if len(v) > maxValue {
				return nil, &formError{http.StatusBadRequest, "the field " + k + " is too long (at most 4096 bytes)"}
			}
			if !text(v) {
				return nil, &formError{http.StatusBadRequest, "the field " + k + " must be valid UTF-8 text without NUL characters"}
			}
		}
	}
	return vals, nil
}

// text reports whether s is valid UTF-8 without NUL, as every store can
// hold it.
func text(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// form returns the request's checked form if it has only the named
// fields (each at most once, but those in multi) besides csrf and
// confirmed; otherwise it renders a 400 page and returns false.
func (h *handlers) form(c *gin.Context, fields []string, multi ...string) (url.Values, bool) {
	v, _ := c.Get(formKey)
	vals, _ := v.(url.Values)
	for k, vs := range vals {
		switch {
		case k == fieldCSRF || k == fieldConfirmed:
		case !slices.Contains(fields, k):
			h.fail(c, http.StatusBadRequest, "The form has a field this page does not know: "+shorten(k)+". Nothing was changed.")
			return nil, false
		case len(vs) > 1 && !slices.Contains(multi, k):
			h.fail(c, http.StatusBadRequest, "The field "+shorten(k)+" was sent more than once. Nothing was changed.")
			return nil, false
		}
	}
	return vals, true
}

// shorten keeps user-supplied names short in messages.
func shorten(s string) string {
	if len(s) > 40 {
		return strings.ToValidUTF8(s[:40], "") + "…"
	}
	return s
}

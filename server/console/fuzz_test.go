package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// FuzzReadForm: any body is either refused or read into values that every
// store can hold, each within maxValue bytes; never a panic.
func FuzzReadForm(f *testing.F) {
	for _, s := range []string{"", "a=b", "name=%ff", "a=%00", "a=b&a=c", "%zz", "csrf=x&name=" + strings.Repeat("y", 5000), "=&&=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		c.Request = httptest.NewRequest(http.MethodPost, "/console/x", strings.NewReader(body))
		c.Request.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		vals, ferr := readForm(c)
		if ferr != nil {
			if ferr.status < 400 || ferr.status > 499 || ferr.msg == "" {
				t.Fatalf("refusal %d %q", ferr.status, ferr.msg)
			}
			return
		}
		for k, vs := range vals {
			if !utf8.ValidString(k) || strings.ContainsRune(k, 0) {
				t.Fatalf("name %q accepted", k)
			}
			for _, v := range vs {
				if len(v) > maxValue || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
					t.Fatalf("value %q accepted", v)
				}
			}
		}
	})
}

// FuzzDuration: a lifetime field is 0, a non-negative duration, or an
// error message; never a panic.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{"", "15m", "3600", "-1", "1h30m", "9999999999999999999", "soon"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		errs := map[string]string{}
		d := duration(errs, "f", s)
		if d == nil || (*d < 0) || (errs["f"] != "" && *d != 0) {
			t.Fatalf("duration(%q) = %v, %q", s, d, errs["f"])
		}
	})
}

package guard

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tollgate/tollgate/clients/verify"
)

func TestToken(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", verify.MaxTokenLen+1)
	cases := []struct {
		name    string
		headers []string
		want    string
		err     error
	}{
		{name: "canonical", headers: []string{"Bearer abc.def-_~+/=="}, want: "abc.def-_~+/=="},
		{name: "lowercase scheme (RFC 9110 §11.1: case-insensitive)", headers: []string{"bearer abc"}, want: "abc"},
		{name: "shouting scheme", headers: []string{"BEARER abc"}, want: "abc"},
		{name: "several spaces (RFC 6750 §2.1: 1*SP)", headers: []string{"Bearer    abc"}, want: "abc"},
		{name: "surrounding whitespace", headers: []string{"  Bearer abc \t"}, want: "abc"},
		{name: "no header", err: ErrNoToken},
		{name: "empty header", headers: []string{""}, err: ErrNoToken},
		{name: "another scheme", headers: []string{"Basic dXNlcjpwYXNz"}, err: ErrNoToken},
		{name: "two headers", headers: []string{"Bearer abc", "Bearer def"}, err: ErrMultiple},
		{name: "scheme only", headers: []string{"Bearer"}, err: ErrSyntax},
		{name: "scheme and spaces", headers: []string{"Bearer   "}, err: ErrSyntax},
		{name: "tab separator", headers: []string{"Bearer\tabc"}, err: ErrSyntax},
		{name: "two tokens", headers: []string{"Bearer abc def"}, err: ErrSyntax},
		{name: "comma list", headers: []string{"Bearer abc, Basic x"}, err: ErrSyntax},
		{name: "padding only", headers: []string{"Bearer =="}, err: ErrSyntax},
		{name: "padding inside", headers: []string{"Bearer ab=c"}, err: ErrSyntax},
		{name: "non-ASCII token", headers: []string{"Bearer abc\u00e9"}, err: ErrSyntax},
		{name: "non-ASCII scheme", headers: []string{"Bëarer abc"}, err: ErrSyntax},
		{name: "invalid UTF-8", headers: []string{"Bearer \xff\xfe"}, err: ErrSyntax},
		{name: "control character", headers: []string{"Bearer ab\x00c"}, err: ErrSyntax},
		{name: "quoted", headers: []string{`Bearer "abc"`}, err: ErrSyntax},
		{name: "over-long", headers: []string{"Bearer " + long}, err: ErrTooLong},
		{name: "longest allowed", headers: []string{"Bearer " + long[1:]}, want: long[1:]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for _, v := range tc.headers {
				h.Add("Authorization", v)
			}
			got, err := Token(h)
			if tc.err != nil {
				if !errors.Is(err, tc.err) || got != "" {
					t.Fatalf("Token = %q, %v; want error %v", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Token = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// FuzzToken: any header value (or two) gives a token or an error, never
// a panic; a token is always a b64token within the length bound found
// verbatim in the header; and "Bearer " + any b64token round-trips.
func FuzzToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  x.y.z", "Basic Zm9vOmJhcg==", "Bearer", "Bearer é", "\x00", "Bearer a=b"} {
		f.Add(s, "", false)
	}
	f.Add("Bearer abc", "Bearer def", true)
	f.Fuzz(func(t *testing.T, v, second string, two bool) {
		h := http.Header{"Authorization": {v}}
		if two {
			h.Add("Authorization", second)
		}
		tok, err := Token(h)
		if err != nil {
			if tok != "" {
				t.Fatalf("token %q with error %v", tok, err)
			}
		} else {
			if two || !b64token(tok) || len(tok) > verify.MaxTokenLen || !strings.HasSuffix(strings.TrimRight(v, " \t"), tok) || !utf8.ValidString(tok) {
				t.Fatalf("Token(%q) = %q", v, tok)
			}
		}
		// Round trip: a well-formed credential gives back its token.
		if b64token(v) && len(v) <= verify.MaxTokenLen {
			for _, scheme := range []string{"Bearer ", "bEaReR   "} {
				got, err := Token(http.Header{"Authorization": {scheme + v}})
				if err != nil || got != v {
					t.Fatalf("Token(%q) = %q, %v", scheme+v, got, err)
				}
			}
		}
	})
}

package registry

import (
	"encoding/json"
	"slices"
	"testing"
	"unicode/utf8"
)

// FuzzCheckSubjectClaims: no panic on any input; what is accepted is a
// compact JSON object of unregistered names, disjoint public and private
// sets within the bounds, and checking it again accepts it unchanged.
func FuzzCheckSubjectClaims(f *testing.F) {
	f.Add([]byte(`{"tenant":"acme"}`), []byte(`{"email":"a@example.com"}`))
	f.Add([]byte(`{"a":1,"a":2}`), []byte(`null`))
	f.Add([]byte(` {"sub":"x"} `), []byte(`{}`))
	f.Add([]byte(`{"t":"\u0000"}`), []byte(`[1]`))
	f.Add([]byte(`{"x":{"y":[1,2,{"z":null}]}}`), []byte(`{"x":1}`))
	f.Add([]byte("{\"t\":\"\xff\"}"), []byte(nil))
	f.Fuzz(func(t *testing.T, pub, priv []byte) {
		var v ValidationError
		a, b := checkSubjectClaims(&v, pub, priv)
		if len(v.Fields) > 0 {
			return
		}
		names := map[string]bool{}
		for _, out := range [][]byte{a, b} {
			if out == nil {
				continue
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(out, &m); err != nil || !utf8.Valid(out) || len(m) == 0 || len(m) > maxClaims || len(out) > maxClaimsLen {
				t.Fatalf("accepted %q: %v", out, err)
			}
			for n := range m {
				if slices.Contains(registeredClaims, n) || names[n] {
					t.Fatalf("accepted name %q (registered or in both) in %q", n, out)
				}
				names[n] = true
			}
		}
		var again ValidationError
		a2, b2 := checkSubjectClaims(&again, a, b)
		if len(again.Fields) > 0 || string(a2) != string(a) || string(b2) != string(b) {
			t.Fatalf("not a fixed point: %q %q -> %q %q (%v)", a, b, a2, b2, again.Fields)
		}
	})
}

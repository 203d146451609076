package grant

import (
	"slices"
	"testing"
)

func TestUserScopeRule(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scopes []string
		roles  []string
		want   []string // nil: invalid_scope
	}{
		{"ordinary scopes need no role", []string{"orders:read"}, nil, []string{"orders:read"}},
		{"admin role keeps tollgate:admin", []string{"tollgate:admin", "profile"}, []string{"support", "admin"}, []string{"tollgate:admin", "profile"}},
		{"other roles lose it, the rest stays", []string{"tollgate:admin", "profile"}, []string{"viewer"}, []string{"profile"}},
		{"nothing left is invalid_scope", []string{"tollgate:admin"}, []string{"viewer"}, nil},
		{"introspect is never a user's", []string{"tollgate:introspect", "profile"}, []string{"admin"}, []string{"profile"}},
		{"unknown tollgate scopes are never a user's", []string{"tollgate:anything"}, []string{"admin"}, nil},
		{"scopes are case-sensitive", []string{"Tollgate:admin"}, nil, []string{"Tollgate:admin"}},
		{"no scopes stay none", nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := grantable(tc.scopes, func(s string) bool { return userMay(s, tc.roles) }, whyUserRoles)
			if tc.want == nil && len(tc.scopes) > 0 {
				if err == nil {
					t.Fatalf("got %v, want invalid_scope", got)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

package registry_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// TestFederationBindingRefused: bindings that would be silently ignored or
// would trust more workloads than the admin can have meant are refused,
// naming the field (review of issue 17).
func TestFederationBindingRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		spec  registry.ClientSpec
		field string
		why   string
	}{
		{"binding on a secret client", registry.ClientSpec{Name: "s1", FederatedIssuer: "prod", FederatedSubject: "system:serviceaccount:a:b"},
			"federated_issuer", "only for private_key_jwt"},
		{"claims only, on a secret client", registry.ClientSpec{Name: "s2", FederatedClaims: map[string]string{"repository": "org/app"}},
			"federated_issuer", "only for private_key_jwt"},
		{"a bare *", registry.ClientSpec{Name: "k1", AuthMethod: store.AuthPrivateKeyJWT, FederatedIssuer: "prod", FederatedSubject: "*"},
			"federated_subject", "literal part"},
		{"a leading *", registry.ClientSpec{Name: "k2", AuthMethod: store.AuthPrivateKeyJWT, FederatedIssuer: "prod", FederatedSubject: "*:worker"},
			"federated_subject", "literal part"},
		{"an empty claim value", registry.ClientSpec{Name: "k3", AuthMethod: store.AuthPrivateKeyJWT, FederatedIssuer: "prod", FederatedSubject: "repo:org/app:*",
			FederatedClaims: map[string]string{"ref": ""}}, "federated_claims", "empty value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg, st := newTestRegistry(t, nil)
			_, _, err := reg.CreateClient(context.Background(), tt.spec)
			if f := fieldsOf(t, err); !slices.Contains(f, tt.field) || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("fields %v, error %q: want %s saying %q", f, err, tt.field, tt.why)
			}
			if cs, _ := st.ListClients(context.Background(), "", 10); len(cs) != 0 {
				t.Errorf("a refused client was stored: %+v", cs)
			}
		})
	}
}

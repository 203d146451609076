package throttle

import "testing"

func TestAddressKey(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"ipv4 as is", "203.0.113.7", "203.0.113.7"},
		{"ipv6 by its /64", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"},
		{"same /64 same key", "2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"next /64 its own", "2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"ipv4-mapped is ipv4", "::ffff:198.51.100.20", "198.51.100.20"},
		{"zone dropped", "fe80::1%eth0", "fe80::/64"},
		{"not an address", "unix-socket", "unix-socket"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := AddressKey(tc.in); got != tc.want {
				t.Errorf("AddressKey(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzAddressKey: caller addresses come from X-Forwarded-For behind a
// trusted proxy. No panic, and a key is its own key.
func FuzzAddressKey(f *testing.F) {
	for _, s := range []string{"203.0.113.7", "2001:db8::1", "::ffff:1.2.3.4", "fe80::1%eth0", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := AddressKey(s)
		if AddressKey(k) != k {
			t.Fatalf("AddressKey(%q) = %q, whose key is %q", s, k, AddressKey(k))
		}
	})
}

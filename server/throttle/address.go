package throttle

import "net/netip"

// ipv6Budget is the IPv6 prefix length that shares one budget.
const ipv6Budget = 64

// AddressKey is the budget key of a caller address: an IPv4 address as it
// is, an IPv6 address as its /64 ("2001:db8:1:2::/64"). One IPv6 subscriber
// is given at least a /64 (RFC 6177 §2, RFC 7421 §1), so budgets per exact
// address would hand one attacker 2^64 of them. IPv4-mapped IPv6 addresses
// count as IPv4. Anything that is not an IP address is returned unchanged,
// so the function is idempotent.
func AddressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(ipv6Budget)
	if err != nil {
		return ip
	}
	return p.String()
}

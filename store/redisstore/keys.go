package redisstore

// Key layout, all under the store's prefix:
//
//	rt:{f:<family>}:<id>  hash: one refresh token, expiring at its ExpiresAt
//	rf:{f:<family>}       sorted set: IDs of the family's tokens scored by
//	                      expiry (ms), expiring with its last member
//	rr:{f:<family>}       string: the family is revoked until its expiry
//
// Redis Cluster hashes only the first {…} of a key, so the braces surround
// the family alone and the prefix may not contain any. The "f:" inside
// keeps the tag non-empty, and identical in all three keys whatever the
// family ID holds (even "" or "}"): otherwise Redis would hash whole keys and
// a script's keys could land in different slots.

func (s *Store) familyTag(family string) string {
	return "{f:" + family + "}"
}

// tokenKeyPrefix is the key of a family's token without the token ID; the
// revocation script appends member IDs to it.
func (s *Store) tokenKeyPrefix(family string) string {
	return s.prefix + "rt:" + s.familyTag(family) + ":"
}

func (s *Store) tokenKey(family, id string) string {
	return s.tokenKeyPrefix(family) + id
}

func (s *Store) familyKey(family string) string {
	return s.prefix + "rf:" + s.familyTag(family)
}

func (s *Store) revokedKey(family string) string {
	return s.prefix + "rr:" + s.familyTag(family)
}

package secret

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// maxFamilyLen bounds the family ID inside a refresh token. NewID("")
// returns 22 characters; the slack tolerates longer IDs without letting an
// attacker make the parser scan unbounded input.
const maxFamilyLen = 64

// NewRefreshToken returns a refresh token of the family familyID:
// "tgr_" + familyID + "_" + 256-bit random body + checksum. The checksum
// covers the family ID too, so ParseRefreshToken rejects a token whose
// family was altered. familyID must be 1 to 64 base62 characters, such as
// NewID("") returns; NewRefreshToken panics otherwise, since that is a
// programming error and the token could never be parsed back.
func NewRefreshToken(familyID string) string {
	if !validFamily(familyID) {
		panic("secret: refresh token family ID must be 1 to 64 base62 characters")
	}
	var body [bodyLen]byte
	fillRandom(body[:])
	crc := crcUpdate(0, RefreshTokenPrefix)
	crc = crcUpdate(crc, familyID)
	crc = crcUpdate(crc, "_")
	var sum [checksumLen]byte
	encodeChecksum(&sum, crcUpdate(crc, body[:]))

	var b strings.Builder
	b.Grow(len(RefreshTokenPrefix) + len(familyID) + 1 + bodyLen + checksumLen)
	b.WriteString(RefreshTokenPrefix)
	b.WriteString(familyID)
	b.WriteByte('_')
	b.Write(body[:])
	b.Write(sum[:])
	return b.String()
}

// ParseRefreshToken returns the family ID of a refresh token made by
// NewRefreshToken. ok is false if tok is malformed or its checksum does not
// match; such a token can be rejected without a store lookup.
func ParseRefreshToken(tok string) (familyID string, ok bool) {
	rest, found := strings.CutPrefix(tok, RefreshTokenPrefix)
	if !found || len(rest) > maxFamilyLen+1+bodyLen+checksumLen {
		return "", false
	}
	i := strings.IndexByte(rest, '_')
	if i < 0 || len(rest)-i-1 != bodyLen+checksumLen {
		return "", false
	}
	family := rest[:i]
	if !validFamily(family) || !checksumOK(tok, len(RefreshTokenPrefix)+i+1) {
		return "", false
	}
	return family, true
}

// TokenHash returns the unpadded base64url SHA-256 of tok: the stored ID of
// a refresh token. The token carries 256 random bits, so a fast unkeyed hash
// cannot be brute-forced and a database leak reveals no usable token.
func TokenHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func validFamily(s string) bool {
	return len(s) > 0 && len(s) <= maxFamilyLen && allBase62(s)
}

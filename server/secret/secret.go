// Package secret generates and hashes Tollgate's secrets: client secrets,
// refresh tokens and API keys, public identifiers, and user passwords.
//
// Every generated secret has the shape prefix + body + checksum, where body
// is 43 random base62 characters (256 bits from crypto/rand) and checksum is
// the 6-character base62 CRC-32 of everything before it. The fixed prefix
// lets secret scanners spot leaked credentials; the checksum rejects typos
// and garbage before any store lookup.
package secret

import (
	"crypto/rand"
	"hash/crc32"
	"strings"
)

// Prefixes of the values the server generates.
const (
	ClientSecretPrefix = "tgs_"
	RefreshTokenPrefix = "tgr_"
	APIKeyPrefix       = "tgk_"
	ClientIDPrefix     = "tgc_"
	UserIDPrefix       = "usr_"
)

const (
	alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	// bodyLen base62 digits carry 43·log2(62) ≈ 256.03 bits.
	bodyLen = 43
	// checksumLen base62 digits hold any uint32: 62^6 > 2^32.
	checksumLen = 6
	// idLen base62 digits carry 22·log2(62) ≈ 131 bits.
	idLen = 22
)

// Generate returns prefix followed by a 256-bit random base62 body and its
// checksum. Valid(prefix, s) holds for the result.
func Generate(prefix string) string {
	var body [bodyLen]byte
	fillRandom(body[:])
	var sum [checksumLen]byte
	encodeChecksum(&sum, crcUpdate(crcUpdate(0, prefix), body[:]))

	var b strings.Builder
	b.Grow(len(prefix) + bodyLen + checksumLen)
	b.WriteString(prefix)
	b.Write(body[:])
	b.Write(sum[:])
	return b.String()
}

// Valid reports whether s has the shape Generate(prefix) returns and its
// checksum matches. It does not allocate. The checksum is public data, so a
// plain comparison is fine; Valid is a format check, not authentication.
func Valid(prefix, s string) bool {
	if len(s) != len(prefix)+bodyLen+checksumLen || !strings.HasPrefix(s, prefix) {
		return false
	}
	return checksumOK(s, len(prefix))
}

// NewID returns prefix followed by 22 random base62 characters (130 bits):
// a public identifier such as a client ID ("tgc_…") or user ID ("usr_…").
// NewID("") contains no underscore, as refresh-token family IDs require.
func NewID(prefix string) string {
	var body [idLen]byte
	fillRandom(body[:])
	var b strings.Builder
	b.Grow(len(prefix) + idLen)
	b.WriteString(prefix)
	b.Write(body[:])
	return b.String()
}

// ValidID reports whether s has the shape NewID(prefix) returns. IDs carry
// no checksum, so this only checks the prefix, length and alphabet.
func ValidID(prefix, s string) bool {
	return len(s) == len(prefix)+idLen && strings.HasPrefix(s, prefix) &&
		allBase62(s[len(prefix):])
}

// fillRandom fills dst with uniformly random base62 digits. It rejects the
// two 6-bit values above 61 rather than reducing modulo 62, which would
// bias the low digits.
func fillRandom(dst []byte) {
	var buf [64]byte
	for len(dst) > 0 {
		rand.Read(buf[:]) // never fails: crypto/rand crashes the program instead
		for _, r := range buf {
			if r &= 63; r >= 62 {
				continue
			}
			dst[0] = alphabet[r]
			if dst = dst[1:]; len(dst) == 0 {
				return
			}
		}
	}
}

// checksumOK reports whether s[bodyStart:] is all base62 and its last
// checksumLen characters are the checksum of everything before them.
func checksumOK(s string, bodyStart int) bool {
	if !allBase62(s[bodyStart:]) {
		return false
	}
	n := len(s) - checksumLen
	var sum [checksumLen]byte
	encodeChecksum(&sum, crcUpdate(0, s[:n]))
	return string(sum[:]) == s[n:]
}

// crcUpdate is crc32.Update with the IEEE table, written out so that it
// takes strings without converting (and allocating).
func crcUpdate[T string | []byte](crc uint32, p T) uint32 {
	crc = ^crc
	for i := 0; i < len(p); i++ {
		crc = crc32.IEEETable[byte(crc)^p[i]] ^ (crc >> 8)
	}
	return ^crc
}

// encodeChecksum writes crc as 6 big-endian base62 digits.
func encodeChecksum(dst *[checksumLen]byte, crc uint32) {
	for i := checksumLen - 1; i >= 0; i-- {
		dst[i] = alphabet[crc%62]
		crc /= 62
	}
}

func allBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isBase62(s[i]) {
			return false
		}
	}
	return true
}

func isBase62(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

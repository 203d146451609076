package secret

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for new hashes: the OWASP Password Storage Cheat
// Sheet's first recommendation (19 MiB, 2 passes, 1 lane).
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	saltLen      = 16
	keyLen       = 32
)

// Bounds on parameters read from a stored hash, so that a tampered row
// cannot make one login exhaust the server's memory or CPU.
const (
	maxArgonMemory  = 256 * 1024 // KiB
	maxArgonTime    = 16
	maxArgonThreads = 16
	minSaltLen      = 8
	maxSaltLen      = 64
	minKeyLen       = 16
	maxKeyLen       = 64
)

// MaxPasswordLen is the longest password accepted, in bytes.
const MaxPasswordLen = 1024

// Password errors. Compare with errors.Is.
var (
	ErrPasswordEmpty   = errors.New("secret: password is empty")
	ErrPasswordTooLong = fmt.Errorf("secret: password is longer than %d bytes", MaxPasswordLen)
	// ErrInvalidHash means a stored password hash is not a supported PHC
	// argon2id string or its parameters are out of bounds.
	ErrInvalidHash = errors.New("secret: invalid argon2id password hash")
)

// dummyHash is the hash of a random password nobody knows, with the
// parameters HashPassword uses, so DummyPasswordVerify costs what a real
// verification costs.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$" +
	"5kQ0B8Sbd1DH/n8Q2dabPg$TaNb2v8ANMZ9VR1KUyYHDrGG3Ftb4YxnRaUOL9dxOlM"

var b64 = base64.RawStdEncoding

// HashPassword returns the argon2id hash of password in PHC format:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, base64 without padding.
// It returns ErrPasswordEmpty or ErrPasswordTooLong for unacceptable input.
func HashPassword(password string) (string, error) {
	if err := checkPassword(password); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches encoded, a hash made by
// HashPassword (its parameters are read from the string). A mismatch is
// false, nil. The error is ErrPasswordEmpty or ErrPasswordTooLong for
// unacceptable input, or wraps ErrInvalidHash for a malformed hash.
func VerifyPassword(encoded, password string) (bool, error) {
	if err := checkPassword(password); err != nil {
		return false, err
	}
	p, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

// DummyPasswordVerify does the work of VerifyPassword against a fixed hash
// and discards the result. Call it for unknown or disabled users so that
// response timing does not reveal which usernames exist.
func DummyPasswordVerify(password string) {
	_, _ = VerifyPassword(dummyHash, password)
}

func checkPassword(password string) error {
	switch {
	case password == "":
		return ErrPasswordEmpty
	case len(password) > MaxPasswordLen:
		return ErrPasswordTooLong
	}
	return nil
}

type argonParams struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parseHash reads $argon2id$v=19$m=M,t=T,p=P$salt$key strictly.
func parseHash(s string) (*argonParams, error) {
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" {
		return nil, fmt.Errorf("%w: not a PHC argon2id string", ErrInvalidHash)
	}
	if f[2] != "v="+strconv.Itoa(argon2.Version) {
		return nil, fmt.Errorf("%w: unsupported version %q", ErrInvalidHash, f[2])
	}
	m, t, p, err := parseParams(f[3])
	if err != nil {
		return nil, err
	}
	salt, err1 := b64.Strict().DecodeString(f[4])
	key, err2 := b64.Strict().DecodeString(f[5])
	switch {
	case err1 != nil || err2 != nil:
		return nil, fmt.Errorf("%w: bad base64", ErrInvalidHash)
	case len(salt) < minSaltLen || len(salt) > maxSaltLen:
		return nil, fmt.Errorf("%w: salt length %d", ErrInvalidHash, len(salt))
	case len(key) < minKeyLen || len(key) > maxKeyLen:
		return nil, fmt.Errorf("%w: key length %d", ErrInvalidHash, len(key))
	}
	return &argonParams{memory: m, time: t, threads: uint8(p), salt: salt, key: key}, nil
}

// parseParams reads "m=M,t=T,p=P" in that order and checks the bounds.
func parseParams(s string) (m, t, p uint32, err error) {
	var vals [3]uint32
	parts := strings.Split(s, ",")
	if len(parts) != len(vals) {
		return 0, 0, 0, fmt.Errorf("%w: parameters %q", ErrInvalidHash, s)
	}
	for i, name := range [...]string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(parts[i], name)
		n, perr := strconv.ParseUint(v, 10, 32)
		if !ok || perr != nil {
			return 0, 0, 0, fmt.Errorf("%w: parameters %q", ErrInvalidHash, s)
		}
		vals[i] = uint32(n)
	}
	m, t, p = vals[0], vals[1], vals[2]
	if p < 1 || p > maxArgonThreads || t < 1 || t > maxArgonTime ||
		m < 8*p || m > maxArgonMemory {
		return 0, 0, 0, fmt.Errorf("%w: parameters %q out of bounds", ErrInvalidHash, s)
	}
	return m, t, p, nil
}

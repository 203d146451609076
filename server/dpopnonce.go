package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// nonceWindow is how long one DPoP nonce is handed out; a nonce is
// accepted in its window and the next, so a client has at least this long
// to use it.
const nonceWindow = time.Minute

// dpopNonces makes and checks the nonces of RFC 9449 §8 without storing
// them: a nonce is a time window and its HMAC, under a key every node
// derives from the master key, so any node accepts any node's nonce.
type dpopNonces struct {
	key []byte
	now func() time.Time
}

func (n *dpopNonces) window() uint64 { return uint64(n.now().Unix()) / uint64(nonceWindow/time.Second) }

func (n *dpopNonces) mac(w uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], w)
	m := hmac.New(sha256.New, n.key)
	m.Write(b[:])
	return append(b[:], m.Sum(nil)[:16]...)
}

// current is the nonce to hand out now.
func (n *dpopNonces) current() string {
	return base64.RawURLEncoding.EncodeToString(n.mac(n.window()))
}

// valid reports whether nonce is this window's or the previous one's.
func (n *dpopNonces) valid(nonce string) bool {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != 24 {
		return false
	}
	w, now := binary.BigEndian.Uint64(b[:8]), n.window()
	if w != now && w+1 != now {
		return false
	}
	return hmac.Equal(b, n.mac(w))
}

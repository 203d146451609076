// Package ceiling is Tollgate's reference ("ceiling") server for the load
// benchmark: the least a client_credentials token endpoint can do over
// HTTP/1.1 with plain net/http. It parses the form, checks HTTP Basic
// credentials against one fixed client (SHA-256 of the secret, compared in
// constant time), signs an RFC 9068 claim set with Ed25519 and answers
// JSON. It stores nothing. loadbench divides Tollgate's requests/s by this
// server's, measured in the same run on the same cores, so that the ratio
// says what Tollgate spends beyond the unavoidable work.
package ceiling

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The one client the server knows. loadbench authenticates as it.
const (
	ClientID     = "ceiling"
	ClientSecret = "ceiling-secret"
)

// Claim values of every token.
const (
	Issuer   = "http://ceiling.invalid"
	Audience = "ceiling-api"
	Scope    = "bench:read"
	TTL      = time.Hour
)

// Server is the reference token endpoint.
type Server struct {
	key        ed25519.PrivateKey
	secretHash [sha256.Size]byte
	header     string // the JWS protected header, encoded once
	now        func() time.Time
}

// New returns a Server that signs with key (a fresh one if nil) and reads
// the time from now (time.Now if nil).
func New(key ed25519.PrivateKey, now func() time.Time) (*Server, error) {
	if key == nil {
		var err error
		if _, key, err = ed25519.GenerateKey(rand.Reader); err != nil {
			return nil, err
		}
	}
	if now == nil {
		now = time.Now
	}
	// RFC 9068 §2.1: typ "at+jwt"; RFC 8037 §3.1: alg "EdDSA".
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"EdDSA","typ":"at+jwt","kid":"ceiling"}`))
	return &Server{key: key, secretHash: sha256.Sum256([]byte(ClientSecret)), header: h, now: now}, nil
}

// PublicKey is the key tokens verify with.
func (s *Server) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Handler serves POST /oauth2/token.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", s.token)
	return mux
}

// claims is the RFC 9068 §2.2 claim set.
type claims struct {
	Iss      string `json:"iss"`
	Exp      int64  `json:"exp"`
	Aud      string `json:"aud"`
	Sub      string `json:"sub"`
	ClientID string `json:"client_id"`
	Iat      int64  `json:"iat"`
	Jti      string `json:"jti"`
	Scope    string `json:"scope"`
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	if !s.authenticate(r) {
		// RFC 6749 §5.2: invalid_client over Basic is 401 with a challenge.
		w.Header().Set("WWW-Authenticate", `Basic realm="ceiling"`)
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	tok, err := s.sign(s.now())
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(tokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int64(TTL.Seconds()), Scope: Scope})
}

// authenticate checks HTTP Basic credentials, form-encoded first as RFC
// 6749 §2.3.1 asks.
func (s *Server) authenticate(r *http.Request) bool {
	id, sec, ok := r.BasicAuth()
	if !ok {
		return false
	}
	id, err1 := url.QueryUnescape(id)
	sec, err2 := url.QueryUnescape(sec)
	if err1 != nil || err2 != nil {
		return false
	}
	sum := sha256.Sum256([]byte(sec))
	match := subtle.ConstantTimeCompare(sum[:], s.secretHash[:]) == 1
	return match && id == ClientID
}

// sign returns a compact JWS of a fresh claim set.
func (s *Server) sign(now time.Time) (string, error) {
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	body, err := json.Marshal(claims{
		Iss: Issuer, Exp: now.Add(TTL).Unix(), Aud: Audience, Sub: ClientID, ClientID: ClientID,
		Iat: now.Unix(), Jti: base64.RawURLEncoding.EncodeToString(jti[:]), Scope: Scope,
	})
	if err != nil {
		return "", err
	}
	input := s.header + "." + base64.RawURLEncoding.EncodeToString(body)
	sig := ed25519.Sign(s.key, []byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func oauthError(w http.ResponseWriter, code int, e string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(`{"error":` + strconv.Quote(e) + `}`))
}

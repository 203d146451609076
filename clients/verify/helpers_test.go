package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate/tollgate/clients/internal/tollgatetest"
)

func TestMain(m *testing.M) { tollgatetest.Main(m) }

// openReal opens a Verifier on a real Tollgate as a resource server would:
// with its own tollgate:introspect client. edit adjusts the options.
func openReal(t testing.TB, srv *tollgatetest.Server, edit func(*Options)) *Verifier {
	t.Helper()
	rs := srv.CreateClient(t, "--scopes", "tollgate:introspect")
	o := Options{
		Issuer: srv.URL, Audience: srv.URL, ClientID: rs.ID, ClientSecret: rs.Secret,
		Logger: testLogger(t),
	}
	if edit != nil {
		edit(&o)
	}
	return mustOpen(t, o)
}

func mustOpen(t testing.TB, o Options) *Verifier {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// testLogger writes the verifier's log to the test's output.
func testLogger(t testing.TB) *slog.Logger {
	if _, ok := t.(*testing.B); ok {
		return nil
	}
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// eventually polls f every 5ms until it returns nil or within elapses,
// and returns how long that took.
func eventually(t testing.TB, within time.Duration, what string, f func() error) time.Duration {
	t.Helper()
	start := time.Now()
	var err error
	for time.Since(start) < within {
		if err = f(); err == nil {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s: last %v", what, within, err)
	return 0
}

// wantErr checks that err wraps want.
func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
}

// segments splits a compact JWS and decodes its header and payload.
func segments(t testing.TB, tok string) (header, payload map[string]any, sig string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, payload, parts[2]
}

// encode is the base64url of v's JSON.
func encode(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// netTap is the verifier's network, instrumented: it counts requests by
// path, and Cut severs the revocation feed (open streams and new
// requests) while everything else still works, as a broken proxy route
// would.
type netTap struct {
	base http.RoundTripper

	mu      sync.Mutex
	counts  map[string]int
	cancels []context.CancelFunc
	cut     atomic.Bool
}

func newNetTap() *netTap { return &netTap{base: http.DefaultTransport, counts: map[string]int{}} }

func (n *netTap) RoundTrip(r *http.Request) (*http.Response, error) {
	n.mu.Lock()
	n.counts[r.URL.Path]++
	if !strings.HasPrefix(r.URL.Path, "/oauth2/revocations") {
		n.mu.Unlock()
		return n.base.RoundTrip(r)
	}
	if n.cut.Load() {
		n.mu.Unlock()
		return nil, errors.New("nettap: feed cut")
	}
	ctx, cancel := context.WithCancel(r.Context())
	n.cancels = append(n.cancels, cancel)
	n.mu.Unlock()
	resp, err := n.base.RoundTrip(r.WithContext(ctx))
	if err != nil {
		cancel()
	}
	return resp, err
}

// Cut severs the feed until Mend.
func (n *netTap) Cut() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut.Store(true)
	for _, c := range n.cancels {
		c()
	}
	n.cancels = nil
}

// Mend restores the feed.
func (n *netTap) Mend() { n.cut.Store(false) }

// count returns how many requests went to path.
func (n *netTap) count(path string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.counts[path]
}

func (n *netTap) client() *http.Client { return &http.Client{Transport: n} }

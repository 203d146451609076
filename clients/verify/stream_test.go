package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestStreamAppliesAndResumes feeds events through the stream, including
// one of a kind this version does not know, then drops the connection: the
// verifier must apply what it understands, skip the rest, and resume from
// the last event id.
func TestStreamAppliesAndResumes(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.addKey(t, "k1", true)
	v := mustOpen(t, f.options())
	ctx := context.Background()
	now := time.Now()
	c1, c2 := f.claims(now), f.claims(now)
	c1["jti"], c2["jti"] = "j1", "j2"
	t1, t2 := f.token(t, "k1", c1, nil), f.token(t, "k1", c2, nil)
	for _, tok := range []string{t1, t2} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	exp := now.Add(time.Hour).Unix()
	f.events <- ": keep-alive\n\n"
	f.events <- fmt.Sprintf("id: 7\r\nevent: revocation\r\ndata: {\"seq\":7,\"kind\":\"token\",\"jti\":\"j1\",\"revoked_at\":%d,\"expires_at\":%d}\r\n\r\n", now.Unix(), exp)
	refused := func(tok string) func() error {
		return func() error {
			if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrRevoked) {
				return fmt.Errorf("got %v", err)
			}
			return nil
		}
	}
	eventually(t, 2*time.Second, "j1 revoked", refused(t1))
	if _, err := v.Verify(ctx, t2); err != nil {
		t.Fatalf("j2 after j1's revocation: %v", err)
	}

	f.events <- fmt.Sprintf("id: 8\nevent: revocation\ndata: {\"seq\":8,\"kind\":\"api_key\",\"key\":\"k\",\"revoked_at\":%d,\"expires_at\":%d}\n\n", now.Unix(), exp)
	f.events <- fmt.Sprintf("id: 9\nevent: revocation\ndata: {\"seq\":9,\"kind\":\"subject\",\"subject\":\"client:tgc_app\",\"revoked_at\":%d,\"expires_at\":%d}\n\n", now.Unix(), exp)
	eventually(t, 2*time.Second, "client's tokens revoked", refused(t2))

	f.dropStream <- struct{}{}
	eventually(t, 5*time.Second, "reconnected", func() error {
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.lastIDs) < 2 {
			return errors.New("no second stream")
		}
		return nil
	})
	f.mu.Lock()
	ids := slices.Clone(f.lastIDs)
	f.mu.Unlock()
	if ids[0] != "0" || ids[1] != "9" {
		t.Fatalf("Last-Event-ID of the streams: %q, want 0 then 9", ids)
	}
}

// TestSilentStreamIsReplaced: a stream that delivers nothing, not even
// keep-alives, is given up after StreamIdleTimeout and reopened.
func TestSilentStreamIsReplaced(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.addKey(t, "k1", true)
	f.silent = true
	o := f.options()
	o.StreamIdleTimeout = 100 * time.Millisecond
	mustOpen(t, o)
	eventually(t, 5*time.Second, "stream reopened", func() error {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.streams < 3 {
			return fmt.Errorf("%d streams", f.streams)
		}
		return nil
	})
}

func TestReadSSE(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		want []sseEvent
	}{
		{name: "tollgate's form", in: "id: 3\nevent: revocation\ndata: {}\n\n", want: []sseEvent{{id: "3", name: "revocation", data: []byte("{}")}}},
		{name: "CRLF", in: "id: 3\r\ndata: x\r\n\r\n", want: []sseEvent{{id: "3", data: []byte("x")}}},
		{name: "comments and blank lines", in: ": hi\n\n\n: again\ndata: x\n\n", want: []sseEvent{{data: []byte("x")}}},
		{name: "multi-line data", in: "data: a\ndata:b\ndata\n\n", want: []sseEvent{{data: []byte("a\nb\n")}}},
		{name: "id persists", in: "id: 4\ndata: a\n\ndata: b\n\n", want: []sseEvent{{id: "4", data: []byte("a")}, {id: "4", data: []byte("b")}}},
		{name: "id with NUL ignored", in: "id: 4\x00\ndata: a\n\n", want: []sseEvent{{data: []byte("a")}}},
		{name: "unterminated event dropped", in: "data: a\n\ndata: b\n", want: []sseEvent{{data: []byte("a")}}},
		{name: "no data, no event", in: "id: 5\nevent: x\n\n", want: nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []sseEvent
			err := readSSE(strings.NewReader(tc.in), func() {}, func(e sseEvent) error { got = append(got, e); return nil })
			if err == nil {
				t.Fatal("readSSE returned nil at EOF")
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d events %q, want %q", len(got), got, tc.want)
			}
			for i := range got {
				if got[i].id != tc.want[i].id || got[i].name != tc.want[i].name || string(got[i].data) != string(tc.want[i].data) {
					t.Fatalf("event %d: %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
	long := "data: " + strings.Repeat("x", maxSSELine) + "\n\n"
	if err := readSSE(strings.NewReader(long), func() {}, func(sseEvent) error { return nil }); !errors.Is(err, errSSETooLong) {
		t.Fatalf("over-long line: %v", err)
	}
}

func FuzzReadSSE(f *testing.F) {
	f.Add("id: 3\nevent: revocation\ndata: {\"seq\":3}\n\n: keep-alive\n\n")
	f.Add("data:\r\n\r\ndata: a\ndata: b\n\nid\n")
	f.Fuzz(func(t *testing.T, in string) {
		_ = readSSE(strings.NewReader(in), func() {}, func(e sseEvent) error {
			if len(e.data) > maxSSEData+maxSSELine {
				t.Fatalf("event of %d bytes", len(e.data))
			}
			return nil
		})
	})
}

package main

import (
	"bufio"
	"context"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// TestRevocationStreamDropsSlowReader: a client that opens a stream and
// stops reading is dropped once a write has waited the write timeout, so
// it pins neither a goroutine nor a slot; it would resume with
// Last-Event-ID. (Linux: the test shrinks both ends' socket buffers.)
func TestRevocationStreamDropsSlowReader(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.vars["TOLLGATE_WRITE_TIMEOUT"] = "500ms"
	e.vars["TOLLGATE_REVOCATION_STREAMS_PER_CLIENT"] = "1"
	// Small socket buffers on both ends, so a few hundred kilobytes fill
	// them (Linux would otherwise let the server buffer up to 4 MB).
	e.control = setBuffer(syscall.SO_SNDBUF)
	rsID, rsSecret := e.rsClient()
	e.start()
	// About 256 KB of events: far more than the buffers hold.
	now := time.Now()
	rs := make([]*store.Revocation, 16)
	for i := range rs {
		rs[i] = &store.Revocation{Kind: store.RevokedToken, Key: randHex(8) + strings.Repeat("x", 16<<10),
			RevokedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	if err := e.svc.revoked.RevokeAll(context.Background(), rs); err != nil {
		t.Fatal(err)
	}

	d := net.Dialer{Control: setBuffer(syscall.SO_RCVBUF)}
	conn, err := d.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	auth := basic(rsID, rsSecret).Get("Authorization")
	if _, err := conn.Write([]byte("GET /oauth2/revocations/stream HTTP/1.1\r\nHost: tollgate\r\nAuthorization: " + auth + "\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReaderSize(conn, 64).ReadString('\n')
	if err != nil || !strings.Contains(line, " 200 ") {
		t.Fatalf("stream status line %q (%v)", line, err)
	}
	// From here on the client reads nothing.
	if !eventually(10*time.Second, func() bool {
		return strings.Contains(e.get("/metrics").raw, "tollgate_revocation_streams 0\n")
	}) {
		t.Fatal("a stream whose client stopped reading was not dropped")
	}
	res := e.openStream(t, rsID, rsSecret)
	if res.StatusCode != 200 {
		t.Errorf("a new stream after the slow one was dropped: %d", res.StatusCode)
	}
}

// setBuffer returns a socket control function that sets the buffer opt
// (SO_SNDBUF or SO_RCVBUF) to 4 KB.
func setBuffer(opt int) func(_, _ string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) { err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, opt, 4096) }); cerr != nil {
			return cerr
		}
		return err
	}
}

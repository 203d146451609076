// Command todo-api is a small service protected by Tollgate access tokens:
// reading todos needs the scope todos:read, writing todos:write, and
// deleting the role admin. See README.md for a walk-through.
//
// Settings (environment):
//
//	TODO_ADDR           listen address (default 127.0.0.1:9090)
//	TODO_ISSUER         Tollgate's URL (default http://127.0.0.1:8080)
//	TODO_AUDIENCE       the aud tokens must carry (default todo-api)
//	TODO_CLIENT_ID      this service's Tollgate client, with the
//	TODO_CLIENT_SECRET  tollgate:introspect scope (reads revocations)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tollgate/tollgate/clients/bearer"
	"github.com/tollgate/tollgate/clients/verify"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "todo-api:", err)
		os.Exit(1)
	}
}

// run serves the API until ctx is cancelled or a signal arrives.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("todo-api takes no arguments; configure it with TODO_* variables (see README.md)")
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	openCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	v, err := verify.Open(openCtx, verify.Options{
		Issuer:       env("TODO_ISSUER", "http://127.0.0.1:8080"),
		Audience:     env("TODO_AUDIENCE", "todo-api"),
		ClientID:     getenv("TODO_CLIENT_ID"),
		ClientSecret: getenv("TODO_CLIENT_SECRET"),
		Logger:       log,
	})
	cancel()
	if err != nil {
		return err
	}
	defer v.Close()

	addr := env("TODO_ADDR", "127.0.0.1:9090")
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s (TODO_ADDR): %w", addr, err)
	}
	srv := &http.Server{
		Handler:           newAPI(v, authOptions(getenv)...).handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "todo-api listening on http://%s\n", ln.Addr())

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// authOptions reads TODO_EXTERNAL_URL: the scheme and host callers use
// when the API runs behind a proxy, which DPoP proofs name (htu).
// Without it the URL comes from each request. Bearer and DPoP-bound
// tokens are both accepted either way.
func authOptions(getenv func(string) string) []bearer.Option {
	if u := getenv("TODO_EXTERNAL_URL"); u != "" {
		return []bearer.Option{bearer.WithExternalURL(u)}
	}
	return nil
}

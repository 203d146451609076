// Command soak is Tollgate's soak run: three nodes on a private PostgreSQL
// and a private Redis, minutes of mixed load spread across the nodes, and
// one restart of Redis and one of PostgreSQL in the middle of it. It checks
// that nothing but 503 is answered while a store is away, that no refresh
// token is lost and that no revoked token is ever reported active, and
// prints the figures as Markdown (docs/SOAK.md holds a run).
//
//	go run ./bench/cmd/soak [-duration 5m] [-workers 16]
//
// Everything runs on 127.0.0.1. PostgreSQL and Redis are started by the
// soak itself, on free ports and in a temporary directory, so that it can
// restart them without touching anything else on the machine. Every process
// it starts is stopped, and the directory removed, when it ends: also on
// failure and on Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, errChecksFailed):
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
}

// errChecksFailed is returned when the run completed and a check failed.
var errChecksFailed = errors.New("one or more checks FAILED")

// run is the whole program. The first SIGINT or SIGTERM ends the load and
// cleans up; a second one kills the soak at once.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // the default handlers again: the next Ctrl-C kills
	}()
	o, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	s := &soak{o: o, environ: environ, log: newLogger(stderr)}
	res, err := s.run(ctx)
	if res != nil {
		if werr := writeReport(stdout, res); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("interrupted: %w", err)
	case err != nil:
		return err
	case res.interrupted:
		return errors.New("interrupted: the figures cover a partial run")
	case !res.passed():
		return errChecksFailed
	}
	return nil
}

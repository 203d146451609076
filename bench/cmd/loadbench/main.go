// Command loadbench is Tollgate's load benchmark. It builds the tollgate
// binary and its reference server ./bench/cmd/ceiling, starts Tollgate
// on the embedded default and on PostgreSQL + Redis, creates its clients,
// users and keys through the CLI, drives every scenario in a closed loop
// with vegeta (as a library, in this process), and writes
// docs/BENCHMARKS.md. Every target is on 127.0.0.1; every process, database
// and Redis key it creates is removed when it ends, also on Ctrl-C.
//
//	go run ./bench/cmd/loadbench
//
// With -scale it measures cost curves instead: it grows the data (clients,
// API keys, live revocations, revocation-feed subscribers) step by step and
// measures at each step; see scale.go.
//
//	go run ./bench/cmd/loadbench -scale [-scale-max 10000]
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
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

// run is the whole program. The first SIGINT or SIGTERM stops the
// benchmark and cleans up; a second one kills it at once (the servers it
// started die with it: they get SIGKILL when their parent dies).
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // restore the default handlers: the next Ctrl-C kills
	}()
	o, err := parseOptions(args, environ, stderr)
	if err != nil {
		return err
	}
	b, err := newBench(o, environ, stderr)
	if err != nil {
		return err
	}
	defer b.close()
	if o.scale.on {
		return b.runScale(ctx, stdout)
	}
	rep, err := b.run(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: %w", err)
		}
		return err
	}
	return b.publish(rep, stdout)
}

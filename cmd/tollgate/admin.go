package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tollgate/tollgate/config"
	"github.com/tollgate/tollgate/server/keys"
	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/server/revocation"
	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store/sqlstore"
)

// dbAdmin is what the client and user commands work with: the database,
// opened directly, so the first client can be made before any admin
// credentials exist.
type dbAdmin struct {
	cfg      config.Config
	master   []byte
	log      *slog.Logger
	stores   *stores
	sql      *sqlstore.Store
	registry *registry.Registry
}

// openAdmin opens the configured database for an admin command.
func (e *env) openAdmin(ctx context.Context) (*dbAdmin, error) {
	cfg, err := e.loadConfig()
	if err != nil {
		return nil, err
	}
	// Admin commands print their results; only warnings go to the log.
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: max(slog.LevelWarn, cfg.Log.SlogLevel())}))
	if err := requireEmbeddedDatabase(cfg); err != nil {
		return nil, err
	}
	master, err := masterKey(cfg, false)
	if err != nil {
		return nil, err
	}
	// With Redis configured, client changes must reach the running
	// servers' caches, and revocations live there.
	st, err := openStores(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	// The CLI's own ring: its changes reach the servers' rings at their
	// next load (serve's background work), as signing-key rotations do.
	ring, err := newRing(ctx, cfg, master, st, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	a := &dbAdmin{cfg: cfg, master: master, log: log, stores: st, sql: st.sql, registry: newRegistry(cfg, master, st, revocation.Recorder{Store: st.revocations}, ring, log)}
	// Before any command writes, as the server would refuse what a wrong
	// key makes.
	if _, err := (direct{a}).keyManager(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func (a *dbAdmin) Close() error { return a.stores.Close() }

// openOps returns how admin commands reach the data: the admin API with
// --server, else the configured database. In the second case the audit
// log names the operating-system user.
func (e *env) openOps(ctx context.Context) (context.Context, ops, error) {
	if e.server != "" {
		r, err := openRemote(ctx, e.server, e.getenv("TOLLGATE_ADMIN_CLIENT_ID"), e.getenv("TOLLGATE_ADMIN_CLIENT_SECRET"))
		return ctx, r, err
	}
	a, err := e.openAdmin(ctx)
	if err != nil {
		return ctx, nil, err
	}
	who := e.getenv("USER")
	if who == "" {
		who = "unknown"
	}
	return registry.WithActor(ctx, "cli:"+who), direct{a}, nil
}

// newRegistry builds the registry both the server and the CLI use; ring
// keeps the encrypted audiences (newRing).
func newRegistry(cfg config.Config, master []byte, st *stores, revs registry.Revoker, ring registry.Audiences, log *slog.Logger) *registry.Registry {
	return registry.New(registry.Options{
		Clients: st.clients, Users: st.sql, Revocations: revs, Audit: st.sql, APIKeys: st.sql, Lifetimes: st.sql, Issuers: st.sql,
		Audiences: ring,
		Hasher:    secret.NewHasher(keys.Derive(master, keys.PurposeClientSecretPepper)),
		AccessTTL: cfg.Tokens.AccessTTL, ClockSkew: cfg.Tokens.ClockSkew, Logger: log,
		MaxKeysPerOwner: cfg.Limits.APIKeysPerOwner,
	})
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeTable prints rows under a header, aligned in columns.
func writeTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// splitList reads a list flag written with commas or spaces.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// orDash shows an empty value as "-" in tables.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// withOps makes a command body that runs with the admin operations open
// (see openOps) and closes them after.
func (e *env) withOps(fn func(ctx context.Context, o ops, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		ctx, o, err := e.openOps(cmd.Context())
		if err != nil {
			return err
		}
		defer o.Close()
		return fn(ctx, o, args)
	}
}

// printList prints items as JSON for scripts, or as a table for people.
func printList[T any](e *env, asJSON bool, items []T, header []string, row func(T) []string) error {
	if asJSON {
		return writeJSON(e.stdout, nonNilSlice(items))
	}
	rows := make([][]string, len(items))
	for i, it := range items {
		rows[i] = row(it)
	}
	return writeTable(e.stdout, header, rows)
}

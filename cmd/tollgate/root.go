package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/tollgate/tollgate/config"
)

// env is what a command may touch of the outside world.
type env struct {
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
	configPath     string
	// server, when set, makes admin commands use that server's admin API.
	server string
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "tollgate",
		Short:         "Tollgate: OAuth2 tokens for machine clients and APIs",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildVersion(),
	}
	// --version prints what the version command prints.
	root.SetVersionTemplate("tollgate {{.Version}}\n")
	root.PersistentFlags().StringVar(&e.configPath, "config", "", "YAML configuration file (TOLLGATE_* variables override it)")
	root.PersistentFlags().StringVar(&e.server, "server", "", "admin commands: use this server's admin API (credentials from TOLLGATE_ADMIN_CLIENT_ID and TOLLGATE_ADMIN_CLIENT_SECRET) instead of the database")
	root.AddCommand(serveCmd(e), migrateCmd(e), clientCmd(e), userCmd(e), apikeyCmd(e), revokeCmd(e), keysCmd(e), versionCmd(e), auditCmd(e), tokenCmd(e), issuerCmd(e), audienceCmd(e))
	refuseUnknownSubcommands(root)
	return root
}

// loadConfig reads and validates the configuration, listing every problem.
func (e *env) loadConfig() (config.Config, error) {
	cfg, err := config.Load(e.configPath, e.getenv)
	if err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

// logger builds the process logger from the configuration.
func (e *env) logger(cfg config.Config) *slog.Logger {
	return slog.New(logHandler(cfg, e.stderr))
}

// logHandler is the configured format and level, writing to w.
func logHandler(cfg config.Config, w io.Writer) slog.Handler {
	opts := &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}
	if cfg.Log.Format == "text" {
		return slog.NewTextHandler(w, opts)
	}
	return slog.NewJSONHandler(w, opts)
}

package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func migrateCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations",
		Long: `Apply pending database migrations (versioned; applying them again is a
no-op). 'tollgate serve' does this by itself on the embedded database; with
PostgreSQL run it once before starting new binaries.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := e.loadConfig()
			if err != nil {
				return err
			}
			if cfg.Embedded() {
				// The embedded setup is the database and its key file:
				// migrate makes both, as serve would.
				if _, err := masterKey(cfg, true); err != nil {
					return err
				}
			}
			sq, err := openSQL(cmd.Context(), cfg, e.logger(cfg), true)
			if err != nil {
				return err
			}
			defer sq.Close()
			_, err = fmt.Fprintf(e.stdout, "database (%s) is up to date\n", sq.Dialect())
			return err
		},
	}
}

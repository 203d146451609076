package main

import (
	"context"
	"log/slog"
	"math"
	"strings"

	"github.com/tollgate/tollgate/config"
	"github.com/tollgate/tollgate/server/console"
	"github.com/tollgate/tollgate/server/grant"
	"github.com/tollgate/tollgate/server/keys"
	"github.com/tollgate/tollgate/server/metrics"
	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// consoleDeps wires the admin console, nil when TOLLGATE_CONSOLE=false.
// Its overview samples met; the node count is the revocation roster's
// nodes with a running lease (every node serving tokens is on it), or 1
// on a store without a roster.
func consoleDeps(cfg config.Config, st *stores, reg *registry.Registry, km *keys.Manager, engine *grant.Engine, met *metrics.Metrics, log *slog.Logger) *console.Deps {
	if !cfg.Server.ConsoleOn() {
		return nil
	}
	var nodes func(ctx context.Context) (int, error)
	if roster, ok := st.revocations.(store.RevocationRoster); ok {
		nodes = func(ctx context.Context) (int, error) {
			// Every node acknowledges below MaxInt64: the whole roster.
			// This node serves even while it is off the roster (rejoining).
			ns, err := roster.RevocationLaggards(ctx, math.MaxInt64)
			return max(len(ns), 1), err
		}
	}
	return &console.Deps{
		Registry: reg, Clients: st.clients, Users: st.sql, APIKeys: st.sql, Audit: st.sql, Keys: km,
		Passwords: engine,
		Stats:     console.NewStats(console.StatsOptions{Metrics: met, Nodes: nodes, Logger: log}),
		Secure:    strings.HasPrefix(cfg.Issuer, "https://"),
		Logger:    log,
	}
}

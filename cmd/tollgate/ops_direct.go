package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tollgate/tollgate/server/admin"
	"github.com/tollgate/tollgate/server/keys"
	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// direct runs admin operations on the database itself.
type direct struct{ a *dbAdmin }

var _ ops = direct{}

func (d direct) Close() error { return d.a.Close() }

func (d direct) createClient(ctx context.Context, spec registry.ClientSpec) (registry.ClientView, string, error) {
	c, sec, err := d.a.registry.CreateClient(ctx, spec)
	if err != nil {
		return registry.ClientView{}, "", err
	}
	return registry.ViewClient(c), sec, nil
}

func (d direct) listClients(ctx context.Context) ([]registry.ClientView, error) {
	var out []registry.ClientView
	for after := ""; ; {
		page, err := d.a.stores.clients.ListClients(ctx, after, 200)
		if err != nil {
			return nil, err
		}
		for i := range page {
			out = append(out, registry.ViewClient(&page[i]))
		}
		if len(page) < 200 {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

func (d direct) getClient(ctx context.Context, id string) (registry.ClientView, error) {
	c, err := d.a.stores.clients.GetClient(ctx, id)
	if err != nil {
		return registry.ClientView{}, notFound(err, "client", id, "tollgate client list")
	}
	return registry.ViewClient(c), nil
}

func (d direct) deleteClient(ctx context.Context, id string) error {
	return notFound(d.a.registry.DeleteClient(ctx, id), "client", id, "tollgate client list")
}

func (d direct) createUser(ctx context.Context, spec registry.UserSpec) (registry.UserView, error) {
	u, err := d.a.registry.CreateUser(ctx, spec)
	if err != nil {
		return registry.UserView{}, err
	}
	return registry.ViewUser(u), nil
}

func (d direct) listUsers(ctx context.Context) ([]registry.UserView, error) {
	var out []registry.UserView
	for after := ""; ; {
		page, err := d.a.sql.ListUsers(ctx, after, 200)
		if err != nil {
			return nil, err
		}
		for i := range page {
			out = append(out, registry.ViewUser(&page[i]))
		}
		if len(page) < 200 {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

func (d direct) findUser(ctx context.Context, idOrName string) (registry.UserView, error) {
	u, err := d.a.sql.GetUser(ctx, idOrName)
	if errors.Is(err, store.ErrNotFound) {
		u, err = d.a.sql.GetUserByUsername(ctx, idOrName)
	}
	if err != nil {
		return registry.UserView{}, notFound(err, "user", idOrName, "tollgate user list")
	}
	return registry.ViewUser(u), nil
}

func (d direct) deleteUser(ctx context.Context, id string) error {
	return notFound(d.a.registry.DeleteUser(ctx, id), "user", id, "tollgate user list")
}

func (d direct) createAPIKey(ctx context.Context, spec registry.APIKeySpec) (registry.APIKeyView, string, error) {
	k, key, err := d.a.registry.CreateAPIKey(ctx, spec)
	if err != nil {
		return registry.APIKeyView{}, "", err
	}
	return registry.ViewAPIKey(k), key, nil
}

func (d direct) listAPIKeys(ctx context.Context, kind store.OwnerKind, ownerID, clientID string) ([]registry.APIKeyView, error) {
	var out []registry.APIKeyView
	for after := ""; ; {
		page, err := d.a.sql.ListAPIKeys(ctx, kind, ownerID, after, 200)
		if clientID != "" {
			page, err = d.a.sql.ListSubjectAPIKeys(ctx, clientID, ownerID, after, 200)
		}
		if err != nil {
			return nil, err
		}
		for i := range page {
			out = append(out, registry.ViewAPIKey(&page[i]))
		}
		if len(page) < 200 {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

func (d direct) revokeAPIKey(ctx context.Context, id string) error {
	return notFound(d.a.registry.RevokeAPIKey(ctx, id), "API key", id, "tollgate apikey list")
}

func (d direct) revokeClientTokens(ctx context.Context, id string) (time.Time, error) {
	at, err := d.a.registry.RevokeClientTokens(ctx, id)
	return at, notFound(err, "client", id, "tollgate client list")
}

func (d direct) revokeUserTokens(ctx context.Context, id string) (time.Time, error) {
	at, err := d.a.registry.RevokeUserTokens(ctx, id)
	return at, notFound(err, "user", id, "tollgate user list")
}

func (d direct) signingKeys(ctx context.Context) ([]keyView, error) {
	km, err := d.keyManager(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var out []keyView
	for _, k := range km.Keys() {
		out = append(out, admin.ViewSigningKey(k, now))
	}
	return out, nil
}

func (d direct) rotateSigningKey(ctx context.Context) (keyView, error) {
	km, err := d.keyManager(ctx)
	if err != nil {
		return keyView{}, err
	}
	k, err := km.Rotate(ctx)
	if err != nil {
		return keyView{}, err
	}
	return admin.ViewSigningKey(*k, time.Now()), nil
}

// keyManager loads the signing keys of the configured database.
func (d direct) keyManager(ctx context.Context) (*keys.Manager, error) {
	cfg := d.a.cfg
	km, err := keys.New(d.a.sql, keys.Options{
		SealKey:    keys.Derive(d.a.master, keys.PurposeSigningKeySeal),
		Algorithm:  cfg.Tokens.SigningAlgorithm,
		PrePublish: cfg.Tokens.KeyPrePublish,
		Retain:     cfg.Tokens.AccessTTL + cfg.Tokens.ClockSkew,
		Lifetimes:  d.a.sql,
		ClockSkew:  cfg.Tokens.ClockSkew,
		Logger:     d.a.log,
	})
	if err == nil {
		err = checkMasterKey(ctx, km)
	}
	return km, err
}

// notFound turns store.ErrNotFound into a message that says what to run.
func notFound(err error, what, id, list string) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no %s %q; list them with: %s", what, id, list)
	}
	return err
}

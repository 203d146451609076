package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// cli runs tollgate admin commands against one instance's configuration.
type cli struct {
	bin string
	dir string
	env []string
}

func (c cli) run(ctx context.Context, stdin string, args ...string) ([]byte, error) {
	return runCommand(ctx, c.dir, c.env, stdin, append([]string{c.bin}, args...)...)
}

// credentials are a client's ID and secret.
type credentials struct {
	ID, Secret string
}

// createClient runs tollgate client create --json and returns the client's
// credentials.
func (c cli) createClient(ctx context.Context, args ...string) (credentials, error) {
	out, err := c.run(ctx, "", append([]string{"client", "create", "--json"}, args...)...)
	if err != nil {
		return credentials{}, err
	}
	return parseCreatedClient(out)
}

func parseCreatedClient(out []byte) (credentials, error) {
	var v struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal(out, &v); err != nil || v.ClientID == "" || v.ClientSecret == "" {
		return credentials{}, errors.New("tollgate client create --json: no client_id and client_secret in its output")
	}
	return credentials{ID: v.ClientID, Secret: v.ClientSecret}, nil
}

// createUser runs tollgate user create, the password on standard input.
func (c cli) createUser(ctx context.Context, username, password string) error {
	_, err := c.run(ctx, password+"\n", "user", "create", "--username", username, "--password-stdin")
	return err
}

// errNoAPIKeyCommand means this tollgate binary has no apikey command.
var errNoAPIKeyCommand = errors.New("this tollgate build has no `tollgate apikey` command")

// createAPIKey runs tollgate apikey create for a client and returns the
// key; errNoAPIKeyCommand if the binary has no such command.
func (c cli) createAPIKey(ctx context.Context, clientID, scopes string) (string, error) {
	if _, err := c.run(ctx, "", "apikey", "--help"); err != nil {
		if unknownCommand(err) {
			return "", errNoAPIKeyCommand
		}
		return "", err
	}
	out, err := c.run(ctx, "", "apikey", "create", "--client", clientID, "--name", "loadbench", "--scopes", scopes, "--json")
	if err != nil {
		return "", err
	}
	return parseCreatedAPIKey(out)
}

// unknownCommand reports whether a tollgate command failed because cobra
// does not know it.
func unknownCommand(err error) bool {
	var ce *commandError
	return errors.As(err, &ce) && strings.Contains(ce.stderr, "unknown command")
}

func parseCreatedAPIKey(out []byte) (string, error) {
	var v struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal(out, &v); err != nil || v.APIKey == "" {
		return "", fmt.Errorf("tollgate apikey create --json: no api_key in its output")
	}
	return v.APIKey, nil
}

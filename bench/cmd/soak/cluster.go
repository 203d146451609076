package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"
)

// nodeCount is how many tollgate serve processes share the stores.
const nodeCount = 3

// soakScope is the scope every token of the load carries.
const soakScope = "soak:read"

// userCount is how many users the password logins spread over.
const userCount = 4

// creds are a client's id and secret.
type creds struct{ id, secret string }

// fixtures are what the CLI created for the load.
type fixtures struct {
	cc        creds // client_credentials; also owns the API key
	web       creds // password and refresh_token
	rs        creds // a resource server: tollgate:introspect
	usernames []string
	password  string
	apiKey    string
}

// node is one running tollgate serve.
type node struct {
	name string
	base string // http://127.0.0.1:PORT
	proc *process
}

// buildTollgate builds ./cmd/tollgate into dir, its version stamped with
// git describe.
func buildTollgate(ctx context.Context, dir string, env []string) (string, error) {
	bin := filepath.Join(dir, "tollgate")
	ver := "soak"
	if out, err := runCommand(ctx, env, "", "git", "describe", "--always", "--dirty"); err == nil {
		ver = strings.TrimSpace(string(out))
	}
	_, err := runCommand(ctx, env, "", "go", "build", "-ldflags", "-X main.version="+ver, "-o", bin,
		"github.com/tollgate/tollgate/cmd/tollgate")
	if err != nil {
		return "", fmt.Errorf("building tollgate: %w", err)
	}
	return bin, nil
}

// masterKey returns a fresh TOLLGATE_MASTER_KEY.
func masterKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.StdEncoding.EncodeToString(b)
}

// tollgateCLI runs tollgate commands with the nodes' configuration.
type tollgateCLI struct {
	bin string
	env []string
}

func (c tollgateCLI) run(ctx context.Context, stdin string, args ...string) ([]byte, error) {
	return runCommand(ctx, c.env, stdin, append([]string{c.bin}, args...)...)
}

// createClient runs client create --json and returns the credentials.
func (c tollgateCLI) createClient(ctx context.Context, args ...string) (creds, error) {
	out, err := c.run(ctx, "", append([]string{"client", "create", "--json"}, args...)...)
	if err != nil {
		return creds{}, err
	}
	var v struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal(out, &v); err != nil || v.ID == "" || v.Secret == "" {
		return creds{}, fmt.Errorf("client create printed no client_id and client_secret (%v)", err)
	}
	return creds{v.ID, v.Secret}, nil
}

// createFixtures creates the clients, users and API key of the load.
func createFixtures(ctx context.Context, c tollgateCLI) (*fixtures, error) {
	f := &fixtures{password: rand.Text()}
	var err error
	if f.cc, err = c.createClient(ctx, "--name", "soak-cc", "--scopes", soakScope); err != nil {
		return nil, err
	}
	if f.web, err = c.createClient(ctx, "--name", "soak-web", "--grant-types", "password,refresh_token", "--scopes", soakScope); err != nil {
		return nil, err
	}
	if f.rs, err = c.createClient(ctx, "--name", "soak-rs", "--scopes", "tollgate:introspect"); err != nil {
		return nil, err
	}
	for i := range userCount {
		name := fmt.Sprintf("soak-user-%d", i)
		if _, err := c.run(ctx, f.password+"\n", "user", "create", "--username", name, "--password-stdin", "--json"); err != nil {
			return nil, err
		}
		f.usernames = append(f.usernames, name)
	}
	out, err := c.run(ctx, "", "apikey", "create", "--client", f.cc.id, "--name", "soak", "--scopes", soakScope, "--json")
	if err != nil {
		return nil, err
	}
	var k struct {
		Key string `json:"api_key"`
	}
	if err := json.Unmarshal(out, &k); err != nil || k.Key == "" {
		return nil, fmt.Errorf("apikey create printed no api_key (%v)", err)
	}
	f.apiKey = k.Key
	return f, nil
}

// startNodes starts nodeCount tollgate serve processes at once, as a
// deployment does, the first one's address being everyone's issuer, and
// waits until each is ready. With staggered, the first node is ready
// before the others start.
func startNodes(ctx context.Context, bin, dir string, environ []string, base map[string]string, staggered bool) ([]*node, error) {
	ports := make([]int, nodeCount)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	var nodes []*node
	for i, port := range ports {
		set := map[string]string{
			"TOLLGATE_ADDR":   fmt.Sprintf("127.0.0.1:%d", port),
			"TOLLGATE_ISSUER": fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
		}
		for k, v := range base {
			set[k] = v
		}
		name := fmt.Sprintf("node%d", i+1)
		p, err := startProcess(name, []string{bin, "serve"}, childEnv(environ, set), dir, filepath.Join(dir, name+".log"))
		if err != nil {
			return nodes, err
		}
		nodes = append(nodes, &node{name: name, base: fmt.Sprintf("http://127.0.0.1:%d", port), proc: p})
		if staggered && i == 0 {
			if err := waitReady(ctx, nodes[0], time.Minute); err != nil {
				return nodes, err
			}
		}
	}
	for _, n := range nodes {
		if err := waitReady(ctx, n, time.Minute); err != nil {
			return nodes, err
		}
	}
	return nodes, nil
}

// waitReady polls the node's /readyz until it answers 200.
func waitReady(ctx context.Context, n *node, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	for {
		if readyz(ctx, hc, n) {
			return nil
		}
		select {
		case <-n.proc.done:
			return fmt.Errorf("%s exited before it was ready (%v); its log ends with:\n%s", n.name, n.proc.waitErr, logTail(n.proc.logPath, 20))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready within %s: %w", n.name, timeout, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// readyz reports whether the node answers 200 on /readyz.
func readyz(ctx context.Context, hc *http.Client, n *node) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.base+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stopNodes stops every node (SIGTERM, then their drain).
func stopNodes(nodes []*node) error {
	var errs []error
	for _, n := range nodes {
		errs = append(errs, n.proc.stop(30*time.Second))
	}
	return errors.Join(errs...)
}

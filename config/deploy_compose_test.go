package config_test

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tollgate/tollgate/config"
)

// composeFile is the part of the Compose specification
// (https://compose-spec.io) deploy/docker-compose.yml uses. Decoding with
// KnownFields rejects any other key, so a misspelt one fails here instead of
// being ignored by Docker.
type composeFile struct {
	Name string `yaml:"name"`
	// XTollgate is the extension block the Tollgate services merge in.
	XTollgate composeService            `yaml:"x-tollgate"`
	Services  map[string]composeService `yaml:"services"`
	Networks  map[string]composeNetwork `yaml:"networks"`
	Volumes   map[string]*struct{}      `yaml:"volumes"`
}

type composeService struct {
	Image           string                       `yaml:"image"`
	Build           *composeBuild                `yaml:"build"`
	Command         []string                     `yaml:"command"`
	Environment     map[string]string            `yaml:"environment"`
	DependsOn       map[string]composeDependency `yaml:"depends_on"`
	Healthcheck     *composeHealthcheck          `yaml:"healthcheck"`
	Ports           []string                     `yaml:"ports"`
	Volumes         []string                     `yaml:"volumes"`
	Networks        map[string]composeServiceNet `yaml:"networks"`
	Restart         string                       `yaml:"restart"`
	StopGracePeriod string                       `yaml:"stop_grace_period"`
	ReadOnly        bool                         `yaml:"read_only"`
	CapDrop         []string                     `yaml:"cap_drop"`
	SecurityOpt     []string                     `yaml:"security_opt"`
	CPUs            float64                      `yaml:"cpus"`
	MemLimit        string                       `yaml:"mem_limit"`
}

type composeBuild struct {
	Context    string            `yaml:"context"`
	Dockerfile string            `yaml:"dockerfile"`
	Args       map[string]string `yaml:"args"`
}

type composeDependency struct {
	Condition string `yaml:"condition"`
}

type composeHealthcheck struct {
	Test     []string `yaml:"test"`
	Interval string   `yaml:"interval"`
	Timeout  string   `yaml:"timeout"`
	Retries  int      `yaml:"retries"`
}

type composeNetwork struct {
	IPAM struct {
		Config []struct {
			Subnet string `yaml:"subnet"`
		} `yaml:"config"`
	} `yaml:"ipam"`
}

type composeServiceNet struct {
	IPv4Address string `yaml:"ipv4_address"`
}

// readCompose decodes deploy/docker-compose.yml strictly: one document,
// known keys only. YAML merge keys (<<: *tollgate) are resolved.
func readCompose(t *testing.T) composeFile {
	t.Helper()
	f, err := os.Open(filepath.Join(deployDir, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	var c composeFile
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("deploy/docker-compose.yml: %v", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		t.Fatal("deploy/docker-compose.yml holds more than one YAML document")
	}
	return c
}

// interpolationRe matches Compose's ${NAME}, ${NAME:-default},
// ${NAME-default}, ${NAME:?message}, ${NAME?message} and $$.
var interpolationRe = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}`)

// interpolate resolves s as Compose does with the operator's environment
// env. A required variable (:? or ?) that is missing is an error.
func interpolate(s string, env map[string]string) (string, error) {
	var errs []error
	out := interpolationRe.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		g := interpolationRe.FindStringSubmatch(m)
		v, set := env[g[1]]
		unset := !set || (strings.HasPrefix(g[2], ":") && v == "")
		switch {
		case !unset:
			return v
		case strings.HasSuffix(g[2], "-"):
			return g[3]
		case strings.HasSuffix(g[2], "?"):
			errs = append(errs, fmt.Errorf("required variable %s is missing: %s", g[1], g[3]))
		}
		return ""
	})
	if strings.Contains(interpolationRe.ReplaceAllString(s, ""), "$") {
		errs = append(errs, fmt.Errorf("%q: interpolation these tests do not understand", s))
	}
	return out, errors.Join(errs...)
}

// operatorEnv is what the operator puts in deploy/.env: sentinel secrets, so
// a test can tell a value that came from them from a literal.
var operatorEnv = map[string]string{
	"TOLLGATE_MASTER_KEY": placeholderMasterKey,
	"POSTGRES_PASSWORD":   "operator-postgres-password",
}

// replicaRe names the Tollgate replicas behind the load balancer.
var replicaRe = regexp.MustCompile(`^tollgate-\d+$`)

func TestCompose(t *testing.T) {
	t.Parallel()
	c := readCompose(t)
	var replicas []string
	for name := range c.Services {
		if replicaRe.MatchString(name) {
			replicas = append(replicas, name)
		}
	}
	slices.Sort(replicas)
	if !slices.Equal(replicas, []string{"tollgate-1", "tollgate-2", "tollgate-3"}) {
		t.Fatalf("replicas %v, want tollgate-1, tollgate-2, tollgate-3", replicas)
	}
	checkComposeBackends(t, c)

	migrate := c.Services["migrate"]
	if !slices.Equal(migrate.Command, []string{"migrate"}) || migrate.Restart != "no" {
		t.Errorf("migrate runs %q with restart %q: want [migrate], run once", migrate.Command, migrate.Restart)
	}
	if migrate.DependsOn["postgres"].Condition != "service_healthy" {
		t.Errorf("migrate must wait for a healthy postgres: %+v", migrate.DependsOn)
	}
	checkEnvNames(t, "compose service migrate", slices.Collect(maps.Keys(migrate.Environment)))
	loadEnv(t, "compose service migrate", composeEnv(t, "migrate", migrate))

	issuers := map[string]bool{}
	for _, name := range replicas {
		issuers[checkComposeReplica(t, c, name).Issuer] = true
	}
	if len(issuers) != 1 {
		t.Errorf("replicas disagree on the issuer: %v; every node must use the load balancer's URL", issuers)
	}
	for _, dep := range replicas {
		if c.Services["lb"].DependsOn[dep].Condition == "" {
			t.Errorf("lb does not depend on %s", dep)
		}
	}
}

// checkComposeReplica checks one Tollgate replica: the image migrate ran,
// started after it, configured to share PostgreSQL, Redis and the
// load balancer's URL as issuer. It returns the replica's configuration.
func checkComposeReplica(t *testing.T, c composeFile, name string) config.Config {
	t.Helper()
	s, migrate, lb := c.Services[name], c.Services["migrate"], c.Services["lb"]
	where := "compose service " + name
	if s.Image != migrate.Image || s.Image == "" {
		t.Errorf("%s runs image %q, migrate runs %q: they must be one build", name, s.Image, migrate.Image)
	}
	if len(s.Command) != 0 && !slices.Equal(s.Command, []string{"serve"}) {
		t.Errorf("%s runs %q, want the image's default (serve)", name, s.Command)
	}
	want := map[string]string{"migrate": "service_completed_successfully", "postgres": "service_healthy", "redis": "service_healthy"}
	for dep, cond := range want {
		if got := s.DependsOn[dep].Condition; got != cond {
			t.Errorf("%s depends on %s with condition %q, want %s", name, dep, got, cond)
		}
	}
	checkEnvNames(t, where, slices.Collect(maps.Keys(s.Environment)))
	checkComposeSecrets(t, where, s.Environment)
	cfg := loadEnv(t, where, composeEnv(t, name, s))
	if cfg.Embedded() || cfg.Redis.URL == "" {
		t.Errorf("%s uses the embedded database or no Redis: replicas must share PostgreSQL and Redis", name)
	}
	if u, err := url.Parse(cfg.Issuer); err != nil || u.Port() != lbHostPort(t, lb) {
		t.Errorf("%s: issuer %s is not at the port the load balancer publishes, %s", name, cfg.Issuer, lbHostPort(t, lb))
	}
	if ma := cfg.Server.MetricsAddr; ma == "" || addrPort(t, ma) == addrPort(t, cfg.Addr) {
		t.Errorf("%s serves /metrics on its main port, which HAProxy publishes: set TOLLGATE_METRICS_ADDR", name)
	}
	if grace, err := time.ParseDuration(s.StopGracePeriod); err != nil || grace <= cfg.Server.ShutdownTimeout {
		t.Errorf("%s stop_grace_period %q must exceed TOLLGATE_SHUTDOWN_TIMEOUT %s", name, s.StopGracePeriod, cfg.Server.ShutdownTimeout)
	}
	if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") {
		t.Errorf("%s: want read_only and cap_drop [ALL]", name)
	}
	// Behind HAProxy every request comes from its address: trust its
	// X-Forwarded-For, and nobody else's.
	lbAddr := lb.Networks["default"].IPv4Address
	if got := cfg.Server.TrustedProxyList(); lbAddr == "" || !slices.Equal(got, []string{lbAddr}) {
		t.Errorf("%s trusts proxies %q, want exactly the load balancer's fixed address %q", name, got, lbAddr)
	}
	return cfg
}

// checkComposeBackends checks PostgreSQL, Redis, the build and the files
// and volumes the services mount.
func checkComposeBackends(t *testing.T, c composeFile) {
	t.Helper()
	pg, redis := c.Services["postgres"], c.Services["redis"]
	if pg.Image != "postgres:15" || redis.Image != "redis:7" {
		t.Errorf("images %q and %q, want postgres:15 and redis:7", pg.Image, redis.Image)
	}
	// Revocations and refresh tokens live in Redis.
	if i := slices.Index(redis.Command, "--appendonly"); i < 0 || i+1 >= len(redis.Command) || redis.Command[i+1] != "yes" {
		t.Errorf("redis command %q: want --appendonly yes", redis.Command)
	}
	for name, s := range map[string]composeService{"postgres": pg, "redis": redis} {
		if s.Healthcheck == nil || len(s.Healthcheck.Test) < 2 || s.Healthcheck.Test[0] != "CMD" {
			t.Errorf("%s needs an exec-form healthcheck: the replicas wait for it", name)
		}
	}
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(filepath.Join(deployDir, src)); err != nil {
					t.Errorf("%s mounts %s: %v", name, src, err)
				}
			} else if _, ok := c.Volumes[src]; !ok {
				t.Errorf("%s mounts volume %s, which volumes: does not declare", name, src)
			}
		}
		if b := s.Build; b != nil {
			if _, err := os.Stat(filepath.Join(deployDir, b.Context, b.Dockerfile)); err != nil {
				t.Errorf("%s builds %s in %s: %v", name, b.Dockerfile, b.Context, err)
			}
			if _, err := os.Stat(filepath.Join(deployDir, b.Context, "go.mod")); err != nil {
				t.Errorf("%s build context %s is not the module root: %v", name, b.Context, err)
			}
		}
	}
}

// checkComposeSecrets checks that every secret a replica gets comes from
// the operator's environment: a literal in the file would be shared by
// every checkout.
func checkComposeSecrets(t *testing.T, where string, env map[string]string) {
	t.Helper()
	for name, raw := range env {
		if !isSecretEnv(name) {
			continue
		}
		v, err := interpolate(raw, operatorEnv)
		if err != nil {
			t.Errorf("%s: %s: %v", where, name, err)
			continue
		}
		secret := v
		if u, err := url.Parse(v); err == nil && u.Scheme != "" {
			p, ok := u.User.Password()
			if !ok {
				continue // no credentials in it, e.g. redis://redis:6379/0
			}
			secret = p
		}
		if !slices.Contains(slices.Collect(maps.Values(operatorEnv)), secret) {
			t.Errorf("%s: %s carries a literal secret; interpolate it, e.g. ${VAR:?message}", where, name)
		}
		if _, err := interpolate(raw, nil); err == nil {
			t.Errorf("%s: %s resolves without the operator setting anything; use ${VAR:?message}", where, name)
		}
	}
}

// composeEnv returns the environment of a Tollgate container: the image's
// ENV, then the service's environment interpolated with operatorEnv.
func composeEnv(t *testing.T, name string, s composeService) map[string]string {
	t.Helper()
	env := imageEnv(t)
	for k, raw := range s.Environment {
		v, err := interpolate(raw, operatorEnv)
		if err != nil {
			t.Fatalf("compose service %s: %s: %v", name, k, err)
		}
		env[k] = v
	}
	return env
}

// lbHostPort returns the host port the load balancer publishes.
func lbHostPort(t *testing.T, lb composeService) string {
	t.Helper()
	if len(lb.Ports) != 1 {
		t.Fatalf("lb publishes %q, want one HOST:CONTAINER port", lb.Ports)
	}
	host, _, ok := strings.Cut(lb.Ports[0], ":")
	if !ok {
		t.Fatalf("lb port %q: write HOST:CONTAINER", lb.Ports[0])
	}
	return host
}

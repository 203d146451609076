package config_test

import (
	"maps"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/tollgate/tollgate/config"
)

// checkPodSecurity checks every container of spec runs as a non-root user
// on a read-only root filesystem with no capabilities, and has resources.
func checkPodSecurity(t *testing.T, spec corev1.PodSpec) {
	t.Helper()
	pod := spec.SecurityContext
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("automountServiceAccountToken must be false: Tollgate never calls the Kubernetes API")
	}
	for _, c := range spec.Containers {
		sc := c.SecurityContext
		if sc == nil {
			t.Errorf("container %s has no securityContext", c.Name)
			continue
		}
		nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) || (sc.RunAsNonRoot == nil && pod.RunAsNonRoot != nil && *pod.RunAsNonRoot)
		if !nonRoot {
			t.Errorf("container %s: runAsNonRoot is not true", c.Name)
		}
		for _, uid := range []*int64{sc.RunAsUser, pod.RunAsUser} {
			if uid != nil && *uid == 0 {
				t.Errorf("container %s runs as uid 0", c.Name)
			}
		}
		checks := []struct {
			ok   bool
			want string
		}{
			{sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem, "readOnlyRootFilesystem: true"},
			{sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation, "allowPrivilegeEscalation: false"},
			{sc.Privileged == nil || !*sc.Privileged, "not privileged"},
			{sc.Capabilities != nil && slices.Contains(sc.Capabilities.Drop, "ALL"), "capabilities.drop [ALL]"},
			{!c.Resources.Requests.Cpu().IsZero() && !c.Resources.Requests.Memory().IsZero(), "cpu and memory requests"},
			{!c.Resources.Limits.Cpu().IsZero() && !c.Resources.Limits.Memory().IsZero(), "cpu and memory limits (the CPU limit sets GOMAXPROCS)"},
		}
		for _, ck := range checks {
			if !ck.ok {
				t.Errorf("container %s: want %s", c.Name, ck.want)
			}
		}
	}
}

// checkPodEnv checks the environment of the server and migration pods:
// every TOLLGATE_* name is one Tollgate reads, secrets come from one Secret
// through secretKeyRef and never from the ConfigMap or a literal, and the
// resulting configuration passes Validate. It returns the server's.
func checkPodEnv(t *testing.T, m *manifests) config.Config {
	t.Helper()
	for k := range m.configMap.Data {
		if isSecretEnv(k) {
			t.Errorf("ConfigMap %s holds %s: secrets belong in the Secret", m.configMap.Name, k)
		}
	}
	checkEnvNames(t, "ConfigMap "+m.configMap.Name, slices.Collect(maps.Keys(m.configMap.Data)))

	refs := map[string]corev1.SecretKeySelector{} // shared by both pods
	var cfg config.Config
	pods := []struct {
		name    string
		spec    corev1.PodSpec
		secrets []string // the secrets the command cannot do without
	}{
		{"Deployment", m.deployment.Spec.Template.Spec, []string{"TOLLGATE_MASTER_KEY", "TOLLGATE_DATABASE_URL", "TOLLGATE_REDIS_URL"}},
		{"Job", m.job.Spec.Template.Spec, []string{"TOLLGATE_MASTER_KEY", "TOLLGATE_DATABASE_URL"}},
	}
	for _, p := range pods {
		env := podEnv(t, p.name, p.spec.Containers[0], m.configMap, refs)
		for _, s := range p.secrets {
			if env[s] != placeholderSecret(s) {
				t.Errorf("%s does not take %s from the Secret", p.name, s)
			}
		}
		if got := loadEnv(t, p.name, env); p.name == "Deployment" {
			cfg = got
		}
	}
	secrets := map[string]bool{}
	for _, r := range refs {
		secrets[r.Name] = true
	}
	if len(secrets) != 1 {
		t.Errorf("secrets come from %d Secrets %v, want one to create", len(secrets), secrets)
	}
	return cfg
}

// podEnv returns the environment c starts with: the image's ENV, the
// ConfigMap, then env, each secret replaced by its placeholder. It records
// in refs where each secret comes from, and reports a secret set any other
// way or read from two places.
func podEnv(t *testing.T, pod string, c corev1.Container, cm corev1.ConfigMap, refs map[string]corev1.SecretKeySelector) map[string]string {
	t.Helper()
	env := imageEnv(t)
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil || from.ConfigMapRef.Name != cm.Name || from.Prefix != "" {
			t.Errorf("%s envFrom %+v: want only configMapRef %s, without prefix", pod, from, cm.Name)
			continue
		}
		maps.Copy(env, cm.Data)
	}
	var names []string
	for _, e := range c.Env {
		names = append(names, e.Name)
		if !isSecretEnv(e.Name) {
			env[e.Name] = e.Value
			continue
		}
		if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("%s sets %s without a secretKeyRef: secrets must come from a Secret", pod, e.Name)
			continue
		}
		ref := *e.ValueFrom.SecretKeyRef
		if prev, ok := refs[e.Name]; ok && (prev.Name != ref.Name || prev.Key != ref.Key) {
			t.Errorf("%s reads %s from %s/%s, another pod from %s/%s", pod, e.Name, ref.Name, ref.Key, prev.Name, prev.Key)
		}
		refs[e.Name] = ref
		env[e.Name] = placeholderSecret(e.Name)
	}
	checkEnvNames(t, pod, names)
	return env
}

// placeholderSecret stands for the value an operator stores in the Secret.
func placeholderSecret(name string) string {
	switch name {
	case "TOLLGATE_MASTER_KEY":
		return placeholderMasterKey
	case "TOLLGATE_DATABASE_URL":
		return "postgres://tollgate:secret@postgres.example:5432/tollgate"
	case "TOLLGATE_REDIS_URL":
		return "rediss://:secret@redis.example:6380/0"
	}
	return "secret"
}

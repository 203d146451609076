package config_test

import (
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/tollgate/tollgate/config"
)

// kustomizations are the directories under deploy/ that must render.
var kustomizations = []string{"k8s/base", "k8s/overlays/example"}

// manifests holds one rendered kustomization, each object decoded into its
// k8s.io/api type.
type manifests struct {
	deployment appsv1.Deployment
	service    corev1.Service
	configMap  corev1.ConfigMap
	hpa        autoscalingv2.HorizontalPodAutoscaler
	pdb        policyv1.PodDisruptionBudget
	job        batchv1.Job
}

// targets maps apiVersion/kind to where the object decodes.
func (m *manifests) targets() map[string]any {
	return map[string]any{
		"apps/v1/Deployment":                     &m.deployment,
		"v1/Service":                             &m.service,
		"v1/ConfigMap":                           &m.configMap,
		"autoscaling/v2/HorizontalPodAutoscaler": &m.hpa,
		"policy/v1/PodDisruptionBudget":          &m.pdb,
		"batch/v1/Job":                           &m.job,
	}
}

// decodeStrict decodes one YAML object the way the API server's strict
// field validation does: duplicate keys, unknown fields and fields in the
// wrong case are errors.
func decodeStrict(y []byte, into any) error {
	j, err := yaml.YAMLToJSONStrict(y)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(j, into)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// render runs kustomize in-process on deploy/dir and decodes every object
// strictly. Each expected kind must appear exactly once, and nothing else.
func render(t *testing.T, dir string) *manifests {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(deployDir, filepath.FromSlash(dir)))
	if err != nil {
		t.Fatalf("kustomize build deploy/%s: %v", dir, err)
	}
	m := &manifests{}
	targets := m.targets()
	seen := map[string]int{}
	for _, r := range rm.Resources() {
		gvk := r.GetApiVersion() + "/" + r.GetKind()
		into, ok := targets[gvk]
		if !ok {
			t.Errorf("%s %s: not a kind these tests decode; add it to manifests", gvk, r.GetName())
			continue
		}
		seen[gvk]++
		y, err := r.AsYAML()
		if err == nil {
			err = decodeStrict(y, into)
		}
		if err != nil {
			t.Errorf("%s %s does not decode strictly: %v", gvk, r.GetName(), err)
		}
	}
	for gvk := range targets {
		if seen[gvk] != 1 {
			t.Errorf("deploy/%s renders %d %s, want 1", dir, seen[gvk], gvk)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return m
}

func TestKustomize(t *testing.T) {
	t.Parallel()
	for _, dir := range kustomizations {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			m := render(t, dir)
			cfg := checkPodEnv(t, m)
			checkServerPod(t, m, cfg)
			checkMigrationJob(t, m)
			checkSelectors(t, m)
			for _, spec := range []corev1.PodSpec{m.deployment.Spec.Template.Spec, m.job.Spec.Template.Spec} {
				checkPodSecurity(t, spec)
			}
		})
	}
}

// checkServerPod checks the Deployment's container: the image's entrypoint
// runs `serve`, both probes hit the port Tollgate listens on, and a pod
// stopping gets the time to drain.
func checkServerPod(t *testing.T, m *manifests, cfg config.Config) {
	t.Helper()
	spec := m.deployment.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("Deployment has %d containers, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	if len(c.Command) != 0 || !slices.Equal(c.Args, []string{"serve"}) {
		t.Errorf("container runs command %q args %q, want the image's entrypoint with args [serve]", c.Command, c.Args)
	}
	listen, _ := strconv.Atoi(addrPort(t, cfg.Addr))
	probes := []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{"readinessProbe", c.ReadinessProbe, "/readyz"},
		{"livenessProbe", c.LivenessProbe, "/healthz"},
	}
	for _, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s: want an httpGet probe on %s", p.name, p.path)
			continue
		}
		if p.probe.HTTPGet.Path != p.path {
			t.Errorf("%s checks %s, want %s", p.name, p.probe.HTTPGet.Path, p.path)
		}
		if got := containerPort(t, c, p.probe.HTTPGet.Port); got != listen {
			t.Errorf("%s probes port %d, but TOLLGATE_ADDR %s listens on %d", p.name, got, cfg.Addr, listen)
		}
	}

	checkMetricsPort(t, m, c, cfg)

	// Kubernetes sends SIGTERM after preStop and SIGKILL at the end of the
	// grace period, which both share.
	var preStop time.Duration
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
		preStop = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	}
	grace := 30 * time.Second // the Kubernetes default
	if spec.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
	}
	if need := preStop + cfg.Server.ShutdownTimeout; grace <= need {
		t.Errorf("terminationGracePeriodSeconds %s does not exceed preStop %s + TOLLGATE_SHUTDOWN_TIMEOUT %s",
			grace, preStop, cfg.Server.ShutdownTimeout)
	}
	// Kubernetes documents that an HPA-managed Deployment leaves replicas
	// out, or every apply resets the count.
	if m.deployment.Spec.Replicas != nil {
		t.Errorf("Deployment sets replicas %d, which the HorizontalPodAutoscaler owns", *m.deployment.Spec.Replicas)
	}
}

// checkMetricsPort checks that /metrics has a listener of its own that the
// container declares and the Service does not expose: on the main listener
// it would be public through the Service and the Ingress.
func checkMetricsPort(t *testing.T, m *manifests, c corev1.Container, cfg config.Config) {
	t.Helper()
	switch ma := cfg.Server.MetricsAddr; ma {
	case "":
		t.Error("TOLLGATE_METRICS_ADDR is empty: /metrics would be served to everyone on the main port; give it a port of its own")
	case "off":
	default:
		metrics, _ := strconv.Atoi(addrPort(t, ma))
		if got := containerPort(t, c, intstr.FromString("metrics")); got != metrics {
			t.Errorf("container port metrics is %d, TOLLGATE_METRICS_ADDR %s listens on %d", got, ma, metrics)
		}
		for _, p := range m.service.Spec.Ports {
			if containerPort(t, c, p.TargetPort) == metrics {
				t.Errorf("Service port %s exposes the metrics listener", p.Name)
			}
		}
	}
}

// containerPort resolves a probe or Service port, by name or number, to one
// the container declares.
func containerPort(t *testing.T, c corev1.Container, p intstr.IntOrString) int {
	t.Helper()
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return int(cp.ContainerPort)
		}
	}
	t.Errorf("container %s declares no port %s", c.Name, p.String())
	return 0
}

// checkMigrationJob checks that the Job runs `tollgate migrate` from the
// very image the Deployment runs, once, without restarting forever.
func checkMigrationJob(t *testing.T, m *manifests) {
	t.Helper()
	spec := m.job.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("migration Job has %d containers, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	if len(c.Command) != 0 || !slices.Equal(c.Args, []string{"migrate"}) {
		t.Errorf("migration Job runs command %q args %q, want the image's entrypoint with args [migrate]", c.Command, c.Args)
	}
	if img := m.deployment.Spec.Template.Spec.Containers[0].Image; c.Image != img {
		t.Errorf("migration Job image %q differs from the Deployment's %q", c.Image, img)
	}
	if spec.RestartPolicy != corev1.RestartPolicyNever && spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("migration Job restartPolicy %q, want Never or OnFailure", spec.RestartPolicy)
	}
	if m.job.Spec.BackoffLimit == nil || m.job.Spec.ActiveDeadlineSeconds == nil {
		t.Error("migration Job needs backoffLimit and activeDeadlineSeconds so a broken migration stops")
	}
}

// checkSelectors checks the wiring between objects: the Service, the
// budget and the autoscaler all reach the server pods, and only them.
func checkSelectors(t *testing.T, m *manifests) {
	t.Helper()
	d := m.deployment
	pods := labels.Set(d.Spec.Template.Labels)
	migrators := labels.Set(m.job.Spec.Template.Labels)
	sel := labels.SelectorFromSet(d.Spec.Selector.MatchLabels)
	if !sel.Matches(pods) {
		t.Errorf("Deployment selector %s does not match its own pods %v", sel, pods)
	}
	if sel.Matches(migrators) {
		t.Errorf("Deployment selector %s also matches the migration Job's pods", sel)
	}
	svc := labels.SelectorFromSet(m.service.Spec.Selector)
	if len(m.service.Spec.Selector) == 0 || !svc.Matches(pods) || svc.Matches(migrators) {
		t.Errorf("Service selector %s must match the server pods %v and not the migration pods %v", svc, pods, migrators)
	}
	for _, p := range m.service.Spec.Ports {
		containerPort(t, d.Spec.Template.Spec.Containers[0], p.TargetPort)
	}
	if m.pdb.Spec.Selector == nil || !labels.SelectorFromSet(m.pdb.Spec.Selector.MatchLabels).Matches(pods) {
		t.Errorf("PodDisruptionBudget selector does not match the server pods %v", pods)
	}
	ref := m.hpa.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != d.Name {
		t.Errorf("HPA scales %s %s %s, want apps/v1 Deployment %s", ref.APIVersion, ref.Kind, ref.Name, d.Name)
	}
	minReplicas := int32(1)
	if m.hpa.Spec.MinReplicas != nil {
		minReplicas = *m.hpa.Spec.MinReplicas
	}
	if minReplicas < 2 || m.hpa.Spec.MaxReplicas < minReplicas {
		t.Errorf("HPA scales %d..%d: keep at least 2 pods so one can be lost", minReplicas, m.hpa.Spec.MaxReplicas)
	}
	if mu := m.pdb.Spec.MaxUnavailable; mu == nil || mu.Type != intstr.Int || mu.IntVal < 1 || mu.IntVal >= minReplicas {
		t.Errorf("PodDisruptionBudget maxUnavailable %v: want a number of pods from 1 to below minReplicas %d", mu, minReplicas)
	}
}

// TestDecodeStrictRejects shows the decoding above is strict: each of these
// mistakes would otherwise be dropped silently by kubectl's lenient path or
// by encoding/json.
func TestDecodeStrictRejects(t *testing.T) {
	t.Parallel()
	const head = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n"
	tests := []struct {
		name string
		spec string
		ok   bool
	}{
		{"valid", "  replicas: 3\n  minReadySeconds: 5\n", true},
		{"misspelt field", "  replica: 3\n", false},
		{"field in the wrong case", "  Replicas: 3\n", false},
		{"duplicate field", "  replicas: 3\n  replicas: 4\n", false},
		{"wrong type", "  replicas: three\n", false},
		{"unknown nested field", "  template:\n    spec:\n      containers:\n        - name: a\n          readinesProbe: {}\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var d appsv1.Deployment
			err := decodeStrict([]byte(head+tt.spec), &d)
			if (err == nil) != tt.ok {
				t.Errorf("decodeStrict: err = %v, want ok = %v", err, tt.ok)
			}
			if tt.ok && (d.Spec.Replicas == nil || *d.Spec.Replicas != 3) {
				t.Errorf("decoded replicas %v, want 3", d.Spec.Replicas)
			}
		})
	}
}

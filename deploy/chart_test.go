package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/driftlock/driftlock/internal/config"
)

const chartDir = "helm/driftlock"

// scaledObject mirrors the fields of KEDA's keda.sh/v1alpha1 ScaledObject
// that the chart may set (github.com/kedacore/keda/v2/apis/keda/v1alpha1),
// so that strict decoding catches a misspelt field.
type scaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		ScaleTargetRef struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Name       string `json:"name"`
		} `json:"scaleTargetRef"`
		PollingInterval *int32 `json:"pollingInterval,omitempty"`
		CooldownPeriod  *int32 `json:"cooldownPeriod,omitempty"`
		MinReplicaCount *int32 `json:"minReplicaCount,omitempty"`
		MaxReplicaCount *int32 `json:"maxReplicaCount,omitempty"`
		Triggers        []struct {
			Type              string            `json:"type"`
			Metadata          map[string]string `json:"metadata"`
			AuthenticationRef *struct {
				Name string `json:"name"`
				Kind string `json:"kind,omitempty"`
			} `json:"authenticationRef,omitempty"`
		} `json:"triggers"`
	} `json:"spec"`
}

// triggerAuthentication mirrors KEDA's keda.sh/v1alpha1 TriggerAuthentication.
type triggerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		SecretTargetRef []struct {
			Parameter string `json:"parameter"`
			Name      string `json:"name"`
			Key       string `json:"key"`
		} `json:"secretTargetRef,omitempty"`
		Env []struct {
			Parameter     string `json:"parameter"`
			Name          string `json:"name"`
			ContainerName string `json:"containerName,omitempty"`
		} `json:"env,omitempty"`
	} `json:"spec"`
}

// newObject returns an empty typed object for apiVersion and kind.
func newObject(apiVersion, kind string) (any, bool) {
	switch apiVersion + "/" + kind {
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, true
	case "v1/Service":
		return &corev1.Service{}, true
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}, true
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, true
	case "autoscaling/v2/HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, true
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	case "networking.k8s.io/v1/Ingress":
		return &networkingv1.Ingress{}, true
	case "networking.k8s.io/v1/NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, true
	case "batch/v1/Job":
		return &batchv1.Job{}, true
	case "monitoring.coreos.com/v1/ServiceMonitor":
		return &monitoringv1.ServiceMonitor{}, true
	case "monitoring.coreos.com/v1/PodMonitor":
		return &monitoringv1.PodMonitor{}, true
	case "keda.sh/v1alpha1/ScaledObject":
		return &scaledObject{}, true
	case "keda.sh/v1alpha1/TriggerAuthentication":
		return &triggerAuthentication{}, true
	}
	return nil, false
}

// rendered is the output of helm template, decoded: kind/name -> object.
type rendered map[string]any

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// render runs helm template with args and decodes every document strictly.
func render(t *testing.T, helm string, args ...string) rendered {
	t.Helper()
	out, stderr, err := run(t, helm, append([]string{"template", "rel", chartDir, "--namespace", "obs"}, args...)...)
	if err != nil {
		t.Fatalf("helm template %v: %v\n%s", args, err, stderr)
	}
	objs := rendered{}
	for _, doc := range docSep.Split(out, -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var head metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("not YAML: %v\n%s", err, doc)
		}
		obj, ok := newObject(head.APIVersion, head.Kind)
		if !ok {
			t.Fatalf("unexpected object %s %s in the chart's output", head.APIVersion, head.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("%s does not decode strictly: %v\n%s", head.Kind, err, doc)
		}
		m := obj.(metav1.ObjectMetaAccessor).GetObjectMeta()
		if m.GetNamespace() != "obs" {
			t.Errorf("%s %s: namespace %q, want the release's", head.Kind, m.GetName(), m.GetNamespace())
		}
		key := head.Kind + "/" + m.GetName()
		if _, dup := objs[key]; dup {
			t.Errorf("%s rendered twice", key)
		}
		objs[key] = obj
	}
	return objs
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func (r rendered) kinds() []string {
	var ks []string
	for k := range r {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func get[T any](t *testing.T, r rendered, key string) T {
	t.Helper()
	o, ok := r[key]
	if !ok {
		t.Fatalf("%s not rendered; rendered: %v", key, r.kinds())
	}
	return o.(T)
}

func TestChartLint(t *testing.T) {
	helm := tool(t, "helm")
	for _, args := range [][]string{nil, {"-f", chartDir + "/ci/all-on-values.yaml"}, {"-f", "testdata/podmonitor-values.yaml"}} {
		out, stderr, err := run(t, helm, append([]string{"lint", "--strict", chartDir}, args...)...)
		if err != nil {
			t.Errorf("helm lint %v: %v\n%s%s", args, err, out, stderr)
		}
	}
}

func TestChartDefaults(t *testing.T) {
	r := render(t, tool(t, "helm"))
	want := []string{
		"ConfigMap/rel-driftlock", "Deployment/rel-driftlock-console", "Deployment/rel-driftlock-detector",
		"Deployment/rel-driftlock-ingest", "HorizontalPodAutoscaler/rel-driftlock-detector",
		"HorizontalPodAutoscaler/rel-driftlock-ingest", "PodDisruptionBudget/rel-driftlock-detector",
		"PodDisruptionBudget/rel-driftlock-ingest", "Service/rel-driftlock-console", "Service/rel-driftlock-detector",
		"Service/rel-driftlock-ingest", "ServiceAccount/rel-driftlock",
	}
	if got := r.kinds(); !slices.Equal(got, want) {
		t.Errorf("objects:\n got %v\nwant %v", got, want)
	}
	checkPods(t, r, 3)
	checkConfig(t, r, 3)
	svc := get[*corev1.Service](t, r, "Service/rel-driftlock-ingest")
	for _, p := range svc.Spec.Ports {
		if p.AppProtocol == nil {
			t.Errorf("ingest Service port %s has no appProtocol", p.Name)
		}
	}
	if ap := *svc.Spec.Ports[0].AppProtocol; svc.Spec.Ports[0].Port != 4317 || ap != "grpc" {
		t.Errorf("first ingest port %d %s, want 4317 grpc", svc.Spec.Ports[0].Port, ap)
	}
	det := get[*appsv1.Deployment](t, r, "Deployment/rel-driftlock-detector")
	if g := *det.Spec.Template.Spec.TerminationGracePeriodSeconds; g < 60 {
		t.Errorf("detector terminationGracePeriodSeconds %d, want at least 60 to publish and commit", g)
	}
}

func TestChartAllOptions(t *testing.T) {
	r := render(t, tool(t, "helm"), "-f", chartDir+"/ci/all-on-values.yaml")
	for _, key := range []string{
		"ScaledObject/rel-driftlock-detector", "TriggerAuthentication/rel-driftlock-detector",
		"Ingress/rel-driftlock-console", "Job/rel-driftlock-topics",
		"NetworkPolicy/rel-driftlock-ingest", "NetworkPolicy/rel-driftlock-detector", "NetworkPolicy/rel-driftlock-console",
		"ServiceMonitor/rel-driftlock-ingest", "ServiceMonitor/rel-driftlock-detector", "ServiceMonitor/rel-driftlock-console",
		"HorizontalPodAutoscaler/rel-driftlock-ingest",
	} {
		if _, ok := r[key]; !ok {
			t.Errorf("%s not rendered", key)
		}
	}
	if _, ok := r["HorizontalPodAutoscaler/rel-driftlock-detector"]; ok {
		t.Error("detector has both a KEDA ScaledObject and an HPA")
	}
	checkPods(t, r, 12)
	cfg := checkConfig(t, r, 12)
	if cfg.Kafka.CAFile != "/etc/driftlock/tls/ca.crt" || cfg.Kafka.SASL.Mechanism != "SCRAM-SHA-512" || cfg.Kafka.SASL.Password != "" {
		t.Errorf("kafka config %+v: want the CA file mounted from the Secret and no password in the ConfigMap", cfg.Kafka)
	}

	so := get[*scaledObject](t, r, "ScaledObject/rel-driftlock-detector")
	trig := so.Spec.Triggers[0]
	if trig.Type != "kafka" || trig.Metadata["consumerGroup"] != "driftlock-detector" || trig.Metadata["topic"] != "otlp-events" ||
		trig.Metadata["allowIdleConsumers"] != "false" || trig.Metadata["sasl"] != "scram_sha512" || trig.AuthenticationRef == nil {
		t.Errorf("KEDA trigger %+v", trig)
	}
	ta := get[*triggerAuthentication](t, r, "TriggerAuthentication/rel-driftlock-detector")
	if len(ta.Spec.SecretTargetRef) != 4 || ta.Spec.SecretTargetRef[0].Name != "kafka-sasl" {
		t.Errorf("TriggerAuthentication secrets %+v", ta.Spec.SecretTargetRef)
	}

	// Passwords and tokens come from the existing Secrets, by reference.
	refs := map[string]string{}
	for _, name := range []string{"ingest", "detector", "console"} {
		d := get[*appsv1.Deployment](t, r, "Deployment/rel-driftlock-"+name)
		for _, e := range d.Spec.Template.Spec.Containers[0].Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				refs[name+" "+e.Name] = e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
			}
		}
	}
	for k, v := range map[string]string{
		"ingest DRIFTLOCK_KAFKA_SASL_PASSWORD":   "kafka-sasl/password",
		"detector DRIFTLOCK_KAFKA_SASL_PASSWORD": "kafka-sasl/password",
		"console DRIFTLOCK_KAFKA_SASL_PASSWORD":  "kafka-sasl/password",
		"console DRIFTLOCK_CONSOLE_AUTH_TOKEN":   "driftlock-console/token",
	} {
		if refs[k] != v {
			t.Errorf("%s from %q, want Secret %s", k, refs[k], v)
		}
	}
	checkIngestSecurity(t, r)
	job := get[*batchv1.Job](t, r, "Job/rel-driftlock-topics")
	script := strings.Join(job.Spec.Template.Spec.Containers[0].Args, "\n")
	for _, want := range []string{`create "otlp-events" 12 retention.ms=86400000`, `create "driftlock-state" 12 cleanup.policy=compact`, `create "driftlock-detector-state" 12 cleanup.policy=compact`, "--replication-factor 3", "SASL_SSL"} {
		if !strings.Contains(script, want) {
			t.Errorf("topic job script lacks %q:\n%s", want, script)
		}
	}
	// Checkpoints off: no state topic.
	r = render(t, tool(t, "helm"), "-f", chartDir+"/ci/all-on-values.yaml", "--set", "config.detector.checkpoint_records=0")
	job = get[*batchv1.Job](t, r, "Job/rel-driftlock-topics")
	if script := strings.Join(job.Spec.Template.Spec.Containers[0].Args, "\n"); strings.Contains(script, "driftlock-detector-state") {
		t.Errorf("topic job creates the state topic with checkpoints off:\n%s", script)
	}
}

// checkIngestSecurity checks that the ingest's OTLP tokens and certificate
// come from the Secrets mounted as directories (so renewals reach the pod),
// under environment variables that name real configuration keys.
func checkIngestSecurity(t *testing.T, r rendered) {
	t.Helper()
	d := get[*appsv1.Deployment](t, r, "Deployment/rel-driftlock-ingest")
	env := map[string]string{}
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	envOf := func(key string) string {
		return config.EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
	}
	for key, want := range map[string]string{
		"ingest.auth.tokens_file":   "/etc/driftlock/otlp-auth/tokens",
		"ingest.auth.client_header": "true",
		"ingest.tls.cert_file":      "/etc/driftlock/otlp-tls/tls.crt",
		"ingest.tls.key_file":       "/etc/driftlock/otlp-tls/tls.key",
		"ingest.tls.client_ca_file": "/etc/driftlock/otlp-tls/ca.crt",
		"ingest.tls.min_version":    "1.3",
	} {
		if !slices.Contains(config.Keys(), key) {
			t.Errorf("%s is not a configuration key", key)
		}
		if got := env[envOf(key)]; got != want {
			t.Errorf("ingest %s = %q, want %q", envOf(key), got, want)
		}
	}
	mounts := map[string]string{}
	for _, m := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
		mounts[m.Name] = m.MountPath
		if m.SubPath != "" {
			t.Errorf("volume %s mounted with subPath %q: a renewed Secret would not reach the pod", m.Name, m.SubPath)
		}
	}
	secrets := map[string]string{}
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			secrets[v.Name] = v.Secret.SecretName
		}
	}
	if mounts["otlp-auth"] != "/etc/driftlock/otlp-auth" || secrets["otlp-auth"] != "driftlock-otlp-tokens" ||
		mounts["otlp-tls"] != "/etc/driftlock/otlp-tls" || secrets["otlp-tls"] != "driftlock-otlp-tls" {
		t.Errorf("ingest mounts %v, Secret volumes %v", mounts, secrets)
	}
	for _, name := range []string{"detector", "console"} {
		p := get[*appsv1.Deployment](t, r, "Deployment/rel-driftlock-"+name).Spec.Template.Spec
		for _, v := range p.Volumes {
			if v.Name == "otlp-auth" || v.Name == "otlp-tls" {
				t.Errorf("%s mounts the ingest's Secret %s", name, v.Name)
			}
		}
	}
}

func TestChartPodMonitorsAndFixedReplicas(t *testing.T) {
	r := render(t, tool(t, "helm"), "-f", "testdata/podmonitor-values.yaml")
	for _, c := range []string{"ingest", "detector", "console"} {
		get[*monitoringv1.PodMonitor](t, r, "PodMonitor/rel-driftlock-"+c)
	}
	for _, k := range r.kinds() {
		if strings.HasPrefix(k, "HorizontalPodAutoscaler/") || strings.HasPrefix(k, "ServiceAccount/") || k == "PodDisruptionBudget/rel-driftlock-ingest" {
			t.Errorf("%s rendered though turned off", k)
		}
	}
	if n := *get[*appsv1.Deployment](t, r, "Deployment/rel-driftlock-detector").Spec.Replicas; n != 3 {
		t.Errorf("detector replicas %d, want 3", n)
	}
}

// TestChartKEDAWhenPresent: in auto mode the detector scales on lag when
// the cluster serves KEDA's API, on CPU otherwise (TestChartDefaults).
func TestChartKEDAWhenPresent(t *testing.T) {
	r := render(t, tool(t, "helm"), "--api-versions", "keda.sh/v1alpha1")
	so := get[*scaledObject](t, r, "ScaledObject/rel-driftlock-detector")
	if *so.Spec.MaxReplicaCount != 3 || so.Spec.Triggers[0].AuthenticationRef != nil {
		t.Errorf("ScaledObject %+v", so.Spec)
	}
	if _, ok := r["HorizontalPodAutoscaler/rel-driftlock-detector"]; ok {
		t.Error("detector HPA rendered beside the ScaledObject")
	}
}

// TestChartRefusesBadValues: the schema names each bad value, and the chart
// refuses more detector replicas than partitions.
func TestChartRefusesBadValues(t *testing.T) {
	helm := tool(t, "helm")
	for _, c := range []struct {
		file string
		want []string
	}{
		{"testdata/bad-values.yaml", []string{
			"values don't meet the specifications of the schema",
			"at '/config/detector/window_size': minimum: got 4, want 8",
			"at '/kafka/compression': value must be one of 'none', 'gzip', 'snappy', 'lz4', 'zstd'",
		}},
		{"testdata/too-many-detectors-values.yaml", []string{
			"detector.autoscaling.maxReplicas (8) must not exceed kafka.topics.events.partitions (4)",
		}},
	} {
		_, stderr, err := run(t, helm, "template", "rel", chartDir, "-f", c.file)
		if err == nil {
			t.Errorf("%s: helm template succeeded", c.file)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: message lacks %q:\n%s", c.file, w, stderr)
			}
		}
	}
	_, stderr, err := run(t, helm, "template", "rel", chartDir, "--set", "detector.autoscaling.enabled=false", "--set", "detector.replicas=4")
	if err == nil || !strings.Contains(stderr, "detector.replicas (4) must not exceed kafka.topics.events.partitions (3)") {
		t.Errorf("4 fixed detector replicas on 3 partitions: err %v\n%s", err, stderr)
	}
}

// checkPods checks what every DriftLock pod must have: non-root, read-only,
// no privilege escalation, probes, requests and limits; and that detector
// replicas stay within the partitions.
func checkPods(t *testing.T, r rendered, partitions int32) {
	t.Helper()
	for _, name := range []string{"ingest", "detector", "console"} {
		d := get[*appsv1.Deployment](t, r, "Deployment/rel-driftlock-"+name)
		ps := d.Spec.Template.Spec
		if ps.SecurityContext == nil || ps.SecurityContext.RunAsNonRoot == nil || !*ps.SecurityContext.RunAsNonRoot {
			t.Errorf("%s: pod not runAsNonRoot", name)
		}
		if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
			t.Errorf("%s: service account token mounted", name)
		}
		if d.Spec.Template.Annotations["checksum/config"] == "" {
			t.Errorf("%s: no config checksum: pods would not restart on a config change", name)
		}
		for _, c := range ps.Containers {
			sc := c.SecurityContext
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
				sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
				sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
				t.Errorf("%s/%s: securityContext %+v", name, c.Name, sc)
			}
			if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" ||
				c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Errorf("%s/%s: probes not on /healthz and /readyz", name, c.Name)
			}
			for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if c.Resources.Requests.Name(res, "").IsZero() || c.Resources.Limits.Name(res, "").IsZero() {
					t.Errorf("%s/%s: no %s request and limit", name, c.Name, res)
				}
			}
			if want := []string{name, "--config", "/etc/driftlock/driftlock.yaml"}; name != "detector" && !slices.Equal(c.Args, want) {
				t.Errorf("%s args %v, want %v", name, c.Args, want)
			}
		}
	}
	det := get[*appsv1.Deployment](t, r, "Deployment/rel-driftlock-detector")
	if det.Spec.Replicas != nil && *det.Spec.Replicas > partitions {
		t.Errorf("detector replicas %d > %d partitions", *det.Spec.Replicas, partitions)
	}
	if h, ok := r["HorizontalPodAutoscaler/rel-driftlock-detector"].(*autoscalingv2.HorizontalPodAutoscaler); ok && h.Spec.MaxReplicas > partitions {
		t.Errorf("detector HPA maxReplicas %d > %d partitions", h.Spec.MaxReplicas, partitions)
	}
	if s, ok := r["ScaledObject/rel-driftlock-detector"].(*scaledObject); ok && *s.Spec.MaxReplicaCount > partitions {
		t.Errorf("detector ScaledObject maxReplicaCount %d > %d partitions", *s.Spec.MaxReplicaCount, partitions)
	}
}

// checkConfig loads the rendered driftlock.yaml as the services do and
// checks that it names only known keys.
func checkConfig(t *testing.T, r rendered, partitions int) config.Config {
	t.Helper()
	cm := get[*corev1.ConfigMap](t, r, "ConfigMap/rel-driftlock")
	raw := cm.Data["driftlock.yaml"]
	var tree map[string]map[string]any
	if err := yaml.UnmarshalStrict([]byte(raw), &tree); err != nil {
		t.Fatalf("driftlock.yaml: %v", err)
	}
	known := config.Keys()
	for section, keys := range tree {
		for k, v := range keys {
			key := section + "." + k
			if sub, ok := v.(map[string]any); ok {
				for sk := range sub {
					if !slices.Contains(known, key+"."+sk) {
						t.Errorf("driftlock.yaml sets unknown key %s.%s", key, sk)
					}
				}
				continue
			}
			if !slices.Contains(known, key) {
				t.Errorf("driftlock.yaml sets unknown key %s", key)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "driftlock.yaml")
	if err := os.WriteFile(path, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, config.EnvPrefix+"_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	cfg, err := config.Load(path, nil)
	if err != nil {
		t.Fatalf("driftlock.yaml does not load: %v\n%s", err, raw)
	}
	if cfg.Kafka.TopicPartitions != partitions {
		t.Errorf("kafka.topic_partitions %d, want %d", cfg.Kafka.TopicPartitions, partitions)
	}
	if cfg.Ingest.GRPCEndpoint != "0.0.0.0:4317" || cfg.Detector.AdminEndpoint != "0.0.0.0:8889" {
		t.Errorf("endpoints %s %s", cfg.Ingest.GRPCEndpoint, cfg.Detector.AdminEndpoint)
	}
	return cfg
}

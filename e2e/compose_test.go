package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/driftlock/driftlock/internal/config"
)

// composeService is the part of a compose service the checks read.
type composeService struct {
	Image string `yaml:"image"`
	Build *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	Deploy struct {
		Replicas int `yaml:"replicas"`
	} `yaml:"deploy"`
}

func loadCompose(t *testing.T) map[string]composeService {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]composeService `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return f.Services
}

// TestComposeKafka checks the broker: the official image, one combined KRaft
// node, no ZooKeeper, and a one-shot service that creates both topics.
func TestComposeKafka(t *testing.T) {
	s := loadCompose(t)
	k, ok := s["kafka"]
	if !ok {
		t.Fatal("no kafka service")
	}
	if !strings.HasPrefix(k.Image, "apache/kafka:4.") {
		t.Errorf("kafka image %q, want the official apache/kafka:4.x", k.Image)
	}
	env := k.Environment
	if env["KAFKA_PROCESS_ROLES"] != "broker,controller" || env["KAFKA_CONTROLLER_QUORUM_VOTERS"] != "1@kafka:9093" ||
		env["CLUSTER_ID"] == "" || env["KAFKA_NODE_ID"] != "1" {
		t.Errorf("kafka is not one combined KRaft node: %v", env)
	}
	if !strings.Contains(env["KAFKA_ADVERTISED_LISTENERS"], "PLAINTEXT://kafka:9092") {
		t.Errorf("containers reach the broker at kafka:9092, advertised %q", env["KAFKA_ADVERTISED_LISTENERS"])
	}
	for name, v := range env {
		if strings.Contains(strings.ToLower(name+v), "zookeeper") {
			t.Errorf("ZooKeeper setting %s in KRaft mode", name)
		}
	}
	if len(k.Healthcheck.Test) == 0 {
		t.Error("kafka has no healthcheck")
	}
	topics, ok := s["kafka-topics"]
	if !ok {
		t.Fatal("no kafka-topics service creating the topics")
	}
	script := strings.Join(topics.Command, " ")
	for _, want := range []string{"otlp-events", "anomaly-events", "--partitions 3", "--replication-factor 1", "--if-not-exists", "kafka:9092"} {
		if !strings.Contains(script, want) {
			t.Errorf("topic creation %q lacks %q", script, want)
		}
	}
	if topics.DependsOn["kafka"].Condition != "service_healthy" {
		t.Error("kafka-topics must wait for a healthy kafka")
	}
}

// TestComposeServices checks ingest, detector and console: the image built
// here, their commands, ports, broker address, healthchecks through
// `driftlock healthcheck` on the configured admin ports, and two detectors.
func TestComposeServices(t *testing.T) {
	s := loadCompose(t)
	def := config.Default()
	cases := []struct {
		name, command, admin string
		ports                []string
		replicas             int
	}{
		{"ingest", "ingest", def.Ingest.AdminEndpoint, []string{def.Ingest.GRPCEndpoint, def.Ingest.HTTPEndpoint, def.Ingest.AdminEndpoint}, 0},
		{"detector", "detect", def.Detector.AdminEndpoint, nil, 2},
		{"console", "console", def.Console.HTTPEndpoint, []string{def.Console.HTTPEndpoint}, 0},
	}
	for _, c := range cases {
		svc, ok := s[c.name]
		if !ok {
			t.Errorf("no %s service", c.name)
			continue
		}
		if svc.Image != "driftlock:local" || svc.Build == nil || svc.Build.Context != "." {
			t.Errorf("%s: image %q build %+v, want driftlock:local built from .", c.name, svc.Image, svc.Build)
		}
		if !slices.Equal(svc.Command, []string{c.command}) {
			t.Errorf("%s: command %v, want [%s]", c.name, svc.Command, c.command)
		}
		if got := svc.Environment["DRIFTLOCK_KAFKA_BROKERS"]; got != "kafka:9092" {
			t.Errorf("%s: DRIFTLOCK_KAFKA_BROKERS=%q, want kafka:9092", c.name, got)
		}
		if svc.DependsOn["kafka-topics"].Condition != "service_completed_successfully" {
			t.Errorf("%s: must start after kafka-topics completed", c.name)
		}
		wantCheck := []string{"CMD", "/usr/local/bin/driftlock", "healthcheck", "http://localhost:" + port(c.admin) + "/readyz"}
		if !slices.Equal(svc.Healthcheck.Test, wantCheck) {
			t.Errorf("%s: healthcheck %v, want %v", c.name, svc.Healthcheck.Test, wantCheck)
		}
		for _, endpoint := range c.ports {
			p := port(endpoint)
			if !slices.Contains(svc.Ports, p+":"+p) {
				t.Errorf("%s: port %s not published (ports %v)", c.name, p, svc.Ports)
			}
		}
		if c.replicas != 0 && svc.Deploy.Replicas != c.replicas {
			t.Errorf("%s: %d replicas, want %d", c.name, svc.Deploy.Replicas, c.replicas)
		}
	}
	if p := strings.Join(s["ingest"].Ports, " "); !strings.Contains(p, "4317:4317") || !strings.Contains(p, "4318:4318") {
		t.Errorf("ingest must publish the OTLP ports 4317 and 4318: %v", s["ingest"].Ports)
	}
}

func port(endpoint string) string { return endpoint[strings.LastIndexByte(endpoint, ':')+1:] }

// TestDockerfile checks the image recipe: a Go build stage that compiles
// ./cmd/driftlock statically, and a distroless non-root final stage whose
// entrypoint is the binary.
func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := strings.ReplaceAll(string(raw), "\\\n", " ")
	froms := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(df, -1)
	if len(froms) != 2 || !strings.HasPrefix(froms[0][1], "golang:1.26") ||
		!strings.HasPrefix(froms[1][1], "gcr.io/distroless/static") || !strings.HasSuffix(froms[1][1], ":nonroot") {
		t.Errorf("stages %v, want golang:1.26 then gcr.io/distroless/static...:nonroot", froms)
	}
	build := regexp.MustCompile(`(?m)^RUN .*CGO_ENABLED=0 .*go build .*-o (\S+) \./cmd/driftlock\s*$`).FindStringSubmatch(df)
	if build == nil {
		t.Fatal("no RUN step builds ./cmd/driftlock with CGO_ENABLED=0")
	}
	if !strings.Contains(df, "COPY --from=build "+build[1]+" /usr/local/bin/driftlock") {
		t.Errorf("final stage does not copy %s to /usr/local/bin/driftlock", build[1])
	}
	for _, want := range []string{`ENTRYPOINT ["/usr/local/bin/driftlock"]`, "USER nonroot", "EXPOSE 4317 4318"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	ignore, err := os.ReadFile(filepath.Join("..", ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{".git", ".kafka", "bin"} {
		if !slices.Contains(strings.Fields(string(ignore)), want) {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
}

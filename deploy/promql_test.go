package deploy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const (
	rulesFile     = "prometheus/driftlock-rules.yaml"
	rulesTestFile = "prometheus/driftlock-rules_test.yaml"
	dashboardFile = "grafana/driftlock.json"
)

var (
	promqlStrings  = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	promqlMatchers = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]`)
	promqlGrouping = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promqlToken    = regexp.MustCompile(`\$\{?\w+\}?|[0-9][0-9.]*[a-zA-Z]*|[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	promqlKeywords = []string{"and", "or", "unless", "bool", "offset", "inf", "nan", "Inf", "NaN"}
)

// metricNames returns the metric names an expression selects: identifiers
// that are neither functions, keywords, label names, durations nor
// template variables.
func metricNames(expr string) []string {
	e := promqlStrings.ReplaceAllString(expr, `""`)
	e = promqlMatchers.ReplaceAllString(e, " ")
	e = promqlGrouping.ReplaceAllString(e, " ")
	var names []string
	for _, tok := range promqlToken.FindAllString(e, -1) {
		switch {
		case strings.HasPrefix(tok, "$"), tok[0] >= '0' && tok[0] <= '9', strings.HasSuffix(tok, "("),
			slices.Contains(promqlKeywords, tok):
			continue
		}
		names = append(names, tok)
	}
	return names
}

func TestMetricNamesParser(t *testing.T) {
	got := metricNames(`sum by (namespace, job) (rate(a_total{outcome=~"x|y", job=~"$job"}[$__rate_interval])) / ignoring(le) histogram_quantile(0.99, b_bucket) > 0.05 and on (job) c unless absent(d) offset 5m`)
	if want := []string{"a_total", "b_bucket", "c", "d"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// rule is one rule of a Prometheus rules file.
type rule struct {
	Alert       string            `json:"alert"`
	Record      string            `json:"record"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

func loadRules(t *testing.T) []rule {
	t.Helper()
	raw, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []rule `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.UnmarshalStrict(raw, &f); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	var rules []rule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules
}

// dashboardQueries returns every PromQL query of the dashboard (panel
// targets and template variables), keyed by where it is.
func dashboardQueries(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string          `json:"name"`
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	q := map[string]string{}
	for _, p := range d.Panels {
		for i, tg := range p.Targets {
			q[fmt.Sprintf("panel %q target %d", p.Title, i)] = tg.Expr
		}
	}
	labelValues := regexp.MustCompile(`^label_values\((.+),\s*\w+\)$`)
	var hasDatasource bool
	for _, v := range d.Templating.List {
		if v.Type == "datasource" {
			hasDatasource = true
			continue
		}
		var vq struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &vq); err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		m := labelValues.FindStringSubmatch(vq.Query)
		if m == nil {
			t.Fatalf("variable %s: query %q is not label_values(selector, label)", v.Name, vq.Query)
		}
		q["variable "+v.Name] = m[1]
	}
	if !hasDatasource {
		t.Error("the dashboard has no datasource variable")
	}
	return q
}

// substitute replaces Grafana's variables so that promtool can parse a query.
func substitute(expr string) string {
	return strings.NewReplacer("$__rate_interval", "5m", "$__range", "1h", "$namespace", ".*", "$job", ".*").Replace(expr)
}

// TestDashboard checks the dashboard's variables and that every panel
// filters on them.
func TestDashboard(t *testing.T) {
	qs := dashboardQueries(t)
	for _, v := range []string{"variable namespace", "variable job"} {
		if _, ok := qs[v]; !ok {
			t.Errorf("dashboard lacks %s", v)
		}
	}
	for where, q := range qs {
		if strings.HasPrefix(where, "panel") && (!strings.Contains(q, `job=~"$job"`) || !strings.Contains(q, `namespace=~"$namespace"`)) {
			t.Errorf("%s does not filter on $namespace and $job: %s", where, q)
		}
		if len(metricNames(q)) == 0 {
			t.Errorf("%s selects no metric: %s", where, q)
		}
	}
	if len(qs) < 20 {
		t.Errorf("only %d queries", len(qs))
	}
}

// TestRulesPromtool runs promtool check rules and the unit tests of every
// alert, and checks that each alert has a test, a summary and a runbook
// section in docs/OPERATIONS.md.
func TestRulesPromtool(t *testing.T) {
	promtool := tool(t, "promtool")
	if out, stderr, err := run(t, promtool, "check", "rules", rulesFile); err != nil {
		t.Fatalf("promtool check rules: %v\n%s%s", err, out, stderr)
	}
	if out, stderr, err := run(t, promtool, "test", "rules", rulesTestFile); err != nil {
		t.Fatalf("promtool test rules: %v\n%s%s", err, out, stderr)
	}
	tests, err := os.ReadFile(rulesTestFile)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := os.ReadFile(filepath.Join("..", "docs", "OPERATIONS.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range loadRules(t) {
		if r.Alert == "" {
			continue
		}
		if !strings.Contains(string(tests), "alertname: "+r.Alert+"\n") {
			t.Errorf("%s has no promtool unit test", r.Alert)
		}
		if r.Annotations["summary"] == "" || r.Labels["severity"] == "" {
			t.Errorf("%s lacks a summary or a severity", r.Alert)
		}
		anchor := "#" + strings.ToLower(r.Alert)
		if !strings.HasSuffix(r.Annotations["runbook_url"], "docs/OPERATIONS.md"+anchor) {
			t.Errorf("%s: runbook_url %q, want docs/OPERATIONS.md%s", r.Alert, r.Annotations["runbook_url"], anchor)
		}
		if !strings.Contains(string(ops), "\n### "+r.Alert+"\n") {
			t.Errorf("docs/OPERATIONS.md has no section \"### %s\"", r.Alert)
		}
	}
}

// TestDashboardPromQLParses hands every dashboard query to promtool as a
// recording rule, so that a query Prometheus could not parse fails here.
func TestDashboardPromQLParses(t *testing.T) {
	promtool := tool(t, "promtool")
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	i := 0
	for where, q := range dashboardQueries(t) {
		i++
		js, _ := json.Marshal(substitute(q))
		fmt.Fprintf(&b, "      # %s\n      - record: dashboard:query_%d\n        expr: %s\n", where, i, js)
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, stderr, err := run(t, promtool, "check", "rules", path); err != nil {
		t.Fatalf("promtool check rules on the dashboard's queries: %v\n%s%s\n%s", err, out, stderr, b.String())
	}
}

package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/driftlock/driftlock/internal/testkit"
)

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func status(t *testing.T, method, url string, header ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestAuthToken(t *testing.T) {
	cfg := testConfig(t)
	cfg.Console.AuthToken = "s3cret"
	r := startConsole(t, cfg)

	var e errorBody
	if code := getJSON(t, r.url+"/api/v1/anomalies", &e); code != http.StatusUnauthorized || !strings.Contains(e.Error, "Bearer") {
		t.Fatalf("no token: %d %q", code, e.Error)
	}
	for _, tc := range []struct {
		path, auth string
		want       int
	}{
		{"/api/v1/anomalies", "Bearer s3cret", http.StatusOK},
		{"/api/v1/anomalies", "bearer s3cret", http.StatusOK},
		{"/api/v1/anomalies", "Bearer wrong", http.StatusUnauthorized},
		{"/api/v1/anomalies", "Basic czNjcmV0", http.StatusUnauthorized},
		{"/api/v1/streams", "", http.StatusUnauthorized},
		{"/api/v1/stream", "", http.StatusUnauthorized},
		{"/api/v1/anomalies?token=s3cret", "", http.StatusUnauthorized}, // tokens stay out of URLs
		{"/", "", http.StatusSeeOther},
		{"/app.js", "", http.StatusSeeOther},
		{"/", "Bearer s3cret", http.StatusOK},
		{"/app.css", "", http.StatusOK},
		{"/healthz", "", http.StatusOK},
		{"/readyz", "", http.StatusOK},
		{"/metrics", "", http.StatusOK},
		{"/login", "", http.StatusOK},
	} {
		h := []string{}
		if tc.auth != "" {
			h = []string{"Authorization", tc.auth}
		}
		if resp := status(t, http.MethodGet, r.url+tc.path, h...); resp.StatusCode != tc.want {
			t.Errorf("GET %s with %q: %d, want %d", tc.path, tc.auth, resp.StatusCode, tc.want)
		}
	}
	if c, code := openSSE(t, r.url+"/api/v1/stream", "Authorization", "Bearer s3cret"); code != http.StatusOK {
		t.Fatalf("SSE with token: %d", code)
	} else {
		c.close()
	}

	// The login form sets a cookie that opens the UI, the API and the stream.
	resp, err := noRedirect.PostForm(r.url+"/login", url.Values{"token": {"wrong"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Fatalf("wrong login: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	resp, err = noRedirect.PostForm(r.url+"/login", url.Values{"token": {"s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || len(cookies) != 1 || !cookies[0].HttpOnly || strings.Contains(cookies[0].Value, "s3cret") {
		t.Fatalf("login: %d, cookies %v", resp.StatusCode, cookies)
	}
	cookie := cookies[0].Name + "=" + cookies[0].Value
	for _, path := range []string{"/", "/api/v1/anomalies"} {
		if resp := status(t, http.MethodGet, r.url+path, "Cookie", cookie); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s with cookie: %d", path, resp.StatusCode)
		}
	}
	if c, code := openSSE(t, r.url+"/api/v1/stream", "Cookie", cookie); code != http.StatusOK {
		t.Fatalf("SSE with cookie: %d", code)
	} else {
		c.close()
	}
}

func TestExternalURL(t *testing.T) {
	cfg := testConfig(t)
	cfg.Console.ExternalURL = "console.example.com"
	if _, err := New(cfg, nil, testkit.QuietLog()); err == nil ||
		err.Error() != `invalid value "console.example.com" for console.external_url: must be an absolute http or https URL` {
		t.Fatalf("err = %v", err)
	}
	cfg.Console.ExternalURL = "https://console.example.com/driftlock/"
	r := startConsole(t, cfg)
	if got := r.svc.anomalyURL("a/b c"); got != "https://console.example.com/driftlock/#/anomaly/a%2Fb%20c" {
		t.Errorf("anomaly URL = %s", got)
	}
}

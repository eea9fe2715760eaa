package console

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// authRig is the console's auth in front of a handler that answers 200,
// on a clock the test moves.
type authRig struct {
	t   *testing.T
	a   *auth
	now time.Time
	h   http.Handler
}

func newAuthRig(t *testing.T) *authRig {
	rig := &authRig{t: t, a: newAuth("s3cret"), now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	rig.a.now = func() time.Time { return rig.now }
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", rig.a.login)
	mux.HandleFunc("POST /logout", rig.a.logout)
	mux.Handle("/", rig.a.require(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})))
	rig.h = mux
	return rig
}

// do serves one request from client address addr.
func (rig *authRig) do(method, path, addr string, body url.Values, header ...string) *httptest.ResponseRecorder {
	var req *http.Request
	if body != nil {
		req = httptest.NewRequest(method, path, strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	req.RemoteAddr = addr + ":40000"
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	rig.h.ServeHTTP(w, req)
	return w
}

func (rig *authRig) login(addr string) string {
	rig.t.Helper()
	w := rig.do(http.MethodPost, "/login", addr, url.Values{"token": {"s3cret"}})
	cookies := w.Result().Cookies()
	if w.Code != http.StatusSeeOther || len(cookies) != 1 || cookies[0].MaxAge != int(sessionTTL.Seconds()) {
		rig.t.Fatalf("login: %d, cookies %v", w.Code, cookies)
	}
	return cookies[0].Name + "=" + cookies[0].Value
}

func TestSessionEndsAtLogout(t *testing.T) {
	rig := newAuthRig(t)
	c1, c2 := rig.login("192.0.2.1"), rig.login("192.0.2.1")
	if c1 == c2 {
		t.Fatalf("two logins got the same session id %q", c1)
	}
	if w := rig.do(http.MethodGet, "/api/v1/anomalies", "192.0.2.1", nil, "Cookie", c1); w.Code != http.StatusOK {
		t.Fatalf("with session cookie: %d", w.Code)
	}
	if w := rig.do(http.MethodPost, "/logout", "192.0.2.1", url.Values{}, "Cookie", c1); w.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d", w.Code)
	}
	if w := rig.do(http.MethodGet, "/api/v1/anomalies", "192.0.2.1", nil, "Cookie", c1); w.Code != http.StatusUnauthorized {
		t.Errorf("cookie after logout: %d, want 401", w.Code)
	}
	if w := rig.do(http.MethodGet, "/api/v1/anomalies", "192.0.2.1", nil, "Cookie", c2); w.Code != http.StatusOK {
		t.Errorf("the other session after logout: %d, want 200", w.Code)
	}
}

func TestSessionExpires(t *testing.T) {
	rig := newAuthRig(t)
	c := rig.login("192.0.2.1")
	rig.now = rig.now.Add(sessionTTL - time.Second)
	if w := rig.do(http.MethodGet, "/api/v1/status", "192.0.2.1", nil, "Cookie", c); w.Code != http.StatusOK {
		t.Fatalf("before expiry: %d", w.Code)
	}
	rig.now = rig.now.Add(time.Second)
	if w := rig.do(http.MethodGet, "/api/v1/status", "192.0.2.1", nil, "Cookie", c); w.Code != http.StatusUnauthorized {
		t.Errorf("expired session: %d, want 401", w.Code)
	}
	if w := rig.do(http.MethodGet, "/", "192.0.2.1", nil, "Cookie", cookieName+"=00"); w.Code != http.StatusSeeOther {
		t.Errorf("made-up session on the UI: %d, want a redirect to /login", w.Code)
	}
}

func TestSessionsBounded(t *testing.T) {
	s := newSessions(3, time.Hour)
	now := time.Unix(0, 0)
	var ids []string
	for i := range 5 {
		id, err := s.create(now.Add(time.Duration(i) * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if len(s.byID) != 3 || s.valid(ids[0], now) || s.valid(ids[1], now) || !s.valid(ids[4], now) {
		t.Errorf("sessions kept %d, want the 3 newest", len(s.byID))
	}
}

// TestWrongTokensRateLimited: 200 wrong tokens in a row from one address
// are answered 401 until the limit, then 429 with Retry-After (even for
// the right token); another address still gets in, and the first one
// again once the wait is over.
func TestWrongTokensRateLimited(t *testing.T) {
	rig := newAuthRig(t)
	var unauthorized, limited int
	for range 200 {
		w := rig.do(http.MethodGet, "/api/v1/anomalies", "192.0.2.66", nil, "Authorization", "Bearer guess")
		switch w.Code {
		case http.StatusUnauthorized:
			unauthorized++
		case http.StatusTooManyRequests:
			limited++
			if w.Header().Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		default:
			t.Fatalf("wrong token: %d", w.Code)
		}
	}
	if unauthorized != failBurst || limited != 200-failBurst {
		t.Errorf("401s %d, 429s %d; want %d and %d", unauthorized, limited, failBurst, 200-failBurst)
	}
	if w := rig.do(http.MethodPost, "/login", "192.0.2.66", url.Values{"token": {"guess"}}); w.Code != http.StatusTooManyRequests {
		t.Errorf("login form from the limited address: %d, want 429", w.Code)
	}
	if w := rig.do(http.MethodGet, "/api/v1/anomalies", "192.0.2.66", nil, "Authorization", "Bearer s3cret"); w.Code != http.StatusTooManyRequests {
		t.Errorf("right token from the limited address: %d, want 429", w.Code)
	}
	if w := rig.do(http.MethodGet, "/api/v1/anomalies", "198.51.100.7", nil, "Authorization", "Bearer s3cret"); w.Code != http.StatusOK {
		t.Errorf("right token from another address: %d, want 200", w.Code)
	}
	rig.login("198.51.100.7")
	rig.now = rig.now.Add(failEvery)
	if w := rig.do(http.MethodGet, "/api/v1/anomalies", "192.0.2.66", nil, "Authorization", "Bearer s3cret"); w.Code != http.StatusOK {
		t.Errorf("right token after the wait: %d, want 200", w.Code)
	}
}

func TestWrongLoginsRateLimited(t *testing.T) {
	rig := newAuthRig(t)
	for i := range failBurst + 1 {
		w := rig.do(http.MethodPost, "/login", "192.0.2.9", url.Values{"token": {"guess"}})
		want := http.StatusUnauthorized
		if i == failBurst {
			want = http.StatusTooManyRequests
		}
		if w.Code != want {
			t.Fatalf("wrong login %d: %d, want %d", i+1, w.Code, want)
		}
	}
}

func TestLimiterBounded(t *testing.T) {
	l := newLimiter(2, time.Second, 4)
	now := time.Unix(0, 0)
	for i := range 10 {
		l.fail(string(rune('a'+i)), now)
	}
	if len(l.clients) > 4 {
		t.Errorf("limiter tracks %d addresses, want at most 4", len(l.clients))
	}
}

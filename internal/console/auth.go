package console

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/driftlock/driftlock/internal/console/web"
)

// cookieName holds the UI's session after the login form.
const cookieName = "driftlock_session"

// auth enforces console.auth_token. A request is let in with
// "Authorization: Bearer <token>" or with the cookie the login form sets
// (EventSource cannot send headers; a cookie keeps the token out of URLs
// and logs). The cookie holds a random session id that the console keeps
// (bounded, expiring after sessionTTL, ended by logout). Wrong tokens are
// rate-limited per client address: over the limit, 429 with Retry-After.
type auth struct {
	token    [sha256.Size]byte // of console.auth_token; compared in constant time
	enabled  bool
	now      func() time.Time
	sessions *sessions
	limiter  *limiter
}

func newAuth(token string) *auth {
	return &auth{
		token: sha256.Sum256([]byte(token)), enabled: token != "", now: time.Now,
		sessions: newSessions(maxSessions, sessionTTL),
		limiter:  newLimiter(failBurst, failEvery, maxLimiters),
	}
}

// tokenOK compares tok with the configured token in constant time (over
// their hashes, so that the length does not show either).
func (a *auth) tokenOK(tok string) bool {
	sum := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(sum[:], a.token[:]) == 1
}

// clientAddr is the address rate limits apply to: the peer's IP.
func clientAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// check reports whether r may pass; wait > 0 means its address sent too
// many wrong tokens and must wait that long.
func (a *auth) check(r *http.Request) (ok bool, wait time.Duration) {
	if !a.enabled {
		return true, 0
	}
	now := a.now()
	if h := r.Header.Get("Authorization"); h != "" {
		addr := clientAddr(r)
		if wait := a.limiter.blocked(addr, now); wait > 0 {
			return false, wait
		}
		scheme, tok, found := strings.Cut(h, " ")
		if found && strings.EqualFold(scheme, "Bearer") && a.tokenOK(strings.TrimSpace(tok)) {
			return true, 0
		}
		a.limiter.fail(addr, now)
		return false, 0
	}
	c, err := r.Cookie(cookieName)
	return err == nil && a.sessions.valid(c.Value, now), 0
}

// require lets authorised requests through; others get 401 JSON (API) or
// are sent to the login form (UI), and 429 when rate-limited.
func (a *auth) require(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait := a.check(r)
		if ok || web.Public[r.URL.Path] {
			h.ServeHTTP(w, r)
			return
		}
		if wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
			writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many wrong tokens from %s: retry in %d s", clientAddr(r), retryAfter(wait)))
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			w.Header().Set("WWW-Authenticate", `Bearer realm="driftlock"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong token: send Authorization: Bearer <console.auth_token>")
			return
		}
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	})
}

var loginTmpl = template.Must(template.ParseFS(web.FS, "login.html"))

func (a *auth) loginPage(w http.ResponseWriter, r *http.Request) {
	if !a.enabled {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	a.render(w, http.StatusOK, "")
}

func (a *auth) render(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = loginTmpl.Execute(w, map[string]string{"Error": msg})
}

// login checks the form's token and starts a session.
func (a *auth) login(w http.ResponseWriter, r *http.Request) {
	if !a.enabled {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	now, addr := a.now(), clientAddr(r)
	if wait := a.limiter.blocked(addr, now); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
		a.render(w, http.StatusTooManyRequests, fmt.Sprintf("Too many wrong tokens. Try again in %d s.", retryAfter(wait)))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil || !a.tokenOK(r.PostForm.Get("token")) {
		a.limiter.fail(addr, now)
		a.render(w, http.StatusUnauthorized, "Wrong token.")
		return
	}
	id, err := a.sessions.create(now)
	if err != nil {
		a.render(w, http.StatusInternalServerError, "Cannot start a session.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: id, Path: "/", MaxAge: int(a.sessions.ttl.Seconds()), HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout ends the session of the request's cookie and clears the cookie.
func (a *auth) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		a.sessions.end(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

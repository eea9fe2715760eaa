package console

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"html/template"
	"net/http"
	"strings"

	"github.com/driftlock/driftlock/internal/console/web"
)

// cookieName holds the UI's session after the login form.
const cookieName = "driftlock_session"

// auth enforces console.auth_token. A request is let in with
// "Authorization: Bearer <token>" or with the cookie the login form sets
// (EventSource cannot send headers; a cookie keeps the token out of URLs
// and logs). The cookie holds a hash of the token, not the token.
type auth struct {
	token  string
	cookie string
}

func newAuth(token string) *auth {
	a := &auth{token: token}
	if token != "" {
		sum := sha256.Sum256([]byte("driftlock-console-session:" + token))
		a.cookie = hex.EncodeToString(sum[:])
	}
	return a
}

func (a *auth) allowed(r *http.Request) bool {
	if a.token == "" {
		return true
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		return ok && strings.EqualFold(scheme, "Bearer") && equal(strings.TrimSpace(tok), a.token)
	}
	c, err := r.Cookie(cookieName)
	return err == nil && equal(c.Value, a.cookie)
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// require lets authorised requests through; others get 401 JSON (API) or
// are sent to the login form (UI).
func (a *auth) require(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.allowed(r) || web.Public[r.URL.Path] {
			h.ServeHTTP(w, r)
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
	if a.token == "" {
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

// login checks the form's token and sets the session cookie.
func (a *auth) login(w http.ResponseWriter, r *http.Request) {
	if a.token == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil || !equal(r.PostForm.Get("token"), a.token) {
		a.render(w, http.StatusUnauthorized, "Wrong token.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: a.cookie, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *auth) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// Package web holds the console's web UI: plain HTML, CSS and JavaScript
// embedded in the binary, with no build step.
package web

import (
	"embed"
	"net/http"
)

// FS holds the UI's files.
//
//go:embed index.html login.html app.css app.js list.js pages.js favicon.svg
var FS embed.FS

// Public lists the files served without a token (the login page needs them).
var Public = map[string]bool{"/app.css": true, "/favicon.svg": true}

// Handler serves the UI's files; "/" is index.html.
func Handler() http.Handler {
	files := http.FileServerFS(FS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == "/login.html" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

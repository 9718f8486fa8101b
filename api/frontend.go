package api

import (
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

// appCSP lets the built frontend load its own scripts, styles and images
// and call this API, and nothing from elsewhere.
var appCSP = []string{"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"}

var (
	htmlType  = []string{"text/html; charset=utf-8"}
	immutable = []string{"public, max-age=31536000, immutable"}
)

const notBuiltPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>csmarket</title></head>
<body>
<h1>csmarket</h1>
<p>The web frontend is not built. Build it with <code>make frontend</code>, or use the API:
<a href="/api/v1/providers">/api/v1/providers</a>, described by <a href="/openapi.yaml">/openapi.yaml</a>.</p>
</body>
</html>
`

// serveFrontend answers a GET for a path outside the API with a file of the
// built frontend, or with its index.html for a client-side route (a path
// with no file extension). It reports false when the path is not the
// frontend's, to be answered as an unknown route.
func (s *server) serveFrontend(c *gin.Context) bool {
	r := c.Request
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	if !plainText(p) {
		return false
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	switch first {
	case "api", "healthz", "readyz", "metrics", "openapi.yaml":
		return false
	}
	name := strings.TrimPrefix(path.Clean("/"+p), "/")
	clientRoute := name == "" || !strings.Contains(path.Base(name), ".")
	if s.frontend == nil {
		if !clientRoute {
			return false
		}
		c.Set(keyFrontend, true)
		h := c.Writer.Header()
		documentHeaders(h)
		writeUncached(c, htmlType, []byte(notBuiltPage))
		return true
	}
	if name != "" && name != "index.html" {
		if st, err := fs.Stat(s.frontend, name); err == nil && st.Mode().IsRegular() {
			c.Set(keyFrontend, true)
			h := c.Writer.Header()
			documentHeaders(h)
			if strings.HasPrefix(name, "assets/") {
				h["Cache-Control"] = immutable // the build names assets by content hash
			}
			c.Writer.WriteHeader(http.StatusOK)
			http.ServeFileFS(c.Writer, r, s.frontend, name)
			return true
		}
	}
	if !clientRoute && name != "index.html" {
		return false
	}
	index, err := fs.ReadFile(s.frontend, "index.html")
	if err != nil {
		return false
	}
	c.Set(keyFrontend, true)
	h := c.Writer.Header()
	documentHeaders(h)
	h["Cache-Control"] = []string{"no-cache"}
	h["Content-Type"] = htmlType
	c.Writer.WriteHeader(http.StatusOK)
	c.Writer.Write(index)
	return true
}

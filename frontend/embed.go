// Package frontend holds csmarket's web app: a TypeScript single-page app
// built by Vite into dist/, embedded here so that one binary serves both the
// API and the pages a browser needs.
package frontend

import (
	"embed"
	"io/fs"
)

// dist is embedded with "all:" so the committed dist/.gitkeep keeps the
// pattern valid, and `go build` works, before the app has been built.
//
//go:embed all:dist
var dist embed.FS

// Dist returns the built app, rooted so that "index.html" is at the top, or
// nil when the app has not been built (dist/ holds only its placeholder), so
// that the API can show a placeholder page instead.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil
	}
	if _, err := fs.Stat(sub, "index.html"); err != nil {
		return nil
	}
	return sub
}

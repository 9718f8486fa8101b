package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// NewBaseline returns a bare Gin engine that serves body at every GET, with
// no middleware, store or cache. `make bench` measures the cached directory
// against it: the gap between the two is what csmarket's own layers cost.
func NewBaseline(body []byte, etag string) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.NoRoute(func(c *gin.Context) {
		c.Header("ETag", etag)
		c.Data(http.StatusOK, "application/json", body)
	})
	return r
}

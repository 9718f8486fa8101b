package api

import (
	"bytes"
	"compress/gzip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/csmarket/csmarket/internal/cache"
)

// Public views go gzip-compressed to a client that accepts it. Each view's
// compressed bytes are made once, at the best compression, and kept by the
// view's ETag beside the plain bytes the cache holds, so that a hit does
// no compression work. A compressed answer is its own representation
// (RFC 9110, 8.8.3): its ETag is the plain one with "-gzip" before the
// closing quote, and If-None-Match and If-Match accept either form.
const (
	// minCompressed is the smallest view worth compressing: below it the
	// gzip header and a round of deflate save too little.
	minCompressed = 1024
	// compressedViews bounds how many compressed views are kept (about
	// 5 KB each for a directory page of 20), besides their bytes.
	compressedViews = 4096
	gzipSuffix      = "-gzip"
)

var (
	gzipEncoding   = []string{"gzip"}
	varyEncoding   = []string{"Accept-Encoding"}
	varyOriginEnc  = []string{"Origin", "Accept-Encoding"}
	gzipUnsuitable = []byte(nil)
)

// compressor keeps compressed views by ETag, at most maxBytes of them
// (least recently used first out), each in a slice of its own length.
type compressor struct {
	views    *lru.Cache[string, []byte]
	mu       sync.Mutex // over an Add and the evictions it makes
	bytes    atomic.Int64
	maxBytes int64
}

// newCompressor keeps at most maxBytes of compressed views.
func newCompressor(maxBytes int64) *compressor {
	z := &compressor{maxBytes: maxBytes}
	z.views, _ = lru.NewWithEvict(compressedViews, func(_ string, b []byte) { z.bytes.Add(-int64(len(b))) }) // fails only for a size <= 0
	return z
}

// gzipped returns the gzip bytes of e, made once per ETag, or nil when they
// would be no smaller.
func (z *compressor) gzipped(e cache.Entry) []byte {
	if b, ok := z.views.Get(e.ETag); ok {
		return b
	}
	var buf bytes.Buffer
	buf.Grow(len(e.Body) / 4)
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	_, _ = w.Write(e.Body)                                  // a bytes.Buffer does not fail
	_ = w.Close()
	b := bytes.Clone(buf.Bytes()) // not the buffer's spare capacity
	if len(b) >= len(e.Body) {
		b = gzipUnsuitable
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if old, ok := z.views.Peek(e.ETag); ok {
		return old
	}
	z.bytes.Add(int64(len(b)))
	z.views.Add(e.ETag, b)
	for z.bytes.Load() > z.maxBytes && z.views.Len() > 1 {
		z.views.RemoveOldest()
	}
	return b
}

// gzipETag is the ETag of the gzip representation of the view tagged etag.
func gzipETag(etag string) string {
	if !strings.HasSuffix(etag, `"`) {
		return etag
	}
	return etag[:len(etag)-1] + gzipSuffix + `"`
}

// plainETag drops the "-gzip" of a compressed representation's ETag.
func plainETag(tag string) string {
	if strings.HasSuffix(tag, gzipSuffix+`"`) {
		return tag[:len(tag)-len(gzipSuffix)-1] + `"`
	}
	return tag
}

// acceptsGzip reports whether Accept-Encoding values allow gzip (RFC 9110,
// 12.5.3): named, or "*", with a q-value above zero.
func acceptsGzip(values []string) bool {
	ok := false
	for _, v := range values {
		for v != "" {
			var item string
			item, v, _ = strings.Cut(v, ",")
			coding, params, _ := strings.Cut(item, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding != "gzip" && coding != "x-gzip" && coding != "*" {
				continue
			}
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(strings.TrimSpace(k), "q") {
					f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
					if err != nil || f < 0 || f > 1 {
						f = 0
					}
					q = f
				}
			}
			if coding == "*" {
				if q > 0 {
					ok = true
				}
				continue
			}
			return q > 0 // an explicit gzip entry decides
		}
	}
	return ok
}

// gzipBudget is the bytes of compressed views a server keeps: a quarter of
// its cache's budget for plain views (gzip makes a directory page about
// 30% of its size), or that of the default budget without a cache.
func gzipBudget(c *cache.Cache) int64 {
	if c == nil {
		return cache.DefaultMaxBytes / 4
	}
	return c.MaxBytes() / 4
}

// Package cache keeps rendered public responses, cache-aside, in Redis or in
// process. PROVISIONAL: this file fixes the API the api package builds on;
// the full implementation (Redis backend, singleflight, jitter, fallback,
// metrics) replaces its body.
package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// Namespaces: each public view belongs to one, and a write invalidates the
// namespaces whose views it changes.
const (
	NSReference = "reference"
	NSProviders = "providers"
)

// Entry is a cached response body with its strong ETag (quoted).
type Entry struct {
	Body []byte
	ETag string
}

// Cache serves public views from a backend, filling misses from a loader.
type Cache struct {
	mu   sync.Mutex
	gens map[string]int64
	m    map[string]Entry
}

// NewLocal returns a cache kept in this process.
func NewLocal() *Cache {
	return &Cache{gens: map[string]int64{}, m: map[string]Entry{}}
}

// Fetch returns the view ns/key, calling load on a miss and keeping its
// result for about ttl. A backend failure is never returned: the view is
// loaded from the store instead. Errors returned come from load.
func (c *Cache) Fetch(ctx context.Context, ns, key string, ttl time.Duration, load func(ctx context.Context) ([]byte, error)) (Entry, error) {
	c.mu.Lock()
	k := ns + ":" + key
	if e, ok := c.m[k]; ok {
		c.mu.Unlock()
		return e, nil
	}
	c.mu.Unlock()
	body, err := load(ctx)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{Body: body, ETag: ETag(body)}
	c.mu.Lock()
	c.m[k] = e
	c.mu.Unlock()
	return e, nil
}

// Invalidate makes every view in the namespaces stale, here and in every
// other process sharing the backend.
func (c *Cache) Invalidate(ctx context.Context, ns ...string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = map[string]Entry{}
	return nil
}

// Ping reports whether the backend is reachable.
func (c *Cache) Ping(ctx context.Context) error { return nil }

// ETag returns the strong entity tag of body.
func ETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

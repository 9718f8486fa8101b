// Package redistest gives tests a real Redis: the server at TEST_REDIS_URL,
// under a key prefix of their own, cleaned up when they end. Many test
// packages share that server at once, so nothing here flushes it.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Prefix returns a Redis key prefix no other test uses.
func Prefix(tb testing.TB) string {
	var b [6]byte
	rand.Read(b[:])
	name := strings.NewReplacer("/", "_", "{", "", "}", "", " ", "_").Replace(tb.Name())
	return "csmtest:" + name + ":" + hex.EncodeToString(b[:]) + ":"
}

// MustClient returns a client for TEST_REDIS_URL, configured as the
// marketplace configures its own (deadlines obeyed, one retry), skipping the
// test when the variable is not set, and deletes every key under prefix when
// the test ends.
func MustClient(tb testing.TB, prefix string) redis.UniversalClient {
	tb.Helper()
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		tb.Skip("TEST_REDIS_URL not set: Redis test skipped")
	}
	o, err := redis.ParseURL(u)
	if err != nil {
		tb.Fatalf("TEST_REDIS_URL: %v", err)
	}
	o.ContextTimeoutEnabled = true
	o.MaxRetries = 1
	o.DialTimeout = time.Second
	rdb := redis.NewClient(o)
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		tb.Fatalf("redis at TEST_REDIS_URL: %v", err)
	}
	tb.Cleanup(func() {
		var keys []string
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		for _, k := range keys {
			rdb.Del(ctx, k)
		}
		rdb.Close()
	})
	return rdb
}

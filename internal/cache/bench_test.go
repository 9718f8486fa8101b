package cache

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/redistest"
)

// BenchmarkFetchHit measures a hit on a 10 KB view, the cost the cached
// directory endpoint adds to a request: in process, and on Redis where a
// hit is one round trip for the generation while the body stays in the
// near-cache.
func BenchmarkFetchHit(b *testing.B) {
	body := bytes.Repeat([]byte(`{"name":"Midlands and Lancashire CSU"},`), 10*1024/39)
	load := func(context.Context) ([]byte, error) { return body, nil }
	caches := map[string]func(b *testing.B) *Cache{
		"local": func(b *testing.B) *Cache { return MustCache(b, Options{}) },
		"redis": func(b *testing.B) *Cache {
			if os.Getenv("TEST_REDIS_URL") == "" {
				b.Skip("TEST_REDIS_URL not set")
			}
			prefix := redistest.Prefix(b)
			return MustCache(b, Options{Redis: redistest.MustClient(b, prefix), Prefix: prefix})
		},
	}
	for _, name := range []string{"local", "redis"} {
		for _, parallel := range []bool{false, true} {
			bname := name
			if parallel {
				bname += "/parallel"
			}
			b.Run(bname, func(b *testing.B) {
				c := caches[name](b)
				ctx := context.Background()
				if _, err := c.Fetch(ctx, NSProviders, "sector=nhs", time.Hour, load); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				b.ResetTimer()
				if !parallel {
					for b.Loop() {
						if _, err := c.Fetch(ctx, NSProviders, "sector=nhs", time.Hour, load); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if _, err := c.Fetch(ctx, NSProviders, "sector=nhs", time.Hour, load); err != nil {
								b.Fatal(err)
							}
						}
					})
				}
				b.StopTimer()
				if n := counter(c.m.miss); n != 1 {
					b.Fatalf("misses = %v, want only the first", n)
				}
			})
		}
	}
}

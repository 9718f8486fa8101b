package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Config is everything csmarket reads from its environment. Defaults are
// those of the embedded mode: SQLite under ./data and an in-process cache.
type Config struct {
	Addr            string
	DatabaseURL     string
	RedisURL        string
	RedisTimeout    time.Duration
	LogLevel        slog.Level
	CacheTTL        time.Duration
	MaxBodyBytes    int64
	ShutdownTimeout time.Duration
}

// setting is one CSM_* variable: its default, what it means, and how it is
// read into Config. The same table drives parsing and `serve --help`.
type setting struct {
	name, def, help string
	set             func(c *Config, v string) error
}

var settings = []setting{
	{"CSM_ADDR", ":8080", "address to listen on (host:port; port 0 picks a free one)", func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("must be host:port, e.g. :8080")
		}
		c.Addr = v
		return nil
	}},
	{"CSM_DATABASE_URL", "sqlite:data/csmarket.db", "store: sqlite:PATH (embedded) or postgres://user@host:port/db", func(c *Config, v string) error {
		if !strings.HasPrefix(v, "sqlite:") && !strings.HasPrefix(v, "file:") &&
			!strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
			return fmt.Errorf("must start with sqlite:, postgres:// or postgresql://")
		}
		c.DatabaseURL = v
		return nil
	}},
	{"CSM_REDIS_URL", "", "cache and rate limits: redis://host:port/db; empty keeps them in process", func(c *Config, v string) error {
		if v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
				return fmt.Errorf("must be redis://host:port[/db] or rediss://...")
			}
		}
		c.RedisURL = v
		return nil
	}},
	{"CSM_REDIS_TIMEOUT", "50ms", "longest wait for one Redis call before the store answers instead", durationSetting(func(c *Config) *time.Duration { return &c.RedisTimeout }, time.Millisecond)},
	{"CSM_CACHE_TTL", "60s", "how long a public view is kept (with 10% jitter); writes invalidate at once", durationSetting(func(c *Config) *time.Duration { return &c.CacheTTL }, time.Second)},
	{"CSM_LOG_LEVEL", "info", "debug, info, warn or error", func(c *Config, v string) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	}},
	{"CSM_MAX_BODY_BYTES", "1048576", "largest request body accepted (413 beyond)", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 {
			return fmt.Errorf("must be a whole number of bytes, at least 1024")
		}
		c.MaxBodyBytes = n
		return nil
	}},
	{"CSM_SHUTDOWN_TIMEOUT", "15s", "how long SIGTERM waits for requests in flight", durationSetting(func(c *Config) *time.Duration { return &c.ShutdownTimeout }, 0)},
}

func durationSetting(field func(*Config) *time.Duration, min time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < min {
			return fmt.Errorf("must be a Go duration of at least %s, e.g. 30s", min)
		}
		*field(c) = d
		return nil
	}
}

// loadConfig reads every setting from getenv, falling back to defaults. The
// error names the variable and what it must be, in one line.
func loadConfig(getenv func(string) string) (Config, error) {
	var c Config
	for _, s := range settings {
		v := getenv(s.name)
		if v == "" {
			v = s.def
		}
		if err := s.set(&c, v); err != nil {
			return Config{}, fmt.Errorf("invalid %s=%q: %v", s.name, v, err)
		}
	}
	return c, nil
}

func printSettings(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  VARIABLE\tDEFAULT\tMEANING")
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.name, def, s.help)
	}
	tw.Flush()
}

package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/notify"
	"github.com/csmarket/csmarket/internal/ratelimit"
)

// Config is everything csmarket reads from its environment. Defaults are
// those of the embedded mode: SQLite under ./data and an in-process cache.
type Config struct {
	Addr            string
	DatabaseURL     string
	RedisURL        string
	PprofAddr       string
	RedisPrefix     string
	RedisTimeout    time.Duration
	LogLevel        slog.Level
	CacheTTL        time.Duration
	NearBound       time.Duration
	CacheMaxBytes   int64
	MaxBodyBytes    int64
	ShutdownTimeout time.Duration

	JWTKeyFile        string
	JWTIssuer         string
	JWTAudience       string
	BuyerEmailDomains []string
	CORSOrigins       []string
	TrustedProxies    []string
	RateLogin         ratelimit.Limit
	RateToken         ratelimit.Limit
	MinTenderPeriod   time.Duration
	Standstill        time.Duration
	OCIDPrefix        string
	PublicURL         string

	LevyBasisPoints     int
	LevyCapPence        int64
	LevyWaivedSectors   []market.Sector
	LevyDaysDue         int
	StripeKey           string
	StripeAPIBase       string
	StripeWebhookSecret string
	StripeTimeout       time.Duration

	SMTPURL        string
	SMTPFrom       string
	ReminderBefore time.Duration
	NotifyPoll     time.Duration
}

// setting is one CSM_* variable: its default, what it means, and how it is
// read into Config. The same table drives parsing and `serve --help`.
type setting struct {
	name, def, help string
	set             func(c *Config, v string) error
}

var ocidPrefix = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{2,40}$`)

var settings = []setting{
	{"CSM_ADDR", ":8080", "address to listen on (host:port; port 0 picks a free one)", func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("must be host:port, e.g. :8080")
		}
		c.Addr = v
		return nil
	}},
	{"CSM_PPROF_ADDR", "", "if set, serve Go's profiles (/debug/pprof/) on this separate address, e.g. 127.0.0.1:6060; never expose it", func(c *Config, v string) error {
		if v != "" {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("must be host:port, e.g. 127.0.0.1:6060")
			}
		}
		c.PprofAddr = v
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
				return fmt.Errorf("must be redis://host:port[/db], or rediss:// for TLS")
			}
		}
		c.RedisURL = v
		return nil
	}},
	{"CSM_REDIS_PREFIX", "csm:", "the start of every cache key and of the invalidation channel, so that deployments (or tests) can share one Redis", func(c *Config, v string) error {
		if v == "" || len(v) > 64 || strings.ContainsAny(v, " \t\r\n{}") {
			return fmt.Errorf("must be 1 to 64 characters without spaces or braces (the default is csm:)")
		}
		c.RedisPrefix = v
		return nil
	}},
	{"CSM_REDIS_TIMEOUT", "50ms", "longest wait for one Redis call before the store answers instead", durationSetting(func(c *Config) *time.Duration { return &c.RedisTimeout }, time.Millisecond)},
	{"CSM_CACHE_NEAR_BOUND", "100ms", "on one Redis server, how much older than the latest write a view served from a replica's own memory may be (pub/sub invalidation); 0s asks Redis on every hit", durationSetting(func(c *Config) *time.Duration { return &c.NearBound }, 0)},
	{"CSM_CACHE_TTL", "60s", "how long a public view is kept (with 10% jitter); writes invalidate at once", durationSetting(func(c *Config) *time.Duration { return &c.CacheTTL }, time.Second)},
	{"CSM_LOG_LEVEL", "info", "debug, info, warn or error", func(c *Config, v string) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	}},
	{"CSM_CACHE_MAX_BYTES", "16777216", "the most bytes of views a replica keeps in its own memory (least recently used go first)", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1<<20 {
			return fmt.Errorf("must be a whole number of bytes, at least 1048576")
		}
		c.CacheMaxBytes = n
		return nil
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
	{"CSM_JWT_KEY_FILE", defaultKeyFile, "Ed25519 signing keys (PKCS#8 PEM, several for rotation: the last signs, all verify); created when missing", func(c *Config, v string) error {
		c.JWTKeyFile = v
		return nil
	}},
	{"CSM_JWT_ISSUER", "csmarket", "the iss of access tokens", func(c *Config, v string) error {
		c.JWTIssuer = v
		return nil
	}},
	{"CSM_JWT_AUDIENCE", "csmarket-api", "the aud of access tokens", func(c *Config, v string) error {
		c.JWTAudience = v
		return nil
	}},
	{"CSM_BUYER_EMAIL_DOMAINS", "nhs.net", "comma-separated e-mail domains whose CCG registrations are active at once; others wait for the operator", func(c *Config, v string) error {
		c.BuyerEmailDomains = nil
		for _, d := range splitList(v) {
			if strings.ContainsAny(d, "@/ ") || !strings.Contains(d, ".") {
				return fmt.Errorf("%q is not a domain such as nhs.net", d)
			}
			c.BuyerEmailDomains = append(c.BuyerEmailDomains, strings.ToLower(d))
		}
		return nil
	}},
	{"CSM_CORS_ORIGINS", "", "comma-separated origins of a frontend served elsewhere, e.g. https://app.example.org", func(c *Config, v string) error {
		c.CORSOrigins = nil
		for _, o := range splitList(v) {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || strings.Contains(o, "*") {
				return fmt.Errorf("%q is not an origin such as https://app.example.org (no wildcard, no path)", o)
			}
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
		return nil
	}},
	{"CSM_TRUSTED_PROXIES", "", "comma-separated addresses or CIDRs of load balancers whose X-Forwarded-For is believed", func(c *Config, v string) error {
		c.TrustedProxies = nil
		for _, p := range splitList(v) {
			if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
				return fmt.Errorf("%q is not an IP address or CIDR", p)
			}
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
		return nil
	}},
	{"CSM_RATE_LOGIN", "10/1m", "login attempts allowed per account and per client address", limitSetting(func(c *Config) *ratelimit.Limit { return &c.RateLogin })},
	{"CSM_RATE_TOKEN", "600/1m", "requests allowed per signed-in user", limitSetting(func(c *Config) *ratelimit.Limit { return &c.RateToken })},
	{"CSM_STANDSTILL", "240h", "standstill between the award decision and the final award (0s allowed, for demos and tests)", durationSetting(func(c *Config) *time.Duration { return &c.Standstill }, 0)},
	{"CSM_OCID_PREFIX", "ocds-csmkt", "the prefix of Open Contracting IDs (ocids) in the OCDS export", func(c *Config, v string) error {
		if !ocidPrefix.MatchString(v) {
			return fmt.Errorf("must be an ocid prefix such as ocds-a1b2c3 (letters, digits and hyphens)")
		}
		c.OCIDPrefix = v
		return nil
	}},
	{"CSM_PUBLIC_URL", "http://localhost:8080", "the marketplace's public address, used in published open data", func(c *Config, v string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("must be an http or https address")
		}
		c.PublicURL = strings.TrimRight(v, "/")
		return nil
	}},
	{"CSM_MIN_TENDER_PERIOD", "168h", "shortest time from publishing a tender to its bid deadline (0s allowed, for demos and tests)", durationSetting(func(c *Config) *time.Duration { return &c.MinTenderPeriod }, 0)},
	{"CSM_LEVY_BASIS_POINTS", "100", "the marketplace levy on each final award, in basis points of its value (100 = 1%)", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > market.MaxLevyBasisPoints {
			return fmt.Errorf("must be a whole number of basis points from 0 to %d", market.MaxLevyBasisPoints)
		}
		c.LevyBasisPoints = n
		return nil
	}},
	{"CSM_LEVY_CAP_PENCE", "0", "the most one levy can be, in pence (0: no cap)", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("must be a whole number of pence, 0 for no cap")
		}
		c.LevyCapPence = n
		return nil
	}},
	{"CSM_LEVY_WAIVED_SECTORS", "", "comma-separated sectors whose levies are waived (recorded at 0): nhs, local_authority, third_sector, independent", func(c *Config, v string) error {
		secs, err := market.ParseSectors(v)
		if err != nil {
			return fmt.Errorf("%v; want nhs, local_authority, third_sector or independent", err)
		}
		c.LevyWaivedSectors = secs
		return nil
	}},
	{"CSM_LEVY_DAYS_DUE", "30", "days a supplier has to pay a levy invoice", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 365 {
			return fmt.Errorf("must be a number of days from 1 to 365")
		}
		c.LevyDaysDue = n
		return nil
	}},
	{"CSM_STRIPE_KEY", "", "Stripe secret API key; empty records levies as not_sent and calls nothing", func(c *Config, v string) error {
		c.StripeKey = v
		return nil
	}},
	{"CSM_STRIPE_API_BASE", "", "Stripe's API address; empty is Stripe itself (set it to stripe-mock in tests)", func(c *Config, v string) error {
		if v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return fmt.Errorf("must be an http or https address")
			}
		}
		c.StripeAPIBase = v
		return nil
	}},
	{"CSM_STRIPE_WEBHOOK_SECRET", "", "signing secret of the Stripe webhook endpoint (whsec_...); empty refuses every webhook", func(c *Config, v string) error {
		c.StripeWebhookSecret = v
		return nil
	}},
	{"CSM_SMTP_URL", "", "SMTP server for notification e-mails: smtp://[user:pass@]host:port (STARTTLS when offered) or smtps://host:port; empty records e-mails for the operator without sending", func(c *Config, v string) error {
		if v != "" {
			if _, err := notify.ParseSMTPURL(v); err != nil {
				return err
			}
		}
		c.SMTPURL = v
		return nil
	}},
	{"CSM_SMTP_FROM", "csmarket <no-reply@csmarket.localhost>", "the From of notification e-mails", func(c *Config, v string) error {
		if _, err := mail.ParseAddress(v); err != nil {
			return fmt.Errorf("must be an address such as csmarket <no-reply@example.org>")
		}
		c.SMTPFrom = v
		return nil
	}},
	{"CSM_REMINDER_BEFORE", "48h", "how long before a bid deadline suppliers that asked a question and have not bid are reminded", durationSetting(func(c *Config) *time.Duration { return &c.ReminderBefore }, time.Minute)},
	{"CSM_NOTIFY_POLL", "250ms", "how often each replica looks for events and deadlines to notify of", durationSetting(func(c *Config) *time.Duration { return &c.NotifyPoll }, 10*time.Millisecond)},
	{"CSM_STRIPE_TIMEOUT", "10s", "longest wait for one Stripe call before the levy is retried later", durationSetting(func(c *Config) *time.Duration { return &c.StripeTimeout }, time.Millisecond)},
}

func limitSetting(field func(*Config) *ratelimit.Limit) func(*Config, string) error {
	return func(c *Config, v string) error {
		l, err := ratelimit.ParseLimit(v)
		if err != nil {
			return fmt.Errorf("must be N/duration, e.g. 10/1m")
		}
		*field(c) = l
		return nil
	}
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
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

// secretSettings are never echoed in an error.
var secretSettings = map[string]bool{"CSM_STRIPE_KEY": true, "CSM_STRIPE_WEBHOOK_SECRET": true, "CSM_SMTP_URL": true}

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
			if secretSettings[s.name] {
				return Config{}, fmt.Errorf("invalid %s: %v", s.name, err)
			}
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

package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis layout, for a namespace ns under the prefix P:
//
//	P{ns}:gen      the generation, a plain integer with no expiry
//	P{ns}:v:KEY    a hash: g (the generation it was loaded at), e (ETag), b (body)
//
// A missing generation, whether evicted or lost in a restart, is created
// from the server's clock in nanoseconds, which is above any generation the
// lost counter could have reached (it starts from the clock and grows by one
// per invalidation), so that a value stored before the loss never matches.
const newGenLua = `
local function newgen(k)
  local t = redis.call('TIME')
  local g = t[1] .. string.format('%06d', tonumber(t[2])) .. '000'
  redis.call('SET', k, g)
  return g
end
`

// fetchScript returns {gen} when ARGV[1] (the generation of this process's
// near-cache copy) is current or no current value is stored, else
// {gen, etag, body, pttl}.
var fetchScript = redis.NewScript(newGenLua + `
local g = redis.call('GET', KEYS[1])
if not g then g = newgen(KEYS[1]) end
if g == ARGV[1] then return {g} end
local v = redis.call('HMGET', KEYS[2], 'g', 'e', 'b')
if v[1] == g then return {g, v[2], v[3], redis.call('PTTL', KEYS[2])} end
return {g}
`)

// storeScript keeps a loaded value only while its generation is current, so
// that a slow load from before an invalidation cannot replace a newer value.
var storeScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'g', ARGV[1], 'e', ARGV[2], 'b', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
`)

// bumpScript increments the generation and publishes "ns gen" (ARGV[2]
// is ns) on the invalidation channel (ARGV[1]) in the same step, so that
// a listener hears of every bump in the order Redis made them. The new
// generation is read back as a string: a Lua number (a double) would round
// it.
var bumpScript = redis.NewScript(newGenLua + `
if redis.call('EXISTS', KEYS[1]) == 0 then newgen(KEYS[1]) end
redis.call('INCR', KEYS[1])
local g = redis.call('GET', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2] .. ' ' .. g)
return g
`)

func (c *Cache) genKey(ns string) string { return c.prefix + "{" + ns + "}:gen" }

func (c *Cache) valueKey(ns, key string) string { return c.prefix + "{" + ns + "}:v:" + key }

func (c *Cache) fetchRedis(ctx context.Context, ns, key string, ttl time.Duration, load func(context.Context) ([]byte, error)) (Entry, error) {
	if !c.usable(ctx, ns) {
		c.m.err.Inc()
		return c.load(ctx, "local\x00"+flightKey(ns, c.gen(ns).Load(), key), load, nil)
	}
	ik := ns + "\x00" + key
	now := c.now().UnixNano()
	var near int64
	it, ok := c.items.Get(ik)
	if ok && now < it.expires {
		if gen, ok := c.near(ctx, ns); ok && gen == it.gen && etagsAllow(ctx, it.e.ETag) {
			c.m.hit.Inc()
			c.m.near.Inc()
			return it.e, nil
		}
		near = it.gen
	}
	epoch := c.epoch()
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	res, err := fetchScript.Run(rctx, c.rdb, []string{c.genKey(ns), c.valueKey(ns, key)}, near).Slice()
	cancel()
	var gen int64
	if err == nil {
		gen, err = parseFetch(res)
	}
	if err == nil {
		c.heard(ns, gen, epoch)
	}
	if err != nil {
		c.failed(ctx, "fetch", err)
		c.m.err.Inc()
		return c.load(ctx, "local\x00"+flightKey(ns, c.gen(ns).Load(), key), load, nil)
	}
	c.succeeded()
	if near != 0 && gen == near {
		c.m.hit.Inc()
		return it.e, nil
	}
	if len(res) == 4 {
		e := Entry{Body: []byte(res[2].(string)), ETag: res[1].(string)}
		pttl, _ := res[3].(int64)
		if pttl > 0 {
			c.keep(ik, &item{gen: gen, expires: now + pttl*int64(time.Millisecond), e: e})
		}
		c.m.hit.Inc()
		return e, nil
	}
	c.m.miss.Inc()
	return c.load(ctx, flightKey(ns, gen, key), load, func(lctx context.Context, e Entry) {
		d := c.jittered(ttl)
		sctx, cancel := context.WithTimeout(lctx, c.timeout)
		defer cancel()
		err := storeScript.Run(sctx, c.rdb, []string{c.genKey(ns), c.valueKey(ns, key)},
			gen, e.ETag, e.Body, d.Milliseconds()).Err()
		if err != nil {
			c.failed(lctx, "store", err)
			return
		}
		c.keep(ik, &item{gen: gen, expires: c.now().UnixNano() + int64(d), e: e})
	})
}

func parseFetch(res []any) (int64, error) {
	if len(res) != 1 && len(res) != 4 {
		return 0, fmt.Errorf("cache: unexpected reply of %d elements", len(res))
	}
	s, _ := res[0].(string)
	gen, err := strconv.ParseInt(s, 10, 64)
	if err != nil || gen == 0 {
		return 0, fmt.Errorf("cache: unexpected generation %q", s)
	}
	if len(res) == 4 {
		if _, ok := res[1].(string); !ok {
			return 0, errors.New("cache: unexpected etag")
		}
		if _, ok := res[2].(string); !ok {
			return 0, errors.New("cache: unexpected body")
		}
	}
	return gen, nil
}

// bump makes every view of ns stale on Redis, learns the new generation
// here at once, and reports it to ctx's Collector.
func (c *Cache) bump(ctx context.Context, ns string) error {
	epoch := c.epoch()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	s, err := bumpScript.Run(rctx, c.rdb, []string{c.genKey(ns)}, c.channel(), ns).Text()
	if err != nil {
		return err
	}
	gen, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("cache: unexpected generation %q", s)
	}
	c.heard(ns, gen, epoch)
	collect(ctx, ns, gen)
	return nil
}

// usable reports whether this request may use Redis for ns: not while the
// breaker is open, and not while an invalidation of ns has not reached
// Redis, since Redis may still hold views older than the write. The probe
// that may close the breaker first rejoins Redis.
func (c *Cache) usable(ctx context.Context, ns string) bool {
	if _, ok := c.used.Load(ns); !ok {
		c.used.Store(ns, true)
	}
	if c.npending.Load() > 0 {
		c.pmu.Lock()
		p := c.pending[ns]
		c.pmu.Unlock()
		if p {
			return false
		}
	}
	ok, probe := c.br.allow(c.now().UnixNano())
	if probe {
		return c.rejoin(ctx)
	}
	return ok
}

// rejoin bumps every namespace this process has used, before it uses
// Redis again after losing it. While it was cut off, others may have been
// too, and their writes' invalidations may not have reached Redis yet
// (they retry every Cooldown): the views Redis holds from before the
// outage may be older than the store. Bumping them all retires those
// views at the cost of one cold cache per outage, instead of serving them
// until every writer's retry gets through. It reports whether Redis took
// every bump; when it did not, the breaker opens again.
func (c *Cache) rejoin(ctx context.Context) bool {
	var nss []string
	c.used.Range(func(ns, _ any) bool {
		nss = append(nss, ns.(string))
		return true
	})
	c.pmu.Lock()
	for ns := range c.pending {
		if _, ok := c.used.Load(ns); !ok {
			nss = append(nss, ns)
		}
	}
	c.pmu.Unlock()
	for _, ns := range nss {
		if err := c.bump(ctx, ns); err != nil {
			c.failed(ctx, "rejoin", err)
			return false
		}
		if c.removePending(ns) {
			c.m.invalidations.WithLabelValues("retried").Inc()
			c.log.Info("cache: invalidation reached redis", "namespace", ns)
		} else {
			c.m.invalidations.WithLabelValues("rejoin").Inc()
		}
	}
	return true
}

// failed records a failure of Redis and opens the breaker, unless the
// caller itself gave up.
func (c *Cache) failed(ctx context.Context, op string, err error) {
	c.m.backendErrors.WithLabelValues(op).Inc()
	if ctx.Err() != nil {
		c.br.release()
		return
	}
	if c.br.trip(c.now().UnixNano() + int64(c.cooldown)) {
		c.m.breakerOpen.Set(1)
		c.log.WarnContext(ctx, "cache: redis failed; serving from the store",
			"op", op, "error", err.Error(), "retry_in", c.cooldown.String())
	}
}

func (c *Cache) succeeded() {
	if c.br.reset() {
		c.m.breakerOpen.Set(0)
		c.log.Info("cache: redis answers again")
	}
}

func (c *Cache) addPending(ns string) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if !c.pending[ns] {
		c.pending[ns] = true
		c.npending.Add(1)
	}
	if !c.retrying {
		c.retrying = true
		go c.retryPending()
	}
}

// removePending reports whether ns was pending.
func (c *Cache) removePending(ns string) bool {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if c.pending[ns] {
		delete(c.pending, ns)
		c.npending.Add(-1)
		return true
	}
	return false
}

// retryPending bumps the namespaces whose invalidation failed, every
// cooldown, until Redis takes them all or the cache is closed.
func (c *Cache) retryPending() {
	t := time.NewTicker(c.cooldown)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		c.pmu.Lock()
		nss := make([]string, 0, len(c.pending))
		for ns := range c.pending {
			nss = append(nss, ns)
		}
		c.pmu.Unlock()
		for _, ns := range nss {
			if err := c.bump(context.Background(), ns); err != nil {
				c.log.Debug("cache: invalidation retry failed", "namespace", ns, "error", err.Error())
				break
			}
			if c.removePending(ns) {
				c.m.invalidations.WithLabelValues("retried").Inc()
				c.log.Info("cache: invalidation reached redis", "namespace", ns)
			}
		}
		c.pmu.Lock()
		if len(c.pending) == 0 {
			c.retrying = false
			c.pmu.Unlock()
			return
		}
		c.pmu.Unlock()
	}
}

// RedisClient returns a client for the Redis at addr, which is one of:
//
//	redis://[user:password@]host:port[/db][?options]   one server (rediss:// for TLS)
//	redis://host:port?addr=host2:port2&addr=...         a Redis Cluster, by seed nodes
//	redis://host:port?cluster=true                      a Redis Cluster, by one endpoint
//	redis://host1:port1,host2:port2                     a Redis Cluster
//	host1:port1,host2:port2                             a Redis Cluster
//
// The options are go-redis's (dial_timeout, pool_size, ...). The client
// honours context deadlines, so that Options.Timeout bounds every call, and
// retries a failed command at most once.
func RedisClient(addr string) (redis.UniversalClient, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return nil, errors.New("cache: empty redis address")
	}
	if !strings.Contains(addr, "://") {
		return newCluster(&redis.ClusterOptions{Addrs: splitAddrs(addr)})
	}
	u, err := url.Parse(addr)
	if err != nil {
		return nil, fmt.Errorf("cache: redis url: %w", redactURLError(err))
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("cache: redis url: scheme must be redis or rediss, not %q", u.Scheme)
	}
	q := u.Query()
	cluster := q.Has("addr") || strings.Contains(u.Host, ",")
	if v := q.Get("cluster"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("cache: redis url: cluster=%q is not a boolean", v)
		}
		cluster = cluster || b
		q.Del("cluster")
	}
	if !cluster {
		u.RawQuery = q.Encode()
		o, err := redis.ParseURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("cache: redis url: %w", err)
		}
		o.ContextTimeoutEnabled = true
		o.MaxRetries = retries(o.MaxRetries)
		o.DialerRetries = 1
		if o.DialTimeout == 0 {
			o.DialTimeout = time.Second
		}
		return redis.NewClient(o), nil
	}
	hosts := splitAddrs(u.Host)
	u.Host = hosts[0]
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	if len(u.Path) > 1 {
		return nil, errors.New("cache: redis url: a cluster has no database number")
	}
	u.Path = ""
	u.RawQuery = q.Encode()
	o, err := redis.ParseClusterURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("cache: redis url: %w", err)
	}
	return newCluster(o)
}

func newCluster(o *redis.ClusterOptions) (redis.UniversalClient, error) {
	if len(o.Addrs) == 0 || o.Addrs[0] == "" {
		return nil, errors.New("cache: no redis address")
	}
	o.ContextTimeoutEnabled = true
	o.MaxRetries = retries(o.MaxRetries)
	o.DialerRetries = 1
	if o.DialTimeout == 0 {
		o.DialTimeout = time.Second
	}
	return redis.NewClusterClient(o), nil
}

func retries(n int) int {
	if n == 0 {
		return 1
	}
	return n
}

func splitAddrs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// redactURLError drops the URL from a parse error, since it may hold a
// password.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// warnUnboundedClient logs when the client ignores context deadlines, since
// then a slow Redis holds requests for its own read timeout, not Timeout.
func warnUnboundedClient(rdb redis.UniversalClient, log *slog.Logger) {
	var enabled bool
	switch cl := rdb.(type) {
	case *redis.Client:
		enabled = cl.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		enabled = cl.Options().ContextTimeoutEnabled
	default:
		return
	}
	if !enabled {
		log.Warn("cache: the redis client ignores context deadlines; build it with cache.RedisClient or set ContextTimeoutEnabled")
	}
}

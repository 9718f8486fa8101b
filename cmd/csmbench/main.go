// Command csmbench measures csmarket's cached directory on loopback with wrk:
// against a bare Gin handler serving the same bytes, and at two directory
// sizes; and the comparison of a tender of 1,000 bids, signed in, against
// the cached directory on the same server. `make bench` runs it. It prints figures; it does not judge noise.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/csmarket/csmarket/api"
	"github.com/csmarket/csmarket/internal/cache"
)

const target = "/api/v1/providers?sector=nhs"

func main() {
	bin := flag.String("bin", "bin/csmarket", "the csmarket binary to measure")
	dur := flag.Duration("duration", 8*time.Second, "length of one wrk run")
	conns := flag.Int("connections", 32, "wrk connections")
	rounds := flag.Int("rounds", 3, "alternating rounds per comparison; the median is reported")
	large := flag.Int("large", 100_000, "providers in the large directory")
	redisURL := flag.String("redis", envOr("TEST_REDIS_URL", "CSM_REDIS_URL"), "Redis for the production runs; database 14 of its server is used and its csm:* keys cleared (empty: skip them)")
	pgURL := flag.String("postgres", os.Getenv("TEST_DATABASE_URL"), "a PostgreSQL server URL taking scratch databases for the production runs, dropped after (empty: skip them)")
	mixedDur := flag.Duration("mixed-duration", 30*time.Second, "length of the mixed load")
	mixedOnly := flag.Bool("mixed-only", false, "measure only the mixed load")
	only := flag.String("only", "", "comma-separated sections to run: cached (with compression), size, comparison, mixed (empty: all)")
	cmpOnly := flag.Bool("comparison-only", false, "measure only the comparison against the cached list")
	misses := addMissesFlags(flag.CommandLine)
	flag.Parse()
	if misses.run {
		if err := misses.bench(); err != nil {
			fmt.Fprintln(os.Stderr, "csmbench:", err)
			os.Exit(1)
		}
		return
	}
	b := &bench{bin: *bin, dur: *dur, conns: *conns, rounds: *rounds, comparisonOnly: *cmpOnly, mixedOnly: *mixedOnly, mixedDur: *mixedDur, only: map[string]bool{}}
	for _, sec := range strings.Split(*only, ",") {
		if sec = strings.TrimSpace(sec); sec != "" {
			b.only[sec] = true
		}
	}
	if err := b.main(*large, benchRedis(*redisURL), *pgURL); err != nil {
		fmt.Fprintln(os.Stderr, "csmbench:", err)
		os.Exit(1)
	}
}

type bench struct {
	bin            string
	dur            time.Duration
	conns          int
	rounds         int
	tmp            string
	comparisonOnly bool
	mixedOnly      bool
	mixedDur       time.Duration
	only           map[string]bool
}

// want reports whether the section was asked for (-only; all by default).
func (b *bench) want(section string) bool { return len(b.only) == 0 || b.only[section] }

type result struct {
	rps float64
	p99 time.Duration
}

func (b *bench) main(large int, redisURL, pgURL string) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk is not installed (make bench installs it from Debian)")
	}
	tmp, err := os.MkdirTemp("", "csmbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	b.tmp = tmp
	if b.comparisonOnly {
		return b.comparisonBench()
	}
	if b.mixedOnly {
		return b.mixed(pgURL, redisURL)
	}
	fmt.Printf("csmbench: GET %s, wrk -t1 -c%d -d%s, median of %d alternating rounds\n\n", target, b.conns, b.dur, b.rounds)

	if b.want("cached") {
		// 1. The cached directory against bare Gin handlers serving the same
		// bytes: on the embedded default, and on PostgreSQL and Redis.
		fmt.Println("1. the cached directory against the floor (a bare Gin handler serving the same bytes)")
		demo, err := b.start("demo", 0, "")
		if err != nil {
			return err
		}
		defer demo.stop()
		urls := map[string]string{"embedded (SQLite, in process)": demo.url}
		floors := map[string]string{"embedded (SQLite, in process)": "floor for embedded"}
		body, etag, err := fetch(demo.url + target)
		if err != nil {
			return err
		}
		bare, err := serveBaseline(body, etag)
		if err != nil {
			return err
		}
		defer bare.stop()
		urls["floor for embedded"] = bare.url
		if pgURL != "" && redisURL != "" {
			prod, cleanup, err := b.startProduction("production", pgURL, redisURL)
			if err != nil {
				return err
			}
			defer cleanup()
			pbody, petag, err := fetch(prod.url + target)
			if err != nil {
				return err
			}
			pbare, err := serveBaseline(pbody, petag)
			if err != nil {
				return err
			}
			defer pbare.stop()
			urls["PostgreSQL + Redis"] = prod.url
			urls["floor for PostgreSQL + Redis"] = pbare.url
			floors["PostgreSQL + Redis"] = "floor for PostgreSQL + Redis"
		} else {
			fmt.Println("   (PostgreSQL + Redis skipped: set -postgres and -redis, or TEST_DATABASE_URL and TEST_REDIS_URL)")
		}
		res := b.compare(urls)
		if u, ok := urls["PostgreSQL + Redis"]; ok {
			fmt.Printf("   PostgreSQL + Redis cache: %s\n", cacheCounts(u))
		}
		fmt.Printf("   %-32s %12s %10s %10s %10s\n", "", "requests/s", "p99", "x floor", "p99/floor")
		for _, name := range sortedKeys(floors) {
			r, f := res[name], res[floors[name]]
			fmt.Printf("   %-32s %12.0f %10s\n", floors[name], f.rps, f.p99)
			fmt.Printf("   %-32s %12.0f %10s %10.2f %10.2f   (targets >= 0.85, <= 1.30)\n", name, r.rps, r.p99, r.rps/f.rps, float64(r.p99)/float64(f.p99))
		}
		fmt.Printf("   response: %d bytes\n\n", len(body))

		// 2. Compression, on the embedded server: the same view asked for
		// plain and gzip'd, both cached.
		fmt.Println("2. compression (Accept-Encoding: gzip), embedded")
		gz, err := fetchGzip(demo.url + target)
		if err != nil {
			return err
		}
		cres := b.compareHeaders(map[string]wrkTarget{
			"plain": {url: demo.url + target},
			"gzip":  {url: demo.url + target, header: "Accept-Encoding: gzip"},
		})
		fmt.Printf("   %-32s %12s %10s %10s\n", "", "requests/s", "p99", "bytes")
		fmt.Printf("   %-32s %12.0f %10s %10d\n", "plain", cres["plain"].rps, cres["plain"].p99, len(body))
		fmt.Printf("   %-32s %12.0f %10s %10d\n", "gzip", cres["gzip"].rps, cres["gzip"].p99, gz)
		fmt.Printf("   gzip: %.0f%% of the bytes, %.2fx the requests/s of plain\n\n", 100*float64(gz)/float64(len(body)), cres["gzip"].rps/cres["plain"].rps)
		demo.stop()
		bare.stop()
	}

	if b.want("size") {
		// 3. The same request at 1,000 and at a large directory, and the
		// memory of the large one's serve after it.
		fmt.Println("3. directory size")
		small, err := b.start("small", 1000, "")
		if err != nil {
			return err
		}
		fmt.Printf("   seeding %d providers...\n", large)
		big, err := b.start("large", large, "")
		if err != nil {
			small.stop()
			return err
		}
		names := map[string]string{"1,000 providers": small.url, fmt.Sprintf("%s providers", thousands(large)): big.url}
		res := b.compare(names)
		walked, err := walkDirectory(big.url)
		if err != nil {
			return err
		}
		rss, rssErr := big.rss()
		small.stop()
		big.stop()
		fmt.Printf("   %-32s %12s %10s\n", "", "requests/s", "p99")
		for _, name := range sortedKeys(names) {
			fmt.Printf("   %-32s %12.0f %10s\n", name, res[name].rps, res[name].p99)
		}
		fmt.Printf("   ratio large/1,000: %.2f (target >= 0.90)\n", res[fmt.Sprintf("%s providers", thousands(large))].rps/res["1,000 providers"].rps)
		if rssErr != nil {
			fmt.Printf("   RSS of serve: unknown (%v)\n", rssErr)
		} else {
			fmt.Printf("   RSS of serve after seeding %s providers, the runs above and %d directory pages: %.1f MiB (target <= 100 MiB)\n",
				thousands(large), walked, float64(rss)/(1<<20))
		}
	}

	if b.want("comparison") {
		// 4. The comparison of 1,000 bids, signed in, against the cached list.
		fmt.Println()
		fmt.Println("4. the comparison of 1,000 bids")
		if err := b.comparisonBench(); err != nil {
			return err
		}
	}

	if b.want("mixed") {
		// 5. The mixed load on two replicas.
		fmt.Println()
		fmt.Println("5. mixed load")
		if err := b.mixed(pgURL, redisURL); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) mixed(pgURL, redisURL string) error {
	if pgURL == "" || redisURL == "" {
		fmt.Println("   skipped: set -postgres and -redis, or TEST_DATABASE_URL and TEST_REDIS_URL")
		return nil
	}
	return b.mixedBench(pgURL, redisURL, b.mixedDur, b.conns)
}

// compare runs wrk against each URL in turn, rounds times, and returns the
// median requests/s (and its run's p99) for each.
func (b *bench) compare(urls map[string]string) map[string]result {
	runs := map[string][]result{}
	for _, u := range urls {
		_, _, _ = fetch(u + target) // warm the cache
	}
	for i := 0; i < b.rounds; i++ {
		for _, name := range sortedKeys(urls) {
			r, err := b.wrk(urls[name] + target)
			if err != nil {
				fmt.Fprintln(os.Stderr, "wrk:", err)
				continue
			}
			runs[name] = append(runs[name], r)
		}
	}
	out := map[string]result{}
	for name, rs := range runs {
		out[name] = median(rs)
	}
	return out
}

var (
	reRPS = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	reP99 = regexp.MustCompile(`\s99%\s+([0-9.]+)(us|ms|s)`)
)

func (b *bench) wrk(url string) (result, error) {
	return b.wrkAuth(url, "")
}

// parseWrk reads requests/s and the p99 latency from wrk's output,
// refusing a run with any non-2xx answer.
func parseWrk(out []byte, err error) (result, error) {
	if err != nil {
		return result{}, fmt.Errorf("%v: %s", err, out)
	}
	if bytes := string(out); strings.Contains(bytes, "Non-2xx") {
		return result{}, fmt.Errorf("non-2xx answers:\n%s", out)
	}
	m := reRPS.FindSubmatch(out)
	l := reP99.FindSubmatch(out)
	if m == nil || l == nil {
		return result{}, fmt.Errorf("cannot read wrk output:\n%s", out)
	}
	rps, _ := strconv.ParseFloat(string(m[1]), 64)
	v, _ := strconv.ParseFloat(string(l[1]), 64)
	unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[string(l[2])]
	return result{rps: rps, p99: time.Duration(v * float64(unit)).Round(time.Microsecond)}, nil
}

type server struct {
	url  string
	pid  int
	stop func()
}

// start seeds a fresh SQLite directory (the demo when n is 0, else n
// generated providers) and runs `csmarket serve` on it.
func (b *bench) start(name string, n int, redisURL string) (*server, error) {
	args := []string{"seed"}
	if n > 0 {
		args = append(args, "--synthetic", strconv.Itoa(n))
	}
	seed := exec.Command(b.bin, args...)
	seed.Env = b.env(filepath.Join(b.tmp, name+".db"), 0, redisURL)
	if out, err := seed.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("seed %s: %v: %s", name, err, out)
	}
	return b.serve(name, filepath.Join(b.tmp, name+".db"), redisURL)
}

// env is the environment of csmarket on the SQLite file path.
func (b *bench) env(path string, port int, redisURL string) []string {
	return b.envURL("sqlite:"+path, port, redisURL)
}

// envURL is the environment of csmarket on the store at dbURL. A signed-in
// user's request budget and the login limit are raised out of the load's
// reach: the limiter still counts every request, as in production.
func (b *bench) envURL(dbURL string, port int, redisURL string) []string {
	return append(os.Environ(),
		"CSM_DATABASE_URL="+dbURL,
		"CSM_ADDR=127.0.0.1:"+strconv.Itoa(port),
		"CSM_LOG_LEVEL=info",
		"CSM_REDIS_URL="+redisURL,
		"CSM_RATE_TOKEN=10000000/1m",
		"CSM_RATE_LOGIN=100000/1m",
		"CSM_JWT_KEY_FILE="+filepath.Join(b.tmp, "jwt-keys.pem"),
	)
}

// serve runs `csmarket serve` on the SQLite file path.
func (b *bench) serve(name, path, redisURL string) (*server, error) {
	return b.serveURL(name, "sqlite:"+path, redisURL)
}

// serveURL runs `csmarket serve` on the store at dbURL, its access lines
// written (batched, as in production) to a file of the run.
func (b *bench) serveURL(name, dbURL, redisURL string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(b.bin, "serve")
	cmd.Env = b.envURL(dbURL, port, redisURL)
	logf, err := os.Create(filepath.Join(b.tmp, strings.ReplaceAll(name, " ", "-")+".log"))
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &server{url: "http://127.0.0.1:" + strconv.Itoa(port), pid: cmd.Process.Pid}
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			_ = cmd.Process.Signal(os.Interrupt) // it may have exited already
			_ = cmd.Wait()                       // its exit status after an interrupt says nothing
			logf.Close()
		})
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(s.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	out, _ := os.ReadFile(logf.Name())
	return nil, fmt.Errorf("%s server did not become ready:\n%s", name, out)
}

// startProduction seeds the demo into a scratch database of pgURL's server
// and serves it with the cache on redisURL, as an operator deploys it.
func (b *bench) startProduction(name, pgURL, redisURL string) (*server, func(), error) {
	ctx := context.Background()
	dbURL, drop, err := scratchDatabase(ctx, pgURL)
	if err != nil {
		return nil, nil, err
	}
	if err := clearRedis(ctx, redisURL); err != nil {
		drop()
		return nil, nil, err
	}
	seed := exec.Command(b.bin, "seed")
	seed.Env = b.envURL(dbURL, 0, redisURL)
	if out, err := seed.CombinedOutput(); err != nil {
		drop()
		return nil, nil, fmt.Errorf("seed %s: %v: %s", name, err, out)
	}
	srv, err := b.serveURL(name, dbURL, redisURL)
	if err != nil {
		drop()
		return nil, nil, err
	}
	return srv, func() { srv.stop(); drop() }, nil
}

// rss returns the resident memory of the server's process.
func (s *server) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS")
}

// walkDirectory reads pages of the directory, in several filters and by
// cursor, as visitors and crawlers do, and returns how many it read.
func walkDirectory(base string) (int, error) {
	n := 0
	for _, q := range []string{"sector=nhs", "sector=third_sector", "sector=independent", "sector=local_authority", "q=analytics", "q=health", "region=london", ""} {
		cursor := ""
		for range 50 {
			u := base + "/api/v1/providers?page_size=100&" + q
			if cursor != "" {
				u += "&cursor=" + cursor
			}
			body, _, err := fetch(u)
			if err != nil {
				return n, err
			}
			n++
			var page struct {
				Next string `json:"next_cursor"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				return n, err
			}
			if page.Next == "" {
				break
			}
			cursor = url.QueryEscape(page.Next)
		}
	}
	return n, nil
}

// fetchGzip returns the size of the gzip'd answer at url.
func fetchGzip(u string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req) // not the client: it would unzip
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.Header.Get("Content-Encoding") != "gzip" {
		return 0, fmt.Errorf("GET %s with Accept-Encoding gzip: not gzip'd", u)
	}
	return len(body), nil
}

type wrkTarget struct{ url, header string }

// compareHeaders is compare for targets with a request header each.
func (b *bench) compareHeaders(targets map[string]wrkTarget) map[string]result {
	runs := map[string][]result{}
	names := make([]string, 0, len(targets))
	for name := range targets {
		names = append(names, name)
	}
	sort.Strings(names)
	for i := 0; i < b.rounds; i++ {
		for _, name := range names {
			t := targets[name]
			args := []string{"-t1", "-c" + strconv.Itoa(b.conns), "-d" + b.dur.String(), "--latency"}
			if t.header != "" {
				args = append(args, "-H", t.header)
			}
			r, err := parseWrk(exec.Command("wrk", append(args, t.url)...).CombinedOutput())
			if err != nil {
				fmt.Fprintln(os.Stderr, "wrk:", err)
				continue
			}
			runs[name] = append(runs[name], r)
		}
	}
	out := map[string]result{}
	for name, rs := range runs {
		out[name] = median(rs)
	}
	return out
}

// cacheCounts reads the cache's lookups from a server's metrics.
func cacheCounts(base string) string {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var parts []string
	for _, line := range strings.Split(string(b), "\n") {
		for _, p := range []string{`csm_cache_requests_total{result="hit"}`, `csm_cache_near_hits_total`, `csm_cache_requests_total{result="miss"}`, `csm_cache_requests_total{result="error"}`} {
			if v, ok := strings.CutPrefix(line, p+" "); ok {
				name := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(p, "csm_cache_"), `requests_total{result="`), `"}`)
				parts = append(parts, name+" "+v)
			}
		}
	}
	return strings.Join(parts, ", ")
}

func envOr(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// benchRedis moves a Redis URL to database 14, the benchmark's own.
func benchRedis(u string) string {
	if u == "" {
		return ""
	}
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	p.Path = "/14"
	return p.String()
}

func sortResults(rs []result) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].rps < rs[j].rps })
}

func serveBaseline(body []byte, etag string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: api.NewBaseline(body, etag)}
	go srv.Serve(ln)
	return &server{url: "http://" + ln.Addr().String(), stop: func() { _ = srv.Shutdown(context.Background()) }}, nil
}

func fetch(url string) ([]byte, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(bufio.NewReader(resp.Body))
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != 200 {
		return nil, "", fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		etag = cache.ETag(body)
	}
	return body, etag, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// thousands writes n with thousands separators: 100000 -> "100,000".
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

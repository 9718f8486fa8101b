// Command csmbench measures csmarket's cached directory on loopback with wrk:
// against a bare Gin handler serving the same bytes, and at two directory
// sizes; and the comparison of a tender of 1,000 bids, signed in, against
// the cached directory on the same server. `make bench` runs it. It prints figures; it does not judge noise.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
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
	redisURL := flag.String("redis", os.Getenv("CSM_REDIS_URL"), "also measure through this Redis (empty: skip)")
	only := flag.Bool("comparison-only", false, "measure only the comparison against the cached list")
	misses := addMissesFlags(flag.CommandLine)
	flag.Parse()
	if misses.run {
		if err := misses.bench(); err != nil {
			fmt.Fprintln(os.Stderr, "csmbench:", err)
			os.Exit(1)
		}
		return
	}
	b := &bench{bin: *bin, dur: *dur, conns: *conns, rounds: *rounds, comparisonOnly: *only}
	if err := b.main(*large, *redisURL); err != nil {
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
}

type result struct {
	rps float64
	p99 time.Duration
}

func (b *bench) main(large int, redisURL string) error {
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
	fmt.Printf("csmbench: GET %s, wrk -t1 -c%d -d%s, median of %d alternating rounds\n\n", target, b.conns, b.dur, b.rounds)

	// 1. The demo directory, cached, against a bare Gin handler with the same bytes.
	demo, err := b.start("demo", 0, "")
	if err != nil {
		return err
	}
	body, etag, err := fetch(demo.url + target)
	if err != nil {
		demo.stop()
		return err
	}
	bare, err := serveBaseline(body, etag)
	if err != nil {
		demo.stop()
		return err
	}
	res := b.compare(map[string]string{"bare gin": bare.url, "cached (in-process)": demo.url})
	demo.stop()
	bare.stop()
	fmt.Printf("%-32s %12s %10s\n", "", "requests/s", "p99")
	for _, name := range []string{"bare gin", "cached (in-process)"} {
		fmt.Printf("%-32s %12.0f %10s\n", name, res[name].rps, res[name].p99)
	}
	fmt.Printf("ratio cached/bare: %.2f (target >= 0.50), response %d bytes\n\n", res["cached (in-process)"].rps/res["bare gin"].rps, len(body))

	// 2. The same request at 1,000 and at a large directory.
	small, err := b.start("small", 1000, "")
	if err != nil {
		return err
	}
	fmt.Printf("seeding %d providers...\n", large)
	big, err := b.start("large", large, "")
	if err != nil {
		small.stop()
		return err
	}
	names := map[string]string{"1,000 providers": small.url, fmt.Sprintf("%s providers", thousands(large)): big.url}
	res = b.compare(names)
	small.stop()
	big.stop()
	fmt.Printf("%-32s %12s %10s\n", "", "requests/s", "p99")
	for _, name := range sortedKeys(names) {
		fmt.Printf("%-32s %12.0f %10s\n", name, res[name].rps, res[name].p99)
	}
	fmt.Printf("ratio large/1,000: %.2f (target >= 0.90)\n", res[fmt.Sprintf("%s providers", thousands(large))].rps/res["1,000 providers"].rps)

	// 3. The comparison of 1,000 bids, signed in, against the cached list.
	fmt.Println()
	if err := b.comparisonBench(); err != nil {
		return err
	}

	// 4. Optionally, the demo through Redis.
	if redisURL != "" {
		fmt.Println()
		rs, err := b.start("redis", 0, redisURL)
		if err != nil {
			return err
		}
		res = b.compare(map[string]string{"cached (redis)": rs.url})
		rs.stop()
		fmt.Printf("%-32s %12.0f %10s\n", "cached (redis)", res["cached (redis)"].rps, res["cached (redis)"].p99)
	}
	return nil
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

// env is the environment of csmarket on the SQLite file path. A signed-in
// user's request budget is raised out of wrk's reach: the limiter still
// counts every request, as in production.
func (b *bench) env(path string, port int, redisURL string) []string {
	return append(os.Environ(),
		"CSM_DATABASE_URL=sqlite:"+path,
		"CSM_ADDR=127.0.0.1:"+strconv.Itoa(port),
		"CSM_LOG_LEVEL=error",
		"CSM_REDIS_URL="+redisURL,
		"CSM_RATE_TOKEN=10000000/1m",
	)
}

// serve runs `csmarket serve` on the SQLite file path.
func (b *bench) serve(name, path, redisURL string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	envv := b.env(path, port, redisURL)
	cmd := exec.Command(b.bin, "serve")
	cmd.Env = envv
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{url: "http://127.0.0.1:" + strconv.Itoa(port), stop: func() {
		_ = cmd.Process.Signal(os.Interrupt) // it may have exited already
		_ = cmd.Wait()                       // its exit status after an interrupt says nothing
	}}
	deadline := time.Now().Add(30 * time.Second)
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
	return nil, fmt.Errorf("%s server did not become ready", name)
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

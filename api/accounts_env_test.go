package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/csmarket/csmarket/internal/auth"
	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/ratelimit"
	"github.com/csmarket/csmarket/internal/redistest"
	"github.com/csmarket/csmarket/internal/sqlstore"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

const (
	testIssuer   = "csmarket"
	testAudience = "csmarket-api"
	// testPassword is every test user's password: long, and on no list.
	testPassword = "plum orchard ledger quietly"
	// peer is the TCP address httptest gives every request unless a test
	// sets another.
	peer = "192.0.2.1:1234"
)

// testClock is a clock the test moves, shared by the stores, the tokens
// and the account rules, so that expiry can be crossed exactly.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2025, 11, 20, 9, 30, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testKeys is a signing key set and its private key, so that tests can
// forge tokens that differ from a genuine one in exactly one respect.
type testKeys struct {
	set  *auth.KeySet
	priv ed25519.PrivateKey
	kid  string
}

func mustKeys(tb testing.TB) testKeys {
	tb.Helper()
	pemBytes, err := auth.GenerateKeyPEM()
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "jwt.pem")
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		tb.Fatal(err)
	}
	ks, err := auth.LoadKeys(path)
	if err != nil {
		tb.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		tb.Fatal(err)
	}
	return testKeys{set: ks, priv: k.(ed25519.PrivateKey), kid: ks.SigningKID()}
}

// acctEnv is csmarket's HTTP layer with accounts, on a real store, cache,
// key set and rate limiter.
type acctEnv struct {
	db        *sqlstore.DB
	clock     *testClock
	cache     *cache.Cache
	providers market.ProviderStore // the cache wrapper, as served
	accounts  *market.Accounts
	keys      testKeys
	cfg       Config
	s         *server
	logs      *syncBuffer
}

// generous limits keep the limiter on the path of every request without
// tests that are not about limits tripping over them.
var (
	generousLogin = ratelimit.Limit{Events: 1000, Per: time.Minute}
	generousToken = ratelimit.Limit{Events: 10000, Per: time.Minute}
)

// mustAccountEnv returns an env on engine with no accounts yet; adjust may
// change the Config before the handler is built.
func mustAccountEnv(tb testing.TB, engine string, adjust ...func(*Config)) *acctEnv {
	tb.Helper()
	db := sqlstoretest.MustOpen(tb, engine)
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("server log lines at level ERROR:\n%s", logs.errors())
		}
	})
	c := cache.New(cache.Options{Logger: log})
	tb.Cleanup(func() { c.Close() })
	e := &acctEnv{db: db, clock: newTestClock(), cache: c, keys: mustKeys(tb), logs: logs}
	e.providers = cache.NewProviderStore(sqlstore.NewProviderStore(db, e.clock), c)
	e.accounts = newTestAccounts(db, e.clock, e.providers, e.keys.set)
	// As cmd wires it: users and organisations memoised, every account
	// write through the wrapper retiring the memo.
	e.accounts.Users = cache.NewUserStore(e.accounts.Users, c)
	e.cfg = Config{
		Providers:  e.providers,
		Cache:      c,
		Accounts:   e.accounts,
		JWKS:       e.keys.set.JWKS(),
		Limiter:    ratelimit.New(ratelimit.Options{Logger: log}),
		LoginLimit: generousLogin,
		TokenLimit: generousToken,
		Logger:     log,
		Registry:   prometheus.NewRegistry(),
		Clock:      e.clock,
	}
	for _, f := range adjust {
		f(&e.cfg)
	}
	e.s = newServer(e.cfg)
	return e
}

var fastPasswords = auth.NewFastPasswords()

func newTestAccounts(db *sqlstore.DB, clock market.Clock, providers market.ProviderStore, ks *auth.KeySet) *market.Accounts {
	return &market.Accounts{
		Users:             sqlstore.NewUserStore(db, clock),
		Sessions:          sqlstore.NewSessionStore(db, clock),
		Providers:         providers,
		Personal:          sqlstore.NewPersonalDataStore(db),
		Tokens:            auth.NewTokens(ks, testIssuer, testAudience),
		Passwords:         fastPasswords,
		Clock:             clock,
		BuyerEmailDomains: []string{"nhs.net"},
	}
}

// req describes one request of a test.
type req struct {
	method, target string
	body           any // nil, a string sent as it is, or a value sent as JSON
	token          string
	header         map[string]string
	remote         string // the TCP peer; peer when empty
}

// do sends r to h, checked against the contract.
func do(tb testing.TB, h http.Handler, r req) (*http.Response, []byte) {
	tb.Helper()
	var body []byte
	switch b := r.body.(type) {
	case nil:
	case string:
		body = []byte(b)
	default:
		var err error
		if body, err = json.Marshal(b); err != nil {
			tb.Fatal(err)
		}
	}
	hr := httptest.NewRequest(r.method, r.target, bytes.NewReader(body))
	if r.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	hr.RemoteAddr = peer
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	return serve(tb, h, hr)
}

// newRequest is a request from peer without a body.
func newRequest(method, target string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = peer
	return r
}

func (e *acctEnv) do(tb testing.TB, r req) (*http.Response, []byte) {
	tb.Helper()
	return do(tb, e.s.engine, r)
}

// want fails tb unless res has status.
func want(tb testing.TB, res *http.Response, body []byte, status int) {
	tb.Helper()
	if res.StatusCode != status {
		tb.Fatalf("status %d, want %d: %.600s", res.StatusCode, status, body)
	}
}

// actor is a registered user, signed in.
type actor struct {
	email, userID, orgID string
	access, refresh      string
}

func validListing(summary string) listingRequest {
	return listingRequest{
		Summary: summary, Capabilities: []string{"business_intelligence"}, Regions: []string{"midlands"},
		Size: "small", Accreditations: []string{"ISO 27001"}, DayRateMinPence: 50000, DayRateMaxPence: 80000,
		CaseStudies: []caseStudyRequest{{Title: "Dashboards for a CCG", Client: "NHS Example CCG", Summary: "On time."}},
		Contact:     contactRequest{Email: "bids@example.org", Website: "https://example.org"},
	}
}

func supplierRegistration(name, email string, id identifierRequest, l *listingRequest) registerRequest {
	return registerRequest{
		Organisation: organisationRequest{
			Kind: "supplier", Name: name, Sector: "independent",
			Identifiers: []identifierRequest{id}, Regions: []string{"midlands"},
		},
		User:    registerUserRequest{Name: "Admin of " + name, Email: email, Password: testPassword},
		Listing: l,
	}
}

func buyerRegistration(name, email, ods string) registerRequest {
	return registerRequest{
		Organisation: organisationRequest{
			Kind: "buyer", Name: name, Identifiers: []identifierRequest{{Scheme: "GB-NHS", ID: ods}},
			Regions: []string{"london"}, Population: 250000, RunningCostAllowancePerHeadPence: 2250,
		},
		User: registerUserRequest{Name: "Admin of " + name, Email: email, Password: testPassword},
	}
}

// register registers r and signs its user in.
func (e *acctEnv) register(tb testing.TB, r registerRequest) actor {
	tb.Helper()
	res, body := e.do(tb, req{method: http.MethodPost, target: "/api/v1/auth/register", body: r})
	want(tb, res, body, http.StatusCreated)
	got := mustDecode[registerResponse](tb, body)
	a := e.login(tb, r.User.Email)
	a.userID, a.orgID = got.User.ID, got.Organisation.ID
	return a
}

// login signs email in with testPassword from a peer of its own, so that
// the per-address limit of a test about limits is not spent by set-up.
func (e *acctEnv) login(tb testing.TB, email string) actor {
	tb.Helper()
	res, body := e.do(tb, req{method: http.MethodPost, target: "/api/v1/auth/login",
		body: loginRequest{Email: email, Password: testPassword}, remote: "198.51.100.1:1"})
	want(tb, res, body, http.StatusOK)
	tr := mustDecode[tokenResponse](tb, body)
	return actor{email: email, access: tr.AccessToken, refresh: tr.RefreshToken}
}

// addUser has admin add a user with role to its organisation, and signs
// the user in.
func (e *acctEnv) addUser(tb testing.TB, admin actor, email, role string) actor {
	tb.Helper()
	res, body := e.do(tb, req{method: http.MethodPost, target: "/api/v1/organisations/" + admin.orgID + "/users",
		token: admin.access, body: addUserRequest{Name: "User " + email, Email: email, Password: testPassword, Role: role}})
	want(tb, res, body, http.StatusCreated)
	u := mustDecode[userResponse](tb, body)
	a := e.login(tb, email)
	a.userID, a.orgID = u.ID, u.OrganisationID
	return a
}

// mustOperator creates the operator, as `csmarket admin create` does, and
// signs it in.
func (e *acctEnv) mustOperator(tb testing.TB) actor {
	tb.Helper()
	u, err := e.accounts.CreateOperator(context.Background(), market.NewUser{Name: "Operator", Email: "operator@csmarket.example", Password: testPassword})
	if err != nil {
		tb.Fatal(err)
	}
	a := e.login(tb, u.Email)
	a.userID, a.orgID = u.ID, u.OrganisationID
	return a
}

// world is a marketplace with an actor of every kind.
type world struct {
	supA     actor // admin of supplier A, which has a listing
	supA2    actor // a second, non-admin user of supplier A
	supB     actor // admin of supplier B, which has a listing
	buyerX   actor // admin of CCG X, active (nhs.net)
	evalX    actor // an evaluator of CCG X
	buyerY   actor // admin of CCG Y, pending (not an nhs.net address)
	operator actor
	listingA listingRequest
	listingB listingRequest
}

func (e *acctEnv) mustWorld(tb testing.TB) *world {
	tb.Helper()
	w := &world{listingA: validListing("Alpha: dashboards for CCGs."), listingB: validListing("Beta: engagement with patients.")}
	w.supA = e.register(tb, supplierRegistration("Alpha Analytics Ltd", "admin@alpha.example", identifierRequest{Scheme: "GB-COH", ID: "12345678"}, &w.listingA))
	w.supA2 = e.addUser(tb, w.supA, "second@alpha.example", "supplier")
	w.supB = e.register(tb, supplierRegistration("Beta Partners", "admin@beta.example", identifierRequest{Scheme: "GB-CHC", ID: "1234567"}, &w.listingB))
	w.buyerX = e.register(tb, buyerRegistration("NHS X CCG", "admin.x@nhs.net", "05A"))
	w.evalX = e.addUser(tb, w.buyerX, "evaluator.x@nhs.net", "evaluator")
	w.buyerY = e.register(tb, buyerRegistration("NHS Y CCG", "admin.y@example.org", "06B"))
	w.operator = e.mustOperator(tb)
	return w
}

// etagOf returns the ETag of the public profile of provider id.
func (e *acctEnv) etagOf(tb testing.TB, id string) string {
	tb.Helper()
	res, body := e.do(tb, req{method: http.MethodGet, target: "/api/v1/providers/" + id})
	want(tb, res, body, http.StatusOK)
	return res.Header.Get("ETag")
}

// fieldsOf returns the fields a problem names.
func fieldsOf(tb testing.TB, body []byte) []string {
	tb.Helper()
	var out []string
	for _, f := range mustDecode[problem](tb, body).Errors {
		out = append(out, f.Field)
	}
	return out
}

// errors returns the buffered log lines at level ERROR.
func (b *syncBuffer) errors() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, line := range strings.Split(b.buf.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// mustRedis returns a client for TEST_REDIS_URL and a key prefix no other
// test uses, deleting the prefix's keys when the test ends; it skips the
// test when the variable is not set.
func mustRedis(tb testing.TB) (redis.UniversalClient, string) {
	tb.Helper()
	prefix := redistest.Prefix(tb)
	return redistest.MustClient(tb, prefix), prefix
}

// redisIfSet is mustRedis without the skip: nil when TEST_REDIS_URL is
// not set, so that a test can run in process and add Redis when it can.
func redisIfSet(tb testing.TB) (redis.UniversalClient, string) {
	tb.Helper()
	if os.Getenv("TEST_REDIS_URL") == "" {
		return nil, ""
	}
	return mustRedis(tb)
}

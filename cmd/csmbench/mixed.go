package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/csmarket/csmarket/internal/auth"
	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore"
)

// The mixed load: two replicas on one PostgreSQL and one Redis, driven for
// a while by closed-loop clients that each pick, per request, a public
// read (90%), a signed-in read (8%) or a write (2%), and send it to the
// replicas in turn as a load balancer would. Every request is timed by
// class, so that the figures are per class (wrk's Lua cannot time one
// request against another). After each acknowledged listing edit the other
// replica is read with the write's Consistency-Token, which must show the
// edit, and again without it once the near-cache bound has passed.
const (
	mxSuppliers  = 24
	mxClosedBids = 200
	mxQuality    = 3
	mxPassword   = "a long mixed-load passphrase"
	mxLead       = "lead@mixed.nhs.net"
)

type mixedWorld struct {
	openTender, closedTender string
	closedBids               []string
	suppliers                []mxSupplier
	providerIDs              []string
}

type mxSupplier struct {
	email, orgID, bidID string
}

// seedMixed writes the world straight into the store: a CCG and its lead
// buyer (an evaluator of the closed tender), suppliers each with a user, a
// listing and a bid on the open tender, and a closed tender of bids to
// score.
func seedMixed(ctx context.Context, url string) (*mixedWorld, error) {
	db, err := sqlstore.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	clock := market.SystemClock{}
	users := sqlstore.NewUserStore(db, clock)
	orgs := sqlstore.NewOrganisationStore(db, clock)
	tenders := sqlstore.NewTenderStore(db, clock)
	evals := sqlstore.NewEvaluationStore(db, clock)
	hash, err := auth.NewPasswords().Hash(mxPassword)
	if err != nil {
		return nil, err
	}
	ccg := market.Organisation{Kind: market.KindBuyer, Name: "NHS Mixed Load CCG", Status: market.StatusActive,
		Identifiers: []market.Identifier{{Scheme: "GB-NHS", ID: "98Y"}}, Regions: []string{"midlands"},
		Population: 250_000, RunningCostAllowancePerHeadPence: 2_000}
	lead := market.User{Name: "Lead buyer", Email: mxLead, Role: market.RoleBuyer, Admin: true, Status: market.UserActive, PasswordHash: hash}
	if err := users.Register(ctx, &ccg, nil, &lead); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	criteria := []market.Criterion{{Key: "price", Name: "Price", Kind: market.CriterionPrice, Weight: 40}}
	responses := map[string]string{}
	for q := range mxQuality {
		k := fmt.Sprintf("q%d", q)
		criteria = append(criteria, market.Criterion{Key: k, Name: "Quality " + k, Kind: market.CriterionQuality, Weight: 20})
		responses[k] = "Our response."
	}
	mk := func(title string, open bool) (market.Tender, error) {
		t := market.Tender{BuyerID: ccg.ID, CreatedBy: lead.ID, Title: title, Description: "The mixed load.",
			Capabilities: []string{"contract_management"}, Regions: []string{"midlands"}, ContractMonths: 24, BudgetPence: 40_000_000,
			ClarificationDeadline: now.Add(-2 * time.Hour), BidDeadline: now.Add(-time.Hour), PublishedAt: now.Add(-72 * time.Hour),
			Criteria: criteria}
		if open {
			t.ClarificationDeadline, t.BidDeadline = now.Add(6*24*time.Hour), now.Add(7*24*time.Hour)
		}
		err := tenders.CreateTender(ctx, &t, market.AuditEvent{ActorUser: lead.ID, ActorOrg: ccg.ID, ObjectType: "tender", Action: "tender.created"})
		return t, err
	}
	open, err := mk("Mixed load: open for bids", true)
	if err != nil {
		return nil, err
	}
	closed, err := mk("Mixed load: being scored", false)
	if err != nil {
		return nil, err
	}
	e := market.Evaluator{TenderID: closed.ID, UserID: lead.ID, OrganisationID: ccg.ID, Assigned: true, AssignedBy: lead.ID, AssignedAt: now}
	ev := market.AuditEvent{ActorUser: lead.ID, ActorOrg: ccg.ID, ObjectType: "tender", ObjectID: closed.ID, TenderID: closed.ID, Action: "evaluator.assigned"}
	if err := evals.AssignEvaluator(ctx, &e, ev); err != nil {
		return nil, err
	}
	e.DeclaredAt = now
	ev.Action = "conflict.declared"
	if err := evals.DeclareConflicts(ctx, &e, ev); err != nil {
		return nil, err
	}
	w := &mixedWorld{openTender: open.ID, closedTender: closed.ID}
	for i := range mxSuppliers {
		email := fmt.Sprintf("bids%02d@mixed.example", i)
		o := market.Organisation{Kind: market.KindSupplier, Name: fmt.Sprintf("Mixed Load Supplier %02d Ltd", i),
			Sector: market.Sectors[i%len(market.Sectors)], Status: market.StatusActive,
			Identifiers: []market.Identifier{{Scheme: "GB-COH", ID: fmt.Sprintf("%08d", 20_000_000+i)}}, Regions: []string{"midlands"}}
		l := market.Listing{Summary: "Contract management for the mixed load.", Capabilities: []string{"contract_management"},
			Regions: []string{"midlands"}, Size: "small", Contact: market.Contact{Email: email}}
		u := market.User{Name: "Bid manager", Email: email, Role: market.RoleSupplier, Admin: true, Status: market.UserActive, PasswordHash: hash}
		if err := users.Register(ctx, &o, &l, &u); err != nil {
			return nil, err
		}
		bid := market.Bid{TenderID: open.ID, SupplierID: o.ID, SubmittedBy: u.ID, Status: market.BidSubmitted, Version: 1,
			PricePence: int64(30_000_000 + 1_000*i), Responses: responses, SubmittedAt: now, UpdatedAt: now}
		if err := tenders.CreateBid(ctx, &bid, market.AuditEvent{ActorUser: u.ID, ActorOrg: o.ID, ObjectType: "bid", TenderID: open.ID, Action: "bid.submitted"}); err != nil {
			return nil, err
		}
		w.suppliers = append(w.suppliers, mxSupplier{email: email, orgID: o.ID, bidID: bid.ID})
		w.providerIDs = append(w.providerIDs, o.ID)
	}
	for i := range mxClosedBids {
		o := market.Organisation{Kind: market.KindSupplier, Name: fmt.Sprintf("Scored Supplier %03d Ltd", i),
			Sector: market.Sectors[i%len(market.Sectors)], Status: market.StatusActive,
			Identifiers: []market.Identifier{{Scheme: "GB-COH", ID: fmt.Sprintf("%08d", 21_000_000+i)}}, Regions: []string{"midlands"}}
		if err := orgs.CreateOrganisation(ctx, &o, nil); err != nil {
			return nil, err
		}
		bid := market.Bid{TenderID: closed.ID, SupplierID: o.ID, SubmittedBy: lead.ID, Status: market.BidSubmitted, Version: 1,
			PricePence: int64(30_000_000 + 7_919*i), Responses: responses, SubmittedAt: now.Add(-90 * time.Minute), UpdatedAt: now}
		if err := tenders.CreateBid(ctx, &bid, market.AuditEvent{ActorOrg: o.ID, ObjectType: "bid", TenderID: closed.ID, Action: "bid.submitted"}); err != nil {
			return nil, err
		}
		w.closedBids = append(w.closedBids, bid.ID)
		w.providerIDs = append(w.providerIDs, o.ID)
	}
	return w, nil
}

// mxClass is one class of request in the mix, with its timings.
type mxClass struct {
	name   string
	weight int
	mu     sync.Mutex
	times  []time.Duration
	errs   atomic.Int64
	errMsg atomic.Value // the first error, for the report
}

func (c *mxClass) record(d time.Duration, err error) {
	if err != nil {
		if c.errs.Add(1) == 1 {
			c.errMsg.Store(err.Error())
		}
		return
	}
	c.mu.Lock()
	c.times = append(c.times, d)
	c.mu.Unlock()
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)-1))
	return sorted[i]
}

// mixedBench runs the mixed load against two replicas of csmarket on a
// scratch database of pgURL's server and the Redis at redisURL.
func (b *bench) mixedBench(pgURL, redisURL string, dur time.Duration, clients int) error {
	ctx := context.Background()
	dbURL, drop, err := scratchDatabase(ctx, pgURL)
	if err != nil {
		return err
	}
	defer drop()
	if err := clearRedis(ctx, redisURL); err != nil {
		return err
	}
	seed := exec.Command(b.bin, "seed", "--synthetic", "1000")
	seed.Env = b.envURL(dbURL, 0, redisURL)
	if out, err := seed.CombinedOutput(); err != nil {
		return fmt.Errorf("seed: %v: %s", err, out)
	}
	w, err := seedMixed(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("seed the mixed load: %w", err)
	}
	var replicas []*server
	for i := range 2 {
		srv, err := b.serveURL(fmt.Sprintf("replica %d", i+1), dbURL, redisURL)
		if err != nil {
			return err
		}
		defer srv.stop()
		replicas = append(replicas, srv)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * clients}, Timeout: 10 * time.Second}
	login := func(email string) (string, error) {
		body, _ := json.Marshal(map[string]string{"email": email, "password": mxPassword})
		resp, err := hc.Post(replicas[0].url+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
			return "", fmt.Errorf("login %s: %d %v", email, resp.StatusCode, err)
		}
		return tok.AccessToken, nil
	}
	leadToken, err := login(mxLead)
	if err != nil {
		return err
	}
	tokens := make([]string, len(w.suppliers))
	for i, s := range w.suppliers {
		if tokens[i], err = login(s.email); err != nil {
			return err
		}
	}

	public := &mxClass{name: "public reads", weight: 90}
	signed := &mxClass{name: "signed-in reads", weight: 8}
	writes := &mxClass{name: "writes", weight: 2}
	classes := []*mxClass{public, signed, writes}
	var (
		nextReplica            atomic.Uint64
		withToken, staleToken  atomic.Int64
		afterBound, staleBound atomic.Int64
		writeKinds             [4]atomic.Int64
		checks                 sync.WaitGroup
		supplierLocks          = make([]sync.Mutex, len(w.suppliers))
		words                  = []string{"analytics", "contract", "population", "health", "finance", "risk"}
		sectors                = []string{"nhs", "local_authority", "third_sector", "independent"}
		regions                = []string{"midlands", "london", "north_west", "south_east"}
		deadline               = time.Now().Add(dur)
	)
	do := func(base, method, path, token string, body any, header map[string]string) (*http.Response, []byte, error) {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, nil, err
		}
		if resp.StatusCode >= 300 && resp.StatusCode != http.StatusNotModified {
			return resp, out, fmt.Errorf("%s %s: %d %.200s", method, path, resp.StatusCode, out)
		}
		return resp, out, nil
	}
	profileShows := func(base, id, summary string, header map[string]string) (bool, error) {
		_, body, err := do(base, http.MethodGet, "/api/v1/providers/"+id, "", nil, header)
		if err != nil {
			return false, err
		}
		return strings.Contains(string(body), summary), nil
	}
	var edits atomic.Int64
	client := func(seed uint64) {
		rng := rand.New(rand.NewPCG(seed, seed*7919+1))
		for time.Now().Before(deadline) {
			n := nextReplica.Add(1)
			base, other := replicas[n%2].url, replicas[(n+1)%2].url
			pick := rng.IntN(100)
			start := time.Now()
			switch {
			case pick < public.weight:
				var path string
				switch rng.IntN(6) {
				case 0:
					path = "/api/v1/providers?sector=" + sectors[rng.IntN(len(sectors))]
				case 1:
					path = "/api/v1/providers?q=" + words[rng.IntN(len(words))]
				case 2:
					path = "/api/v1/providers/" + w.providerIDs[rng.IntN(len(w.providerIDs))]
				case 3:
					path = "/api/v1/tenders?status=open"
				case 4:
					path = "/api/v1/tenders/" + w.openTender
				default:
					path = "/api/v1/providers?region=" + regions[rng.IntN(len(regions))]
				}
				_, _, err := do(base, http.MethodGet, path, "", nil, nil)
				public.record(time.Since(start), err)
			case pick < public.weight+signed.weight:
				s := rng.IntN(len(w.suppliers))
				var err error
				switch rng.IntN(4) {
				case 0:
					_, _, err = do(base, http.MethodGet, "/api/v1/me", tokens[s], nil, nil)
				case 1:
					_, _, err = do(base, http.MethodGet, "/api/v1/me/bids", tokens[s], nil, nil)
				case 2:
					_, _, err = do(base, http.MethodGet, "/api/v1/notifications", tokens[s], nil, nil)
				default:
					_, _, err = do(base, http.MethodGet, "/api/v1/tenders/"+w.closedTender+"/comparison", leadToken, nil, nil)
				}
				signed.record(time.Since(start), err)
			default:
				s := rng.IntN(len(w.suppliers))
				// Bids, questions and scores make the writes; one in ten
				// is a listing edit, whose public view is then checked.
				kind := min(rng.IntN(10)/3, 3)
				writeKinds[kind].Add(1)
				var err error
				switch kind {
				case 0: // a bid revised
					supplierLocks[s].Lock()
					_, _, err = do(base, http.MethodPut, "/api/v1/tenders/"+w.openTender+"/bids/"+w.suppliers[s].bidID, tokens[s],
						map[string]any{"price_pence": 30_000_000 + rng.IntN(1_000_000), "responses": map[string]string{"q0": "Revised.", "q1": "Revised.", "q2": "Revised."}}, nil)
					supplierLocks[s].Unlock()
				case 1: // a question asked
					_, _, err = do(base, http.MethodPost, "/api/v1/tenders/"+w.openTender+"/questions", tokens[s],
						map[string]string{"question": "Does the contract include weekend cover? (" + strconv.Itoa(rng.IntN(1_000_000)) + ")"}, nil)
				case 2: // a bid scored
					scores := map[string]any{}
					for q := range mxQuality {
						scores[fmt.Sprintf("q%d", q)] = map[string]any{"score": rng.IntN(5), "justification": "Scored under load."}
					}
					_, _, err = do(base, http.MethodPut, "/api/v1/tenders/"+w.closedTender+"/bids/"+w.closedBids[rng.IntN(len(w.closedBids))]+"/scores",
						leadToken, map[string]any{"scores": scores}, nil)
				default: // a listing edited, then read on the other replica
					summary := fmt.Sprintf("Contract management, edit %d.", edits.Add(1))
					supplierLocks[s].Lock()
					var resp *http.Response
					resp, _, err = do(base, http.MethodPut, "/api/v1/providers/"+w.suppliers[s].orgID, tokens[s], map[string]any{
						"summary": summary, "capabilities": []string{"contract_management"}, "regions": []string{"midlands"},
						"size": "small", "accreditations": []string{}, "case_studies": []any{}, "contact": map[string]string{"email": w.suppliers[s].email},
					}, map[string]string{"If-Match": "*"})
					if err == nil {
						token := resp.Header.Get("Consistency-Token")
						ok, cerr := profileShows(other, w.suppliers[s].orgID, summary, map[string]string{"Consistency-Token": token})
						withToken.Add(1)
						if cerr != nil || !ok {
							staleToken.Add(1)
						}
						checks.Add(1)
						time.AfterFunc(150*time.Millisecond, func() {
							defer checks.Done()
							defer supplierLocks[s].Unlock()
							ok, cerr := profileShows(other, w.suppliers[s].orgID, summary, nil)
							afterBound.Add(1)
							if cerr != nil || !ok {
								staleBound.Add(1)
							}
						})
					} else {
						supplierLocks[s].Unlock()
					}
				}
				writes.record(time.Since(start), err)
			}
		}
	}
	fmt.Printf("mixed load: %d clients for %s against 2 replicas on PostgreSQL and one Redis (90%% public reads, 8%% signed-in, 2%% writes)\n", clients, dur)
	started := time.Now()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() { client(uint64(i + 1)) })
	}
	wg.Wait()
	elapsed := time.Since(started)
	checks.Wait()
	var total int
	var errs int64
	fmt.Printf("%-20s %9s %7s %10s %10s %7s\n", "", "requests", "share", "p50", "p99", "errors")
	for _, c := range classes {
		slices.Sort(c.times)
		total += len(c.times)
		errs += c.errs.Load()
	}
	for _, c := range classes {
		n := len(c.times) + int(c.errs.Load())
		fmt.Printf("%-20s %9d %6.1f%% %10s %10s %7d\n", c.name, n, 100*float64(n)/float64(total+int(errs)),
			ms(quantile(c.times, 0.5)), ms(quantile(c.times, 0.99)), c.errs.Load())
		if m, ok := c.errMsg.Load().(string); ok {
			fmt.Printf("    first error: %s\n", m)
		}
	}
	fmt.Printf("throughput: %.0f requests/s; errors: %d (target 0); writes: %d bid revisions, %d questions, %d score sheets, %d listing edits\n",
		float64(total+int(errs))/elapsed.Seconds(), errs, writeKinds[0].Load(), writeKinds[1].Load(), writeKinds[2].Load(), writeKinds[3].Load())
	fmt.Printf("consistency: %d listing edits read on the other replica with their Consistency-Token: %d stale (target 0); read again %s later without it: %d stale (target 0)\n",
		withToken.Load(), staleToken.Load(), 150*time.Millisecond, staleBound.Load())
	_ = afterBound.Load()
	fmt.Println("server time by route on replica 1 (from its metrics), the largest first:")
	for _, line := range routeTimes(replicas[0].url, 8) {
		fmt.Println("   " + line)
	}
	return nil
}

// routeTimes reads a server's request-duration histogram and returns the
// n routes it spent the most time on, with their counts and means.
func routeTimes(base string, n int) []string {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return []string{err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	type route struct {
		name       string
		sum, count float64
	}
	routes := map[string]*route{}
	for _, line := range strings.Split(string(b), "\n") {
		for _, suffix := range []string{"_sum{", "_count{"} {
			prefix := "csm_http_request_duration_seconds" + suffix
			rest, ok := strings.CutPrefix(line, prefix)
			if !ok {
				continue
			}
			labels, value, ok := strings.Cut(rest, "} ")
			if !ok {
				continue
			}
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				continue
			}
			r := routes[labels]
			if r == nil {
				r = &route{name: labels}
				routes[labels] = r
			}
			if suffix == "_sum{" {
				r.sum = v
			} else {
				r.count = v
			}
		}
	}
	all := make([]*route, 0, len(routes))
	for _, r := range routes {
		all = append(all, r)
	}
	slices.SortFunc(all, func(a, b *route) int {
		switch {
		case a.sum > b.sum:
			return -1
		case a.sum < b.sum:
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	var out []string
	for _, r := range all[:min(n, len(all))] {
		if r.count == 0 {
			continue
		}
		out = append(out, fmt.Sprintf("%-70s %8.0f requests %9.2f s in all, mean %s", r.name, r.count, r.sum, ms(time.Duration(r.sum/r.count*float64(time.Second)))))
	}
	return out
}

// clearRedis deletes the keys a previous run left under csmarket's prefix
// in the benchmark's own Redis database, so that no view of another run's
// store is served.
func clearRedis(ctx context.Context, url string) error {
	o, err := redis.ParseURL(url)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(o)
	defer rdb.Close()
	iter := rdb.Scan(ctx, 0, "csm:*", 1000).Iterator()
	for iter.Next(ctx) {
		if err := rdb.Del(ctx, iter.Val()).Err(); err != nil {
			return err
		}
	}
	return iter.Err()
}

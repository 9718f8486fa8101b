package main

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/seed"
	"github.com/csmarket/csmarket/internal/sqlstore"
)

// missTarget is the bound on an uncached list or search.
const missTarget = 20 * time.Millisecond

// misses measures the miss path: every public list and full-text search,
// read from the store with no cache in front, on a directory of providers
// and a market of tenders, on SQLite and on PostgreSQL.
type misses struct {
	run       bool
	providers int
	tenders   int
	reps      int
	pgURL     string
	plans     bool
}

// addMissesFlags registers the miss path's flags on fs.
func addMissesFlags(fs *flag.FlagSet) *misses {
	m := &misses{}
	fs.BoolVar(&m.run, "misses", false, "measure only the uncached public lists and searches (p50/p99 per query per engine, with plans)")
	fs.IntVar(&m.providers, "misses-providers", 100_000, "providers seeded for -misses")
	fs.IntVar(&m.tenders, "misses-tenders", 10_000, "tenders seeded for -misses")
	fs.IntVar(&m.reps, "misses-reps", 200, "timed runs of each query for -misses")
	fs.StringVar(&m.pgURL, "misses-postgres", os.Getenv("TEST_DATABASE_URL"),
		"a PostgreSQL URL whose server takes a scratch database for -misses, dropped after (empty: SQLite only)")
	fs.BoolVar(&m.plans, "misses-plans", true, "print each query's plan after the figures")
	return m
}

// missCase is one query shape of a public list.
type missCase struct {
	name     string
	provider *market.ProviderFilter
	tender   *market.TenderFilter
	choice   bool
}

// missResult is the timing of one case on one engine.
type missResult struct {
	p50, p99, max time.Duration
	items         int
	plan          []string
}

// bench seeds each engine and prints the figures of every case.
func (m *misses) bench() error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "csmbench-misses")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	engines := []string{sqlstore.EngineSQLite}
	if m.pgURL != "" {
		engines = append(engines, sqlstore.EnginePostgres)
	} else {
		fmt.Println("postgres: skipped (set TEST_DATABASE_URL or -misses-postgres to a server that takes a scratch database)")
	}
	results := map[string]map[string]missResult{}
	var cases []missCase
	for _, engine := range engines {
		var (
			dbURL string
			drop  func()
		)
		if engine == sqlstore.EngineSQLite {
			dbURL = "sqlite:" + filepath.Join(tmp, "misses.db")
		} else {
			var err error
			if dbURL, drop, err = scratchDatabase(ctx, m.pgURL); err != nil {
				return err
			}
		}
		res, cs, err := m.engine(ctx, engine, dbURL)
		if drop != nil {
			drop()
		}
		if err != nil {
			return fmt.Errorf("%s: %w", engine, err)
		}
		results[engine], cases = res, cs
	}

	fmt.Printf("\nuncached lists and searches: %s providers, %s tenders; %d runs each, through the store (no cache)\n",
		thousands(m.providers), thousands(m.tenders), m.reps)
	fmt.Printf("%-34s", "")
	for _, e := range engines {
		fmt.Printf(" %22s", e+" p50 / p99")
	}
	fmt.Printf("  %s\n", "target p99")
	worst := map[string]time.Duration{}
	for _, c := range cases {
		fmt.Printf("%-34s", c.name)
		for _, e := range engines {
			r := results[e][c.name]
			fmt.Printf(" %10s / %9s", ms(r.p50), ms(r.p99))
			worst[e] = max(worst[e], r.p99)
		}
		verdict := "ok"
		for _, e := range engines {
			if results[e][c.name].p99 > missTarget {
				verdict = "OVER"
			}
		}
		fmt.Printf("  <= %s %s\n", ms(missTarget), verdict)
	}
	for _, e := range engines {
		fmt.Printf("worst p99 on %s: %s (target <= %s)\n", e, ms(worst[e]), ms(missTarget))
	}
	if m.plans {
		for _, e := range engines {
			fmt.Printf("\nplans on %s (the page query; the page's rows are then read by ID):\n", e)
			for _, c := range cases {
				if plan := results[e][c.name].plan; len(plan) > 0 {
					fmt.Printf("-- %s\n", c.name)
					for _, l := range plan {
						fmt.Printf("   %s\n", l)
					}
				}
			}
		}
	}
	return nil
}

// ms prints d in milliseconds with two decimals.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000)
}

// engine seeds a fresh database at dbURL and times every case on it.
func (m *misses) engine(ctx context.Context, engine, dbURL string) (map[string]missResult, []missCase, error) {
	db, err := sqlstore.Open(ctx, dbURL)
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return nil, nil, err
	}
	clock := market.SystemClock{}
	start := time.Now()
	fmt.Printf("%s: seeding %s providers and %s tenders...\n", engine, thousands(m.providers), thousands(m.tenders))
	orgs := sqlstore.NewOrganisationStore(db, clock)
	if err := seed.LoadSynthetic(ctx, orgs, m.providers); err != nil {
		return nil, nil, err
	}
	now := time.Now().UTC()
	if err := seedTenders(ctx, db, m.tenders, now); err != nil {
		return nil, nil, fmt.Errorf("seed tenders: %w", err)
	}
	fmt.Printf("%s: seeded in %s\n", engine, time.Since(start).Round(time.Second))

	providers := sqlstore.NewProviderStore(db, clock)
	tenders := sqlstore.NewTenderStore(db, clock)
	choice := sqlstore.NewMarketStore(db)
	cases, err := missCases(ctx, providers, tenders, now)
	if err != nil {
		return nil, nil, err
	}
	out := map[string]missResult{}
	for _, c := range cases {
		call := func() (int, error) {
			switch {
			case c.provider != nil:
				p, err := providers.ListProviders(ctx, *c.provider)
				return len(p.Items), err
			case c.tender != nil:
				p, err := tenders.ListTenders(ctx, *c.tender)
				return len(p.Items), err
			default:
				_, err := choice.ChoiceFigures(ctx, now)
				return 1, err
			}
		}
		var r missResult
		if r.items, err = call(); err != nil { // the first run warms the engine's page cache
			return nil, nil, fmt.Errorf("%s: %w", c.name, err)
		}
		times := make([]time.Duration, m.reps)
		for i := range times {
			t0 := time.Now()
			if _, err := call(); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", c.name, err)
			}
			times[i] = time.Since(t0)
		}
		slices.Sort(times)
		r.p50, r.p99, r.max = times[len(times)/2], times[min(len(times)-1, len(times)*99/100)], times[len(times)-1]
		if m.plans {
			switch {
			case c.provider != nil:
				r.plan, err = providers.ExplainListProviders(ctx, *c.provider)
			case c.tender != nil:
				r.plan, err = tenders.ExplainListTenders(ctx, *c.tender)
			}
			if err != nil {
				return nil, nil, fmt.Errorf("%s: explain: %w", c.name, err)
			}
			r.plan = trimPlan(r.plan)
		}
		out[c.name] = r
	}
	return out, cases, nil
}

// trimPlan drops the lines of a PostgreSQL plan that say nothing of its
// shape.
func trimPlan(plan []string) []string {
	var out []string
	for _, l := range plan {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "Planning Time") || strings.HasPrefix(t, "Buffers:") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// missCases are the query shapes of the public lists: the directory with
// each filter, full-text searches of common words (which match tens of
// thousands of rows), two words, a prefix, a rare word and searches with a
// filter; later pages by cursor; the public tenders with each filter and
// search; and the market's choice figures.
func missCases(ctx context.Context, providers *sqlstore.ProviderStore, tenders *sqlstore.TenderStore, now time.Time) ([]missCase, error) {
	pf := func(f market.ProviderFilter) *market.ProviderFilter { return &f }
	tf := func(f market.TenderFilter) *market.TenderFilter { f.Now = now; return &f }
	cases := []missCase{
		{name: "providers", provider: pf(market.ProviderFilter{})},
		{name: "providers sector", provider: pf(market.ProviderFilter{Sector: market.SectorNHS})},
		{name: "providers capability", provider: pf(market.ProviderFilter{Capability: "risk_stratification"})},
		{name: "providers region", provider: pf(market.ProviderFilter{Region: "london"})},
		{name: "providers size", provider: pf(market.ProviderFilter{Size: market.SizeMicro})},
		{name: "providers cap+region+size", provider: pf(market.ProviderFilter{Capability: "risk_stratification", Region: "london", Size: market.SizeSmall})},
		{name: "providers sector+capability", provider: pf(market.ProviderFilter{Sector: market.SectorThirdSector, Capability: "finance"})},
		{name: "providers q=analytics", provider: pf(market.ProviderFilter{Q: "analytics"})},
		{name: "providers q=support", provider: pf(market.ProviderFilter{Q: "support"})},
		{name: "providers q=nhs", provider: pf(market.ProviderFilter{Q: "nhs"})},
		{name: "providers q=risk stratification", provider: pf(market.ProviderFilter{Q: "risk stratification"})},
		{name: "providers q=contract management", provider: pf(market.ProviderFilter{Q: "contract management"})},
		{name: "providers q=co (prefix)", provider: pf(market.ProviderFilter{Q: "co"})},
		{name: "providers q=quanto (rare)", provider: pf(market.ProviderFilter{Q: "quanto"})},
		{name: "providers q=support +sector", provider: pf(market.ProviderFilter{Q: "support", Sector: market.SectorIndependent})},
		{name: "providers q=analytics +region", provider: pf(market.ProviderFilter{Q: "analytics", Region: "midlands"})},
		{name: "providers q=governance +cap+size", provider: pf(market.ProviderFilter{Q: "governance", Capability: "finance", Size: market.SizeLarge})},
		{name: "providers page=100", provider: pf(market.ProviderFilter{PageSize: 100})},
		{name: "tenders", tender: tf(market.TenderFilter{})},
		{name: "tenders status=open", tender: tf(market.TenderFilter{Status: market.TenderOpen})},
		{name: "tenders status=awarded", tender: tf(market.TenderFilter{Status: market.TenderAwarded})},
		{name: "tenders status=unsuccessful", tender: tf(market.TenderFilter{Status: market.TenderUnsuccessful})},
		{name: "tenders capability", tender: tf(market.TenderFilter{Capability: "finance"})},
		{name: "tenders region", tender: tf(market.TenderFilter{Region: "london"})},
		{name: "tenders open+cap+region", tender: tf(market.TenderFilter{Status: market.TenderOpen, Capability: "finance", Region: "london"})},
		{name: "tenders q=support", tender: tf(market.TenderFilter{Q: "support"})},
		{name: "tenders q=commissioning support", tender: tf(market.TenderFilter{Q: "commissioning support"})},
		{name: "tenders q=risk (prefix ri)", tender: tf(market.TenderFilter{Q: "ri"})},
		{name: "tenders q=support +open", tender: tf(market.TenderFilter{Q: "support", Status: market.TenderOpen})},
		{name: "market choice", choice: true},
	}
	// Later pages: the cursor a client holds after some pages.
	var deeper []missCase
	for _, c := range cases {
		if c.choice || !slices.Contains([]string{"providers", "providers sector", "providers q=analytics", "providers q=support",
			"tenders", "tenders status=open", "tenders q=support"}, c.name) {
			continue
		}
		pages := 10
		if c.provider != nil {
			f := *c.provider
			for range pages {
				p, err := providers.ListProviders(ctx, f)
				if err != nil {
					return nil, err
				}
				f.Cursor = p.NextCursor
			}
			deeper = append(deeper, missCase{name: c.name + " page 11", provider: &f})
		} else {
			f := *c.tender
			for range pages {
				p, err := tenders.ListTenders(ctx, f)
				if err != nil {
					return nil, err
				}
				f.Cursor = p.NextCursor
			}
			deeper = append(deeper, missCase{name: c.name + " page 11", tender: &f})
		}
	}
	return append(cases, deeper...), nil
}

// seedTenders writes n synthetic tenders of 40 CCGs straight into the
// store, with two to six bids from suppliers of the directory on each
// tender past its bid deadline and, on awarded ones, the award: in a few
// transactions of multi-row inserts, as many tenders as a live market
// holds in a few seconds. No audit events are written: the lists read none.
func seedTenders(ctx context.Context, db *sqlstore.DB, n int, now time.Time) error {
	ts := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		if db.Engine() == sqlstore.EngineSQLite {
			return t.UTC().Format("2006-01-02T15:04:05.000000Z")
		}
		return t.UTC()
	}
	var suppliers []string
	rows, err := db.QueryContext(ctx, "SELECT id FROM organisations WHERE kind = 'supplier' ORDER BY id")
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		suppliers = append(suppliers, id)
	}
	rows.Close()
	if len(suppliers) == 0 {
		return fmt.Errorf("no suppliers to bid")
	}

	var buyers []string
	userID := "bench-user"
	err = db.InTx(ctx, func(tx *sqlstore.Tx) error {
		for i := range 40 {
			id := fmt.Sprintf("bench-ccg-%02d", i)
			if _, err := tx.ExecContext(ctx, `INSERT INTO organisations (id, kind, name, name_key, status, population,
				running_cost_allowance_per_head_pence, created_at, updated_at) VALUES (?, 'buyer', ?, ?, 'active', 250000, 2000, ?, ?)`,
				id, fmt.Sprintf("NHS Bench %02d CCG", i), fmt.Sprintf("nhs bench %02d ccg", i), ts(now), ts(now)); err != nil {
				return err
			}
			buyers = append(buyers, id)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, organisation_id, name, email, role, admin, status, password_hash, created_at, updated_at)
			VALUES (?, ?, 'Bench buyer', 'bench@bench.nhs.net', 'buyer', ?, 'active', '', ?, ?)`, userID, buyers[0], true, ts(now), ts(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("buyers: %w", err)
	}

	r := rand.New(rand.NewPCG(7, 7))
	all := seed.SyntheticTenders(n, 2013, buyers, userID, now)
	const batch = 250
	for lo := 0; lo < len(all); lo += batch {
		part := all[lo:min(lo+batch, len(all))]
		err := db.InTx(ctx, func(tx *sqlstore.Tx) error {
			var (
				tq, cq, rq, bq strings.Builder
				targs, cargs   []any
				rargs, bargs   []any
				awards         [][2]string
			)
			for i := range part {
				t := &part[i]
				t.ID = fmt.Sprintf("bench-tender-%06d", lo+i)
				created := t.PublishedAt.Add(-48 * time.Hour)
				if t.PublishedAt.IsZero() {
					created = now.Add(-time.Duration(r.IntN(30*24)) * time.Hour)
				}
				if tq.Len() > 0 {
					tq.WriteString(", ")
				}
				tq.WriteString("(" + strings.Repeat("?, ", 19) + "1, ?, ?)")
				targs = append(targs, t.ID, t.BuyerID, t.CreatedBy, t.Title, t.Description, t.ContractMonths, t.BudgetPence,
					ts(t.ClarificationDeadline), ts(t.BidDeadline),
					`[{"key":"price","name":"Price","kind":"price","weight":40},{"key":"quality","name":"Quality","kind":"quality","weight":60}]`,
					ts(t.PublishedAt), ts(t.CancelledAt), t.CancelReason, ts(t.UnsuccessfulAt), t.UnsuccessfulNote,
					ts(t.AwardedAt), t.AwardReason, ts(t.StandstillEndsAt), ts(t.AwardConfirmedAt), ts(created), ts(created))
				for j, c := range t.Capabilities {
					if cq.Len() > 0 {
						cq.WriteString(", ")
					}
					cq.WriteString("(?, ?, ?)")
					cargs = append(cargs, t.ID, j, c)
				}
				for j, g := range t.Regions {
					if rq.Len() > 0 {
						rq.WriteString(", ")
					}
					rq.WriteString("(?, ?, ?)")
					rargs = append(rargs, t.ID, j, g)
				}
				if t.PublishedAt.IsZero() || !t.BidDeadline.Before(now) {
					continue
				}
				nb := 2 + r.IntN(5)
				first := r.IntN(len(suppliers))
				for k := range nb {
					bid := fmt.Sprintf("%s-bid-%d", t.ID, k)
					if bq.Len() > 0 {
						bq.WriteString(", ")
					}
					bq.WriteString("(?, ?, ?, 'submitted', 1, ?, '{}', ?, ?, ?)")
					at := ts(t.BidDeadline.Add(-time.Duration(1+k) * time.Hour))
					bargs = append(bargs, bid, t.ID, suppliers[(first+k*7919)%len(suppliers)], t.BudgetPence*int64(70+r.IntN(30))/100, userID, at, at)
					if k == 0 && !t.AwardedAt.IsZero() {
						awards = append(awards, [2]string{t.ID, bid})
					}
				}
			}
			stmts := []struct {
				q    string
				b    *strings.Builder
				args []any
			}{
				{`INSERT INTO tenders (id, buyer_id, created_by, title, description, contract_months, budget_pence,
					clarification_deadline, bid_deadline, criteria, published_at, cancelled_at, cancel_reason,
					unsuccessful_at, unsuccessful_note, awarded_at, award_reason, standstill_ends_at, award_confirmed_at,
					version, created_at, updated_at) VALUES `, &tq, targs},
				{"INSERT INTO tender_capabilities (tender_id, position, capability) VALUES ", &cq, cargs},
				{"INSERT INTO tender_regions (tender_id, position, region) VALUES ", &rq, rargs},
				{"INSERT INTO bids (id, tender_id, supplier_id, status, version, price_pence, responses, submitted_by, submitted_at, updated_at) VALUES ", &bq, bargs},
			}
			for _, s := range stmts {
				if s.b.Len() == 0 {
					continue
				}
				if _, err := tx.ExecContext(ctx, s.q+s.b.String(), s.args...); err != nil {
					return err
				}
			}
			for _, a := range awards {
				if _, err := tx.ExecContext(ctx, "UPDATE tenders SET award_bid_id = ? WHERE id = ?", a[1], a[0]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	_, err = db.ExecContext(ctx, "ANALYZE")
	return err
}

// scratchDatabase creates a database of its own on base's server and
// returns its URL and a function that drops it.
func scratchDatabase(ctx context.Context, base string) (string, func(), error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("postgres URL: %w", err)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	var b [6]byte
	_, _ = crand.Read(b[:])
	name := "csm_bench_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u.Path = "/" + name
	drop := func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "csmbench: drop database %s: %v\n", name, err)
		}
		admin.Close()
	}
	return u.String(), drop, nil
}

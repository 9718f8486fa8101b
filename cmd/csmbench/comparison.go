package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/csmarket/csmarket/internal/auth"
	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore"
)

// The comparison: a closed tender of 1,000 bids on 10 criteria
// (price and nine quality), scored in full by 5 cleared evaluators.
const (
	cmpBids       = 1000
	cmpQuality    = 9
	cmpEvaluators = 5
	cmpEmail      = "lead@bench.nhs.net"
	cmpPassword   = "a long benchmark passphrase"
)

// comparisonBench seeds the comparison into a fresh SQLite file, serves
// it, signs the lead buyer in and runs wrk, signed in, against the first
// page of the comparison, alternating with the cached provider list on
// the same server.
func (b *bench) comparisonBench() error {
	path := filepath.Join(b.tmp, "comparison.db")
	fmt.Printf("seeding a tender of %d bids, %d criteria, %d evaluators...\n", cmpBids, cmpQuality+1, cmpEvaluators)
	tenderID, bidID, err := seedComparison(context.Background(), "sqlite:"+path)
	if err != nil {
		return fmt.Errorf("seed comparison: %w", err)
	}
	srv, err := b.serve("comparison", path, "")
	if err != nil {
		return err
	}
	defer srv.stop()
	token, err := login(srv.url)
	if err != nil {
		return err
	}
	cmpPath := "/api/v1/tenders/" + tenderID + "/comparison"
	body, err := fetchAuth(srv.url+cmpPath, token)
	if err != nil {
		return err
	}
	var page struct {
		Rows      []json.RawMessage `json:"rows"`
		TotalRows int               `json:"total_rows"`
	}
	if err := json.Unmarshal(body, &page); err != nil || page.TotalRows != cmpBids+1 {
		return fmt.Errorf("comparison: %d rows in all (%v)", page.TotalRows, err)
	}
	cold, err := coldComparisons(srv.url, cmpPath, tenderID, bidID, token)
	if err != nil {
		return err
	}
	runs := map[string][]result{}
	for i := 0; i < b.rounds; i++ {
		for _, r := range []struct{ name, url, token string }{
			{"comparison, first page", srv.url + cmpPath, token},
			{"cached provider list", srv.url + target, ""},
		} {
			res, err := b.wrkAuth(r.url, r.token)
			if err != nil {
				fmt.Fprintln(os.Stderr, "wrk:", err)
				continue
			}
			runs[r.name] = append(runs[r.name], res)
		}
	}
	cmp, list := median(runs["comparison, first page"]), median(runs["cached provider list"])
	fmt.Printf("%-32s %12s %10s\n", "", "requests/s", "p99")
	fmt.Printf("%-32s %12.0f %10s\n", "comparison, first page", cmp.rps, cmp.p99)
	fmt.Printf("%-32s %12.0f %10s\n", "cached provider list", list.rps, list.p99)
	fmt.Printf("ratio comparison/list (warm): %.2f (target >= 0.60); a page of %d rows (%d bytes) of %d, signed in\n",
		cmp.rps/list.rps, len(page.Rows), len(body), page.TotalRows)
	fmt.Printf("comparison cold (the first read after a score write, nothing memoised): median %s, max %s of %d (target <= 30ms)\n",
		ms(cold[len(cold)/2]), ms(cold[len(cold)-1]), len(cold))
	return nil
}

// coldRounds is how many cold comparisons coldComparisons times.
const coldRounds = 15

// coldComparisons times the comparison's first page coldRounds times, each
// right after the lead buyer rewrites its scores of a bid, which renews
// the tender's scoring stamp, so that each read builds the comparison
// afresh from the store, as the first reader after any score write does.
// It returns the times, shortest first.
func coldComparisons(base, cmpPath, tenderID, bidID, token string) ([]time.Duration, error) {
	var times []time.Duration
	for i := range coldRounds {
		scores := map[string]any{}
		for q := range cmpQuality {
			scores[fmt.Sprintf("q%d", q)] = map[string]any{"score": (i + q) % 5, "justification": "Rescored."}
		}
		body, _ := json.Marshal(map[string]any{"scores": scores})
		req, _ := http.NewRequest(http.MethodPut, base+"/api/v1/tenders/"+tenderID+"/bids/"+bidID+"/scores", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("PUT scores: %d", resp.StatusCode)
		}
		// The work a write wakes (notifications, the audit trail's
		// followers) is let finish, so that the read is timed alone.
		time.Sleep(200 * time.Millisecond)
		start := time.Now()
		if _, err := fetchAuth(base+cmpPath, token); err != nil {
			return nil, err
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	return times, nil
}

func median(rs []result) result {
	if len(rs) == 0 {
		return result{}
	}
	sortResults(rs)
	return rs[len(rs)/2]
}

// seedComparison writes the tender straight into the store, as the
// benchmark of the api package does, and returns its ID and its first
// bid's: the lead buyer
// and its evaluators, every one cleared, a thousand suppliers and their
// bids, one scored sheet per evaluator, and the other bids' scores
// copied from it in one transaction.
func seedComparison(ctx context.Context, url string) (tenderID, firstBid string, err error) {
	db, err := sqlstore.Open(ctx, url)
	if err != nil {
		return "", "", err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return "", "", err
	}
	clock := market.SystemClock{}
	users := sqlstore.NewUserStore(db, clock)
	orgs := sqlstore.NewOrganisationStore(db, clock)
	tenders := sqlstore.NewTenderStore(db, clock)
	evals := sqlstore.NewEvaluationStore(db, clock)

	hash, err := auth.NewPasswords().Hash(cmpPassword)
	if err != nil {
		return "", "", err
	}
	ccg := market.Organisation{Kind: market.KindBuyer, Name: "NHS Bench CCG", Status: market.StatusActive,
		Identifiers: []market.Identifier{{Scheme: "GB-NHS", ID: "99Z"}}, Regions: []string{"midlands"},
		Population: 250_000, RunningCostAllowancePerHeadPence: 2_000}
	lead := market.User{Name: "Lead buyer", Email: cmpEmail, Role: market.RoleBuyer, Admin: true, Status: market.UserActive, PasswordHash: hash}
	if err := users.Register(ctx, &ccg, nil, &lead); err != nil {
		return "", "", err
	}
	evaluators := []market.User{lead}
	for i := 1; i < cmpEvaluators; i++ {
		u := market.User{OrganisationID: ccg.ID, Name: fmt.Sprintf("Evaluator %d", i), Email: fmt.Sprintf("evaluator%d@bench.nhs.net", i),
			Role: market.RoleEvaluator, Status: market.UserActive, PasswordHash: hash}
		if err := users.CreateUser(ctx, &u); err != nil {
			return "", "", err
		}
		evaluators = append(evaluators, u)
	}

	now := time.Now().UTC()
	t := market.Tender{BuyerID: ccg.ID, CreatedBy: lead.ID, Title: "A thousand bids", Description: "The comparison benchmark.",
		Capabilities: []string{"analytics"}, Regions: []string{"midlands"}, ContractMonths: 24, BudgetPence: 40_000_000,
		ClarificationDeadline: now.Add(-2 * time.Hour), BidDeadline: now.Add(-time.Hour), PublishedAt: now.Add(-72 * time.Hour),
		Criteria: []market.Criterion{{Key: "price", Name: "Price", Kind: market.CriterionPrice, Weight: 10}},
		Baseline: &market.Baseline{PricePence: 36_000_000, Scores: map[string]int{}}}
	responses := map[string]string{}
	for q := range cmpQuality {
		k := fmt.Sprintf("q%d", q)
		t.Criteria = append(t.Criteria, market.Criterion{Key: k, Name: "Quality " + k, Kind: market.CriterionQuality, Weight: 10})
		t.Baseline.Scores[k] = 2
		responses[k] = "Our response."
	}
	if err := tenders.CreateTender(ctx, &t, market.AuditEvent{ActorUser: lead.ID, ActorOrg: ccg.ID, ObjectType: "tender", Action: "tender.created"}); err != nil {
		return "", "", err
	}
	for _, u := range evaluators {
		e := market.Evaluator{TenderID: t.ID, UserID: u.ID, OrganisationID: ccg.ID, Assigned: true, AssignedBy: lead.ID, AssignedAt: now}
		ev := market.AuditEvent{ActorUser: lead.ID, ActorOrg: ccg.ID, ObjectType: "tender", ObjectID: t.ID, TenderID: t.ID}
		ev.Action = "evaluator.assigned"
		if err := evals.AssignEvaluator(ctx, &e, ev); err != nil {
			return "", "", err
		}
		e.DeclaredAt = now
		ev.ActorUser, ev.Action = u.ID, "conflict.declared"
		if err := evals.DeclareConflicts(ctx, &e, ev); err != nil {
			return "", "", err
		}
	}
	var bids []market.Bid
	for i := range cmpBids {
		o := market.Organisation{Kind: market.KindSupplier, Name: fmt.Sprintf("Supplier %04d Ltd", i),
			Sector: market.Sectors[i%len(market.Sectors)], Status: market.StatusActive,
			Identifiers: []market.Identifier{{Scheme: "GB-COH", ID: fmt.Sprintf("%08d", 10_000_000+i)}}, Regions: []string{"midlands"}}
		if err := orgs.CreateOrganisation(ctx, &o, nil); err != nil {
			return "", "", err
		}
		// Any user satisfies the store's reference; the comparison reads none.
		bid := market.Bid{TenderID: t.ID, SupplierID: o.ID, SubmittedBy: lead.ID, Status: market.BidSubmitted, Version: 1,
			PricePence: int64(30_000_000 + 7_919*i), Responses: responses, SubmittedAt: now.Add(-90 * time.Minute), UpdatedAt: now}
		if err := tenders.CreateBid(ctx, &bid, market.AuditEvent{ActorOrg: o.ID, ObjectType: "bid", TenderID: t.ID, Action: "bid.submitted"}); err != nil {
			return "", "", err
		}
		bids = append(bids, bid)
	}
	for i, u := range evaluators {
		var sheet []market.Score
		for q := range cmpQuality {
			sheet = append(sheet, market.Score{TenderID: t.ID, BidID: bids[0].ID, EvaluatorID: u.ID,
				Criterion: fmt.Sprintf("q%d", q), Score: (i + q) % 5, Justification: "Justified."})
		}
		if err := evals.PutScores(ctx, sheet, market.AuditEvent{ActorUser: u.ID, ObjectType: "bid", ObjectID: bids[0].ID, TenderID: t.ID, Action: "bid.scored"}); err != nil {
			return "", "", err
		}
	}
	err = db.InTx(ctx, func(tx *sqlstore.Tx) error {
		for _, bid := range bids[1:] {
			if _, err := tx.ExecContext(ctx, `INSERT INTO scores (tender_id, bid_id, evaluator_id, criterion, score, justification, updated_at)
				SELECT tender_id, ?, evaluator_id, criterion, score, justification, updated_at FROM scores WHERE bid_id = ?`, bid.ID, bids[0].ID); err != nil {
				return err
			}
		}
		return nil
	})
	return t.ID, bids[0].ID, err
}

// login signs the lead buyer in and returns its access token.
func login(base string) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": cmpEmail, "password": cmpPassword})
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		return "", fmt.Errorf("login: %d (%v)", resp.StatusCode, err)
	}
	return tok.AccessToken, nil
}

func fetchAuth(url, token string) ([]byte, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, buf.Bytes())
	}
	return buf.Bytes(), nil
}

// wrkAuth is wrk, signed in when token is set.
func (b *bench) wrkAuth(url, token string) (result, error) {
	args := []string{"-t1", "-c" + strconv.Itoa(b.conns), "-d" + b.dur.String(), "--latency"}
	if token != "" {
		args = append(args, "-H", "Authorization: Bearer "+token)
	}
	return parseWrk(exec.Command("wrk", append(args, url)...).CombinedOutput())
}

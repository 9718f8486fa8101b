package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/seed"
)

func getJSON(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestTenderEndToEnd runs a short tender on the real server and the real
// clock (CSM_MIN_TENDER_PERIOD=0s): a demo CCG publishes, a demo supplier
// asks and bids, the bid is sealed from the CCG until the deadline passes
// and visible to it the moment after, and the deadline refuses late bids.
func TestTenderEndToEnd(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{
		"CSM_ADDR":              "127.0.0.1:0",
		"CSM_DATABASE_URL":      "sqlite:" + filepath.Join(dir, "tenders.db"),
		"CSM_JWT_KEY_FILE":      filepath.Join(dir, "keys.pem"),
		"CSM_MIN_TENDER_PERIOD": "0s",
	}
	if err := run(t.Context(), []string{"seed"}, env(vars), nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("seed: %v", err)
	}
	base := startServer(t, vars).base
	var buyerEmail, supplierEmail string
	for _, u := range seed.DemoUsers() {
		switch {
		case u.Role == "buyer" && buyerEmail == "":
			buyerEmail = u.Email
		case u.Role == "supplier" && supplierEmail == "":
			supplierEmail = u.Email
		}
	}
	buyer := login(t, base, buyerEmail, seed.DemoPassword)
	supplier := login(t, base, supplierEmail, seed.DemoPassword)

	now := time.Now().UTC()
	clarify, deadline := now.Add(1500*time.Millisecond), now.Add(3*time.Second)
	resp, body := postJSON(t, base+"/api/v1/tenders", buyer, map[string]any{
		"title": "Risk stratification for the Black Country", "description": "Monthly risk stratification from GP and SUS data.",
		"capabilities": []string{"risk_stratification"}, "regions": []string{"midlands"},
		"contract_months": 24, "budget_pence": 50_000_000,
		"clarification_deadline": clarify.Format(time.RFC3339Nano), "bid_deadline": deadline.Format(time.RFC3339Nano),
		"criteria": []map[string]any{
			{"key": "price", "name": "Price", "kind": "price", "weight": 40},
			{"key": "approach", "name": "Approach", "kind": "quality", "weight": 60},
		},
		"in_house_baseline": map[string]any{"price_pence": 46_000_000, "scores": map[string]int{"approach": 2}},
	})
	if resp.StatusCode != 201 {
		t.Fatalf("create tender: %d %s", resp.StatusCode, body)
	}
	var tender struct{ ID, Status string }
	json.Unmarshal(body, &tender)
	if resp, body = postJSON(t, base+"/api/v1/tenders/"+tender.ID+"/publish", buyer, nil); resp.StatusCode != 200 || !strings.Contains(string(body), `"open"`) {
		t.Fatalf("publish: %d %s", resp.StatusCode, body)
	}
	if resp, body = postJSON(t, base+"/api/v1/tenders/"+tender.ID+"/questions", supplier, map[string]string{"question": "Is GP data already flowing?"}); resp.StatusCode != 201 {
		t.Fatalf("question: %d %s", resp.StatusCode, body)
	}
	resp, body = postJSON(t, base+"/api/v1/tenders/"+tender.ID+"/bids", supplier, map[string]any{
		"price_pence": 42_000_000, "responses": map[string]string{"approach": "A monthly refresh with practice-level reports."},
	})
	if resp.StatusCode != 201 {
		t.Fatalf("bid: %d %s", resp.StatusCode, body)
	}
	var bid struct{ ID string }
	json.Unmarshal(body, &bid)

	// The CCG's buyer declares no conflict of interest, as everyone who
	// reads bids must; that still shows it nothing before the deadline.
	if resp, body = postJSON(t, base+"/api/v1/tenders/"+tender.ID+"/conflict-declaration", buyer, map[string]bool{"conflict": false}); resp.StatusCode != 200 && resp.StatusCode != 201 {
		t.Fatalf("declaration: %d %s", resp.StatusCode, body)
	}

	// Sealed: the CCG cannot list or open the bid, and the public tender
	// says nothing of it.
	if code, body := getJSON(t, base+"/api/v1/tenders/"+tender.ID+"/bids", buyer); code == 200 || strings.Contains(string(body), bid.ID) {
		t.Fatalf("the CCG listed bids before the deadline: %d %s", code, body)
	}
	if code, body := getJSON(t, base+"/api/v1/tenders/"+tender.ID+"/bids/"+bid.ID, buyer); code != 404 || strings.Contains(string(body), "42000000") {
		t.Fatalf("the CCG opened a sealed bid: %d %s", code, body)
	}
	if _, body := getJSON(t, base+"/api/v1/tenders/"+tender.ID, ""); strings.Contains(string(body), bid.ID) || strings.Contains(string(body), "42000000") || strings.Contains(string(body), "46000000") {
		t.Fatalf("the public tender leaks a bid or the baseline: %s", body)
	}

	time.Sleep(time.Until(deadline) + 50*time.Millisecond)
	resp, body = postJSON(t, base+"/api/v1/tenders/"+tender.ID+"/bids", supplier, map[string]any{
		"price_pence": 1, "responses": map[string]string{"approach": "late"},
	})
	if resp.StatusCode != 409 {
		t.Fatalf("a bid after the deadline: %d %s", resp.StatusCode, body)
	}
	code, body := getJSON(t, base+"/api/v1/tenders/"+tender.ID+"/bids", buyer)
	if code != 200 || !strings.Contains(string(body), bid.ID) || !strings.Contains(string(body), "42000000") {
		t.Fatalf("the CCG cannot see the bid after the deadline: %d %s", code, body)
	}
	if code, body := getJSON(t, base+"/api/v1/tenders/"+tender.ID, ""); code != 200 || !strings.Contains(string(body), `"closed"`) {
		t.Fatalf("the public tender is not closed after its deadline: %d %s", code, body)
	}
	if code, body := getJSON(t, base+"/api/v1/tenders/"+tender.ID+"/ocds", ""); code != 200 || !strings.Contains(string(body), `"ocds-csmkt-`+tender.ID+`"`) {
		t.Fatalf("OCDS release package: %d %s", code, body)
	}

	// Every change above is in the audit trail, and its chain holds.
	var out strings.Builder
	if err := run(t.Context(), []string{"audit", "verify"}, env(vars), nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "audit chain ok") {
		t.Fatalf("audit verify: %v %s", err, out.String())
	}
}

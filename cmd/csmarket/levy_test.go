package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/csmarket/csmarket/internal/seed"
	"github.com/csmarket/csmarket/internal/stripetest"
)

// TestLevyEndToEnd is a whole procurement on the real server and clock
// with CSM_MIN_TENDER_PERIOD=0s, CSM_STANDSTILL=0s and stripe-mock: the
// final award records the winner's levy, serve's own worker invoices it
// through Stripe exactly once, and a signed invoice.paid webhook marks it
// paid. The metrics count it.
func TestLevyEndToEnd(t *testing.T) {
	proxy := stripetest.NewProxy(t, stripetest.MustURL(t))
	dir := t.TempDir()
	const secret = "whsec_end_to_end"
	vars := map[string]string{
		"CSM_ADDR":                  "127.0.0.1:0",
		"CSM_DATABASE_URL":          "sqlite:" + filepath.Join(dir, "levy.db"),
		"CSM_JWT_KEY_FILE":          filepath.Join(dir, "keys.pem"),
		"CSM_MIN_TENDER_PERIOD":     "0s",
		"CSM_STANDSTILL":            "0s",
		"CSM_STRIPE_KEY":            "sk_test_endtoend",
		"CSM_STRIPE_API_BASE":       proxy.URL,
		"CSM_STRIPE_WEBHOOK_SECRET": secret,
		"CSM_LEVY_BASIS_POINTS":     "125",
	}
	if err := run(t.Context(), []string{"seed"}, env(vars), nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("seed: %v", err)
	}
	base := startServer(t, vars).base
	var buyerEmail, supplierEmail, operatorEmail string
	for _, u := range seed.DemoUsers() {
		switch {
		case u.Role == "buyer" && buyerEmail == "":
			buyerEmail = u.Email
		case u.Role == "supplier" && supplierEmail == "":
			supplierEmail = u.Email
		case u.Role == "operator" && operatorEmail == "":
			operatorEmail = u.Email
		}
	}
	buyer := login(t, base, buyerEmail, seed.DemoPassword)
	supplier := login(t, base, supplierEmail, seed.DemoPassword)
	operator := login(t, base, operatorEmail, seed.DemoPassword)

	now := time.Now().UTC()
	clarify, deadline := now.Add(time.Second), now.Add(2*time.Second)
	resp, body := postJSON(t, base+"/api/v1/tenders", buyer, map[string]any{
		"title": "Contract management support", "description": "Contract management for community services.",
		"capabilities": []string{"contract_management"}, "regions": []string{"midlands"},
		"contract_months": 12, "budget_pence": 50_000_000,
		"clarification_deadline": clarify.Format(time.RFC3339Nano), "bid_deadline": deadline.Format(time.RFC3339Nano),
		"criteria": []map[string]any{
			{"key": "price", "name": "Price", "kind": "price", "weight": 50},
			{"key": "approach", "name": "Approach", "kind": "quality", "weight": 50},
		},
	})
	if resp.StatusCode != 201 {
		t.Fatalf("create tender: %d %s", resp.StatusCode, body)
	}
	var tender struct{ ID string }
	json.Unmarshal(body, &tender)
	path := base + "/api/v1/tenders/" + tender.ID
	step := func(what, url, token string, body any, want int) []byte {
		t.Helper()
		resp, b := postJSON(t, url, token, body)
		if resp.StatusCode != want {
			t.Fatalf("%s: %d %s", what, resp.StatusCode, b)
		}
		return b
	}
	step("publish", path+"/publish", buyer, nil, 200)
	b := step("bid", path+"/bids", supplier, map[string]any{"price_pence": 40_000_040, "responses": map[string]string{"approach": "Monthly reviews."}}, 201)
	var bid struct{ ID string }
	json.Unmarshal(b, &bid)
	step("declare", path+"/conflict-declaration", buyer, map[string]bool{"conflict": false}, 200)
	time.Sleep(time.Until(deadline) + 50*time.Millisecond)
	req, _ := http.NewRequest(http.MethodPut, path+"/bids/"+bid.ID+"/scores", strings.NewReader(`{"scores": {"approach": {"score": 3, "justification": "Clear plan."}}}`))
	req.Header.Set("Authorization", "Bearer "+buyer)
	req.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("score: %v %v", res, err)
	}
	step("award", path+"/award", buyer, map[string]string{"bid_id": bid.ID, "reason": "Best value."}, 200)
	step("confirm", path+"/award/confirm", buyer, nil, 200)

	var got struct {
		Items []struct {
			ID              string `json:"id"`
			Status          string `json:"status"`
			AmountPence     int64  `json:"amount_pence"`
			StripeInvoiceID string `json:"stripe_invoice_id"`
		} `json:"items"`
	}
	waitFor := func(status string) {
		t.Helper()
		for range 100 {
			code, body := getJSON(t, base+"/api/v1/billing/levies", supplier)
			if code != 200 {
				t.Fatalf("levies: %d %s", code, body)
			}
			json.Unmarshal(body, &got)
			if len(got.Items) == 1 && got.Items[0].Status == status {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		_, ob := getJSON(t, base+"/api/v1/billing/levies", operator)
		t.Fatalf("the levy did not become %s: %s", status, ob)
	}
	waitFor("sent")
	l := got.Items[0]
	if l.AmountPence != 500_001 || l.StripeInvoiceID == "" { // 1.25% of 40,000,040 = 500,000.5: half up
		t.Errorf("levy %+v", l)
	}
	if n := len(proxy.Answered(http.MethodPost, "/v1/invoiceitems")); n != 1 {
		t.Errorf("%d invoice items sent to Stripe, want 1", n)
	}

	payload := fmt.Sprintf(`{"id": "evt_e2e_paid", "object": "event", "api_version": "2023-10-16", "type": "invoice.paid",
		"data": {"object": {"id": %q, "object": "invoice", "metadata": {"csm_levy_id": %q}}}}`, l.StripeInvoiceID, l.ID)
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(payload), Secret: secret, Timestamp: time.Now()})
	wreq, _ := http.NewRequest(http.MethodPost, base+"/api/v1/billing/stripe/webhook", strings.NewReader(payload))
	wreq.Header.Set("Content-Type", "application/json")
	wreq.Header.Set("Stripe-Signature", sp.Header)
	wres, err := http.DefaultClient.Do(wreq)
	if err != nil || wres.StatusCode != 200 {
		t.Fatalf("webhook: %v %v", wres, err)
	}
	waitFor("paid")
	if code, body := getJSON(t, base+"/api/v1/billing/levies?status=paid", operator); code != 200 || !strings.Contains(string(body), l.ID) {
		t.Errorf("the operator's paid levies: %d %s", code, body)
	}
	if code, body := getJSON(t, base+"/api/v1/billing/levies", buyer); code != 403 {
		t.Errorf("a buyer listed levies: %d %s", code, body)
	}
	_, metrics := getJSON(t, base+"/metrics", "")
	for _, m := range []string{`csm_levies_total{status="pending"} 1`, `csm_levies_total{status="sent"} 1`, `csm_levies_total{status="paid"} 1`, `csm_stripe_request_duration_seconds_count{operation="send"} 1`} {
		if !strings.Contains(string(metrics), m) {
			t.Errorf("metrics lack %s", m)
		}
	}
	var out strings.Builder
	if err := run(t.Context(), []string{"audit", "verify"}, env(vars), nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "audit chain ok") {
		t.Fatalf("audit verify: %v %s", err, out.String())
	}
}

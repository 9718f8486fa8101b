package auth

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// TestVerifiedMemoKeepsTheTimeRules checks that a remembered token is held
// to exactly the rules a fresh verification applies: at each instant, a
// Tokens that has verified the token before gives the same answer as one
// that never saw it, expiry included.
func TestVerifiedMemoKeepsTheTimeRules(t *testing.T) {
	ks := MustKeySet(t)
	memo := NewTokens(ks, testIssuer, testAudience)
	token := MustIssue(t, memo, testClaims(t0))
	if _, err := memo.VerifyAccess(token, t0); err != nil {
		t.Fatal(err)
	}
	if memo.verified.Len() != 1 {
		t.Fatalf("%d tokens remembered after one verification, want 1", memo.verified.Len())
	}
	exp := t0.Add(market.AccessTokenTTL)
	for _, tc := range []struct {
		name string
		at   time.Time
	}{
		{"issued", t0},
		{"within leeway before issue", t0.Add(-Leeway)},
		{"before issue", t0.Add(-Leeway - time.Second)},
		{"last valid second", exp.Add(Leeway - time.Second)},
		{"at exp plus leeway", exp.Add(Leeway)},
		{"long expired", exp.Add(24 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fresh := NewTokens(ks, testIssuer, testAudience)
			want, wantErr := fresh.VerifyAccess(token, tc.at)
			got, err := memo.VerifyAccess(token, tc.at)
			if got != want || market.ErrorMessage(err) != market.ErrorMessage(wantErr) {
				t.Errorf("remembered: %+v, %v; fresh: %+v, %v", got, err, want, wantErr)
			}
		})
	}
	t.Run("expired while remembered", func(t *testing.T) {
		_, err := memo.VerifyAccess(token, exp.Add(Leeway))
		if market.ErrorCode(err) != market.EUNAUTHORIZED || !strings.Contains(market.ErrorMessage(err), "expired") {
			t.Errorf("an expired remembered token: %v", err)
		}
	})
}

// TestVerifiedMemoNeverRemembersARefusal checks that a token that fails
// verification is refused every time, and that a forgery resembling a
// remembered token (same claims, another signature) gains nothing from it.
func TestVerifiedMemoNeverRemembersARefusal(t *testing.T) {
	ks := MustKeySet(t)
	tk := NewTokens(ks, testIssuer, testAudience)
	other := NewTokens(MustKeySet(t), testIssuer, testAudience)
	valid := MustIssue(t, tk, testClaims(t0))
	if _, err := tk.VerifyAccess(valid, t0); err != nil {
		t.Fatal(err)
	}
	p := strings.Split(valid, ".")
	sig := []byte(p[2])
	sig[len(sig)/2] ^= 1 // still base64url, no longer the signature
	for name, forged := range map[string]string{
		"signature altered":  p[0] + "." + p[1] + "." + string(sig),
		"signature dropped":  p[0] + "." + p[1] + ".",
		"another key's kid":  MustIssue(t, other, testClaims(t0)),
		"claims of the real": p[0] + "." + p[1] + "." + strings.Split(MustIssue(t, other, testClaims(t0)), ".")[2],
	} {
		t.Run(name, func(t *testing.T) {
			before := tk.verified.Len()
			for i := range 2 {
				if _, err := tk.VerifyAccess(forged, t0); market.ErrorCode(err) != market.EUNAUTHORIZED {
					t.Fatalf("attempt %d accepted: %v", i+1, err)
				}
			}
			if n := tk.verified.Len(); n != before {
				t.Errorf("%d tokens remembered after refusals, want %d", n, before)
			}
		})
	}
	if _, err := tk.VerifyAccess(valid, t0); err != nil {
		t.Errorf("the genuine token after the forgeries: %v", err)
	}
}

// TestVerifiedMemoIsBounded checks that the memo never grows past its size,
// however many tokens are verified.
func TestVerifiedMemoIsBounded(t *testing.T) {
	const size = 8
	tk := newTokens(MustKeySet(t), testIssuer, testAudience, size)
	tokens := make([]string, size+5)
	for i := range tokens {
		c := testClaims(t0)
		c.ID = "jti-" + strconv.Itoa(i)
		tokens[i] = MustIssue(t, tk, c)
		if _, err := tk.VerifyAccess(tokens[i], t0); err != nil {
			t.Fatal(err)
		}
	}
	if n := tk.verified.Len(); n != size {
		t.Errorf("memo holds %d tokens, want its bound %d", n, size)
	}
	// A token the memo has let go of is verified afresh, and still accepted.
	if _, err := tk.VerifyAccess(tokens[0], t0); err != nil {
		t.Errorf("a token no longer remembered: %v", err)
	}
}

package api

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// TestConsistencyToken: a write's answer carries the Consistency-Token of
// its invalidations, and a replica serving from its near-cache answers a
// read that sends it back with a view at least that new, on the first
// read, whatever it held. A token that cannot be read is a 400 naming the
// header; an empty one is none.
func TestConsistencyToken(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustAccountEnv(t, engine)
			w := e.mustWorld(t)
			second := e.secondNearHandler(t)
			redis := os.Getenv("TEST_REDIS_URL") != "" // then both handlers' caches are on it
			id := w.supA.orgID
			profile, list := "/api/v1/providers/"+id, "/api/v1/providers?capability=business_intelligence"

			for range 3 { // the second replica holds both views
				for _, target := range []string{profile, list} {
					res, body := do(t, second, req{method: http.MethodGet, target: target})
					want(t, res, body, http.StatusOK)
				}
			}
			res, body := do(t, second, req{method: http.MethodGet, target: profile})
			want(t, res, body, http.StatusOK)
			etag := res.Header.Get("ETag")

			for round := range 5 {
				edit := validListing("Alpha, edited in round " + string(rune('A'+round)) + ": consistency of views.")
				res, body := e.put(t, w.supA, edit, etag)
				want(t, res, body, http.StatusOK)
				etag = res.Header.Get("ETag")
				token := res.Header.Get("Consistency-Token")
				if redis && !strings.HasPrefix(token, "providers:") {
					t.Fatalf("PUT on Redis answered Consistency-Token %q, want providers:<generation>", token)
				}
				if !redis && token != "" {
					t.Errorf("PUT in process answered Consistency-Token %q, want none (one process sees its writes)", token)
				}
				h := map[string]string{}
				if token != "" {
					h["Consistency-Token"] = token
				}
				res, body = do(t, second, req{method: http.MethodGet, target: profile, header: h})
				want(t, res, body, http.StatusOK)
				if res.Header.Get("ETag") != etag || mustDecode[providerResponse](t, body).Summary != edit.Summary {
					t.Fatalf("round %d: the second replica with the token gave ETag %s (the PUT's %s): %.200s", round, res.Header.Get("ETag"), etag, body)
				}
				res, body = do(t, second, req{method: http.MethodGet, target: list, header: h})
				want(t, res, body, http.StatusOK)
				if !strings.Contains(string(body), edit.Summary) {
					t.Fatalf("round %d: the second replica's directory with the token misses the edit", round)
				}
			}

			for _, bad := range []string{"providers", "providers:x", "providers:-4", "a b:1", strings.Repeat("p", 5000)} {
				res, body := do(t, second, req{method: http.MethodGet, target: profile, header: map[string]string{"Consistency-Token": bad}})
				want(t, res, body, http.StatusBadRequest)
				if p := mustDecode[problem](t, body); len(p.Errors) != 1 || p.Errors[0].Field != "Consistency-Token" {
					t.Errorf("token %.20q: errors %+v, want one naming Consistency-Token", bad, p.Errors)
				}
			}
			res, body = do(t, second, req{method: http.MethodGet, target: profile, header: map[string]string{"Consistency-Token": ""}})
			want(t, res, body, http.StatusOK)
		})
	}
}

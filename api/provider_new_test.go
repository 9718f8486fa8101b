package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// TestNewSupplier: a supplier registered without a listing is a provider
// at once, with its organisation's facts and an empty listing, on the
// handler it registered through and on a second one sharing the store
// (and, with TEST_REDIS_URL, its own cache on the same Redis); its first
// edit is an If-Match update like any other, and the operator disabling it
// takes it out of the directory everywhere.
func TestNewSupplier(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustAccountEnv(t, engine)
			op := e.mustOperator(t)
			second := e.secondHandler(t)
			handlers := map[string]http.Handler{"Same": e.s.engine, "Second": second}

			// Directory pages cached on both handlers before the supplier
			// registers: the registration must retire them.
			lists := []string{"/api/v1/providers?sector=third_sector", "/api/v1/providers?q=quernmore", "/api/v1/providers?region=north_west"}
			for _, h := range handlers {
				for _, target := range lists {
					res, body := do(t, h, req{method: http.MethodGet, target: target})
					want(t, res, body, http.StatusOK)
				}
			}

			r := supplierRegistration("Quernmore Community Interest Company", "admin@quernmore.example",
				identifierRequest{Scheme: "GB-CHC", ID: "1098765"}, nil)
			r.Organisation.Sector, r.Organisation.Regions = "third_sector", []string{"north_west", "london"}
			a := e.register(t, r)
			profile := "/api/v1/providers/" + a.orgID

			var etag string
			t.Run("get200", func(t *testing.T) { etag = newSupplierGet200(t, handlers, profile, a.orgID) })
			t.Run("list200", func(t *testing.T) {
				newSupplierListed(t, handlers, a.orgID, map[string]bool{
					"/api/v1/providers?sector=third_sector":     true,
					"/api/v1/providers?q=quernmore":             true,
					"/api/v1/providers?q=Community%20Interest":  true,
					"/api/v1/providers?region=north_west":       true,
					"/api/v1/providers?region=london&q=quern":   true,
					"/api/v1/providers":                         true,
					"/api/v1/providers?size=small":              false,
					"/api/v1/providers?capability=finance":      false,
					"/api/v1/providers?sector=nhs":              false,
					"/api/v1/providers?region=midlands":         false,
					"/api/v1/providers?q=quernmore&size=medium": false,
				})
			})

			edit := validListing("Quernmore: xylography of commissioning pathways.")
			t.Run("update428", func(t *testing.T) {
				res, body := e.put(t, a, edit)
				want(t, res, body, http.StatusPreconditionRequired)
				if p := mustDecode[problem](t, body); p.Code != "precondition_required" {
					t.Errorf("code %q", p.Code)
				}
			})
			t.Run("update412", func(t *testing.T) {
				for name, ifMatch := range map[string]string{"Other": `"0123456789abcdef01234567"`, "Weak": "W/" + etag} {
					t.Run(name, func(t *testing.T) {
						res, body := e.put(t, a, edit, ifMatch)
						want(t, res, body, http.StatusPreconditionFailed)
					})
				}
				if got := e.etagOf(t, a.orgID); got != etag {
					t.Errorf("refused edits moved the ETag: %s -> %s", etag, got)
				}
			})
			t.Run("update200", func(t *testing.T) {
				res, body := e.put(t, a, edit, etag)
				want(t, res, body, http.StatusOK)
				put := mustDecode[providerResponse](t, body)
				newETag := res.Header.Get("ETag")
				if put.Version != 2 || put.Summary != edit.Summary || put.Size != "small" || newETag == "" || newETag == etag {
					t.Errorf("first edit: ETag %s (was %s): %s", newETag, etag, body)
				}
				for name, h := range handlers {
					t.Run(name, func(t *testing.T) {
						res, body := do(t, h, req{method: http.MethodGet, target: profile, header: map[string]string{"If-None-Match": etag}})
						want(t, res, body, http.StatusOK)
						if res.Header.Get("ETag") != newETag || mustDecode[providerResponse](t, body).Summary != edit.Summary {
							t.Errorf("profile after the edit: ETag %s, want %s: %.300s", res.Header.Get("ETag"), newETag, body)
						}
					})
				}
				newSupplierListed(t, handlers, a.orgID, map[string]bool{
					"/api/v1/providers?q=xylography":                        true,
					"/api/v1/providers?size=small":                          true,
					"/api/v1/providers?capability=business_intelligence":    true,
					"/api/v1/providers?region=midlands":                     true,
					"/api/v1/providers?region=north_west":                   false, // the listing's regions now
					"/api/v1/providers?sector=third_sector&q=Quernmore":     true,
					"/api/v1/providers?sector=third_sector&size=large":      false,
					"/api/v1/providers?sector=third_sector&region=london":   false,
					"/api/v1/providers?sector=third_sector&region=midlands": true,
				})
				res, body = e.put(t, a, edit, etag)
				want(t, res, body, http.StatusPreconditionFailed)
			})
			t.Run("get404Disabled", func(t *testing.T) {
				res, body := e.do(t, req{method: http.MethodPost, target: "/api/v1/operator/organisations/" + a.orgID + "/disable", token: op.access})
				want(t, res, body, http.StatusOK)
				for name, h := range handlers {
					t.Run(name, func(t *testing.T) {
						res, body := do(t, h, req{method: http.MethodGet, target: profile})
						want(t, res, body, http.StatusNotFound)
					})
				}
				newSupplierListed(t, handlers, a.orgID, map[string]bool{
					"/api/v1/providers?sector=third_sector": false,
					"/api/v1/providers?q=quernmore":         false,
					"/api/v1/providers?q=xylography":        false,
					"/api/v1/providers":                     false,
				})
			})
		})
	}
}

// newSupplierGet200 checks the new supplier's profile on every handler:
// one ETag, the organisation's facts, the listing's fields empty and no
// size. It returns the ETag.
func newSupplierGet200(t *testing.T, handlers map[string]http.Handler, profile, id string) string {
	t.Helper()
	etags := map[string]bool{}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			res, body := do(t, h, req{method: http.MethodGet, target: profile})
			want(t, res, body, http.StatusOK)
			etag := res.Header.Get("ETag")
			if etag == "" || res.Header.Get("Cache-Control") != "public, no-cache" {
				t.Errorf("ETag %q, Cache-Control %q", etag, res.Header.Get("Cache-Control"))
			}
			etags[etag] = true
			got := mustDecode[providerResponse](t, body)
			wantP := providerResponse{
				ID: id, Name: "Quernmore Community Interest Company", Sector: "third_sector",
				Identifiers: []identifierJSON{{Scheme: "GB-CHC", ID: "1098765", OrgID: "GB-CHC-1098765"}},
				Regions:     []string{"north_west", "london"}, Summary: "", Capabilities: []string{}, Size: "",
				Accreditations: []string{}, CaseStudies: []caseStudyJSON{}, Version: 1, UpdatedAt: got.UpdatedAt,
			}
			if !reflect.DeepEqual(got, wantP) || got.UpdatedAt == "" {
				t.Errorf("profile\n%+v\nwant\n%+v", got, wantP)
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(body, &raw); err != nil {
				t.Fatal(err)
			}
			if s, ok := raw["size"]; ok {
				t.Errorf("size %s on a supplier that has not chosen one", s)
			}
			if c := string(raw["contact"]); c != "{}" {
				t.Errorf("contact %s, want {}", c)
			}
			res, body = do(t, h, req{method: http.MethodGet, target: profile, header: map[string]string{"If-None-Match": etag}})
			want(t, res, body, http.StatusNotModified)
		})
	}
	if len(etags) != 1 {
		t.Fatalf("the handlers give ETags %v for one provider", etags)
	}
	for etag := range etags {
		return etag
	}
	return ""
}

// newSupplierListed checks on every handler that each directory page (the
// first, at the default size, as the pages cached before registration)
// holds provider id, or does not, as wanted.
func newSupplierListed(t *testing.T, handlers map[string]http.Handler, id string, wanted map[string]bool) {
	t.Helper()
	for name, h := range handlers {
		for target, in := range wanted {
			res, body := do(t, h, req{method: http.MethodGet, target: target})
			want(t, res, body, http.StatusOK)
			page := mustDecode[providerList](t, body)
			if got := slices.ContainsFunc(page.Items, func(p providerResponse) bool { return p.ID == id }); got != in {
				t.Errorf("%s: %s holds the new supplier: %v, want %v", name, target, got, in)
			}
		}
	}
}

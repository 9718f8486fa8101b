package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

func TestProviders(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustEnv(t, engine)
			t.Run("list200", func(t *testing.T) { list200(t, e) })
			t.Run("list200Pages", func(t *testing.T) { list200Pages(t, e) })
			t.Run("list304", func(t *testing.T) { list304(t, e) })
			t.Run("list400", func(t *testing.T) { list400(t, e) })
			t.Run("list400Fuzz", func(t *testing.T) { list400Fuzz(t, e) })
			t.Run("get200", func(t *testing.T) { get200(t, e) })
			t.Run("get304", func(t *testing.T) { get304(t, e) })
			t.Run("get404", func(t *testing.T) { get404(t, e) })
			t.Run("reference200", func(t *testing.T) { reference200(t, e) })
			t.Run("update200", func(t *testing.T) { update200(t, mustEnv(t, engine)) })
		})
	}
}

func list200(t *testing.T, e *env) {
	all := fixtures()
	match := func(keep func(market.Provider) bool) []string {
		var out []string
		for _, p := range all {
			if keep(p) {
				out = append(out, p.Organisation.Name)
			}
		}
		slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
		return out
	}
	has := func(xs []string, x string) bool { return slices.Contains(xs, x) }
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"All", "", match(func(market.Provider) bool { return true })},
		{"SectorThirdSector", "sector=third_sector", match(func(p market.Provider) bool { return p.Organisation.Sector == market.SectorThirdSector })},
		{"SectorNHS", "sector=nhs", match(func(p market.Provider) bool { return p.Organisation.Sector == market.SectorNHS })},
		{"Capability", "capability=business_intelligence", match(func(p market.Provider) bool { return has(p.Listing.Capabilities, "business_intelligence") })},
		{"Region", "region=north_west", match(func(p market.Provider) bool { return has(p.Listing.Regions, "north_west") })},
		{"Size", "size=large", match(func(p market.Provider) bool { return p.Listing.Size == market.SizeLarge })},
		{"Combined", "sector=independent&region=london", []string{"Meridian Analytics Ltd"}},
		{"NoMatch", "sector=nhs&region=london", nil},
		{"Query", "q=kaizen", []string{"Kent County Council Public Health"}},
		{"UnknownParameterIgnored", "sector=nhs&colour=blue", match(func(p market.Provider) bool { return p.Organisation.Sector == market.SectorNHS })},
		{"EmptyValueIsAbsent", "sector=&size=", match(func(market.Provider) bool { return true })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := e.get(t, "/api/v1/providers?"+tt.query)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			if got := res.Header.Get("Cache-Control"); got != "public, no-cache" {
				t.Errorf("Cache-Control %q", got)
			}
			page := mustDecode[providerList](t, body)
			if got := names(page.Items); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if page.NextCursor != nil {
				t.Errorf("next_cursor %q on the only page", *page.NextCursor)
			}
		})
	}

	t.Run("SameFilterSharesEntry", func(t *testing.T) {
		r1, _ := e.get(t, "/api/v1/providers?sector=nhs&page_size=20")
		r2, _ := e.get(t, "/api/v1/providers?page_size=20&sector=nhs&utm_source=x")
		r3, _ := e.get(t, "/api/v1/providers?sector=nhs")
		if a, b, c := r1.Header.Get("ETag"), r2.Header.Get("ETag"), r3.Header.Get("ETag"); a == "" || a != b || a != c {
			t.Errorf("ETags %s %s %s for one filter", a, b, c)
		}
	})
}

func list200Pages(t *testing.T, e *env) {
	var got []string
	target := "/api/v1/providers?page_size=3"
	for pages := 1; ; pages++ {
		res, body := e.get(t, target)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("page %d: status %d: %s", pages, res.StatusCode, body)
		}
		page := mustDecode[providerList](t, body)
		if len(page.Items) > 3 {
			t.Fatalf("page %d has %d items", pages, len(page.Items))
		}
		got = append(got, names(page.Items)...)
		if page.NextCursor == nil {
			if pages != 3 {
				t.Errorf("%d pages for 8 providers at 3 a page", pages)
			}
			break
		}
		if pages > 3 {
			t.Fatalf("more than 3 pages: %q", got)
		}
		target = "/api/v1/providers?page_size=3&cursor=" + url.QueryEscape(*page.NextCursor)
	}
	want := make([]string, 0, len(e.ids))
	for name := range e.ids {
		want = append(want, name)
	}
	slices.SortFunc(want, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	if !slices.Equal(got, want) {
		t.Errorf("pages gave %q, want every provider once by name: %q", got, want)
	}
}

func list304(t *testing.T, e *env) {
	const target = "/api/v1/providers?sector=nhs"
	res, _ := e.get(t, target)
	etag := res.Header.Get("ETag")
	tests := []struct {
		name, inm string
		want      int
	}{
		{"Same", etag, http.StatusNotModified},
		{"InList", `"old", ` + etag, http.StatusNotModified},
		{"Weak", "W/" + etag, http.StatusNotModified},
		{"Star", "*", http.StatusNotModified},
		{"Other", `"0123"`, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := e.get(t, target, "If-None-Match", tt.inm)
			if res.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.want)
			}
			if tt.want == http.StatusNotModified && len(body) != 0 {
				t.Errorf("304 with a body: %q", body)
			}
			if res.Header.Get("ETag") != etag {
				t.Errorf("ETag %q, want %q", res.Header.Get("ETag"), etag)
			}
		})
	}
}

func list400(t *testing.T, e *env) {
	tests := []struct {
		name   string
		query  string
		fields []string
	}{
		{"PageSizeNotInteger", "page_size=ten", []string{"page_size"}},
		{"PageSizeZero", "page_size=0", []string{"page_size"}},
		{"PageSizeNegative", "page_size=-1", []string{"page_size"}},
		{"PageSizeOver100", "page_size=101", []string{"page_size"}},
		{"PageSizeHuge", "page_size=99999999999999999999", []string{"page_size"}},
		{"UnknownSector", "sector=council", []string{"sector"}},
		{"UnknownCapability", "capability=juggling", []string{"capability"}},
		{"UnknownRegion", "region=wales", []string{"region"}},
		{"UnknownSize", "size=huge", []string{"size"}},
		{"MalformedCursor", "cursor=not-a-cursor!", []string{"cursor"}},
		{"CursorWithNUL", "cursor=" + market.EncodeCursor("a\x00b", "x"), []string{"cursor"}},
		{"QueryTooLong", "q=" + strings.Repeat("a", 201), []string{"q"}},
		{"QueryNUL", "q=a%00b", []string{"q"}},
		{"QueryBadUTF8", "q=%ff%fe", []string{"q"}},
		{"BadEscape", "sector=%zz", []string{"sector"}},
		{"Repeated", "sector=nhs&sector=nhs", []string{"sector"}},
		{"Several", "sector=council&size=huge&page_size=0", []string{"page_size", "sector", "size"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := e.get(t, "/api/v1/providers?"+tt.query)
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", res.StatusCode, body)
			}
			p := mustDecode[problem](t, body)
			var got []string
			for _, f := range p.Errors {
				got = append(got, f.Field)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.fields) {
				t.Errorf("errors name %q, want %q (%s)", got, tt.fields, body)
			}
			if p.Code != market.EINVALID || p.Instance != "/api/v1/providers" {
				t.Errorf("code %q instance %q", p.Code, p.Instance)
			}
		})
	}
}

// list400Fuzz sends odd query strings: none may get anything but 200 or 400.
func list400Fuzz(t *testing.T, e *env) {
	keys := []string{"q", "sector", "capability", "region", "size", "cursor", "page_size", "x", "q%00", "", "sector[]"}
	values := []string{
		"", "nhs", "%00", "a%00b", "%ff", "%", "%zz", "+", "%2B", "\u00e9t\u00e9", "\U0001F600", "\u202e",
		"'; DROP TABLE providers; --", `"`, "\\", "*", ":*", "&|!", "(", "a b c", "1e3", "0x10", "-0",
		strings.Repeat("x", 10000), strings.Repeat("%E2%82%AC", 300), market.EncodeCursor("zzz", "not-an-id"),
		market.EncodeCursor(strings.Repeat("k", 900)), market.EncodeCursor("a", "b", "c", "d", "e"),
	}
	n := 0
	for i, k := range keys {
		for j, v := range values {
			q := k + "=" + v
			if (i+j)%3 == 0 {
				q += "&" + keys[(i+1)%len(keys)] + "=" + values[(j+5)%len(values)]
			}
			if (i+j)%4 == 0 {
				q += "&" + q
			}
			// The query goes in raw, as a client that escapes nothing sends it.
			req := httptest.NewRequest(http.MethodGet, "/api/v1/providers", nil)
			req.URL.RawQuery = q
			res, body := serve(t, e.s.engine, req)
			if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusBadRequest {
				t.Errorf("%.120q: status %d: %.300s", q, res.StatusCode, body)
			}
			n++
		}
	}
	for _, id := range []string{"%00", "%ff", "x%2Fy", strings.Repeat("a", 65), "\u00e9", "..", "0190f0e6-0000-7000-8000-000000000000", "1", "'or'1'='1"} {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/providers/x", nil)
		req.URL.Path, req.URL.RawPath = "/api/v1/providers/"+id, ""
		if u, err := url.Parse("/api/v1/providers/" + id); err == nil {
			req.URL = u
		}
		res, body := serve(t, e.s.engine, req)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("provider %q: status %d: %.300s", id, res.StatusCode, body)
		}
	}
	t.Logf("%d odd queries answered", n)
}

func get200(t *testing.T, e *env) {
	id := e.ids["Meridian Analytics Ltd"]
	res, body := e.get(t, "/api/v1/providers/"+id)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	p := mustDecode[providerResponse](t, body)
	want := []identifierJSON{{Scheme: "GB-COH", ID: "09506232", OrgID: "GB-COH-09506232"}}
	if p.ID != id || p.Name != "Meridian Analytics Ltd" || p.Sector != "independent" || !slices.Equal(p.Identifiers, want) {
		t.Errorf("got %+v", p)
	}
	if p.DayRateMinPence != 45000 || p.Version != 1 || p.UpdatedAt != "2025-11-20T09:30:00Z" || p.Contact.Email != "bids@example.org" {
		t.Errorf("got %+v", p)
	}
}

func get304(t *testing.T, e *env) {
	target := "/api/v1/providers/" + e.ids["Healthwatch Partners"]
	res, _ := e.get(t, target)
	res2, body := e.get(t, target, "If-None-Match", res.Header.Get("ETag"))
	if res2.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Fatalf("status %d, body %q", res2.StatusCode, body)
	}
}

func get404(t *testing.T, e *env) {
	for _, target := range []string{
		"/api/v1/providers/0190f0e6-0000-7000-8000-000000000000",
		"/api/v1/providers/",
		"/api/v1/provider",
		"/api/v2/providers",
	} {
		t.Run(target, func(t *testing.T) {
			res, body := e.get(t, target)
			if res.StatusCode != http.StatusNotFound {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			if p := mustDecode[problem](t, body); p.Code != market.ENOTFOUND {
				t.Errorf("code %q", p.Code)
			}
		})
	}
}

func reference200(t *testing.T, e *env) {
	res, body := e.get(t, "/api/v1/capabilities")
	caps := mustDecode[listResponse[capabilityResponse]](t, body)
	if res.StatusCode != http.StatusOK || len(caps.Items) != len(market.Capabilities) || caps.Items[0].CPV != market.Capabilities[0].CPV {
		t.Errorf("capabilities: %d %s", res.StatusCode, body)
	}
	res, body = e.get(t, "/api/v1/regions")
	regions := mustDecode[listResponse[regionResponse]](t, body)
	if res.StatusCode != http.StatusOK || len(regions.Items) != 7 {
		t.Errorf("regions: %d %s", res.StatusCode, body)
	}
	res2, _ := e.get(t, "/api/v1/regions", "If-None-Match", res.Header.Get("ETag"))
	if res2.StatusCode != http.StatusNotModified {
		t.Errorf("regions revalidated: %d", res2.StatusCode)
	}
}

// update200 checks that a listing update through the cache wrapper is served
// at once, under a new ETag, in the profile and in the directory.
func update200(t *testing.T, e *env) {
	id := e.ids["Pennine Finance Partners LLP"]
	profile := "/api/v1/providers/" + id
	list := "/api/v1/providers?sector=independent"
	r1, _ := e.get(t, profile)
	l1, _ := e.get(t, list)

	ctx := context.Background()
	p, err := e.providers.GetProvider(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	l := p.Listing
	l.Summary = "Now also payroll for primary care networks."
	if _, err := e.providers.UpdateListing(ctx, id, l, p.Listing.Version); err != nil {
		t.Fatal(err)
	}

	r2, body := e.get(t, profile, "If-None-Match", r1.Header.Get("ETag"))
	if r2.StatusCode != http.StatusOK {
		t.Fatalf("profile after update: status %d, want 200 for the old ETag", r2.StatusCode)
	}
	got := mustDecode[providerResponse](t, body)
	if got.Summary != l.Summary || got.Version != p.Listing.Version+1 || r2.Header.Get("ETag") == r1.Header.Get("ETag") {
		t.Errorf("profile after update: summary %q version %d ETag %s (was %s)", got.Summary, got.Version, r2.Header.Get("ETag"), r1.Header.Get("ETag"))
	}
	l2, body := e.get(t, list)
	if l2.Header.Get("ETag") == l1.Header.Get("ETag") || !strings.Contains(string(body), l.Summary) {
		t.Errorf("directory after update: ETag %s (was %s), body %.300s", l2.Header.Get("ETag"), l1.Header.Get("ETag"), body)
	}
}

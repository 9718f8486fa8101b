package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/csmarket/csmarket/internal/market"
)

// listRoute is a list that pages by cursor, asked as a caller who may
// read it.
type listRoute struct {
	path, query string // query: the list's own filter, if any
	token       func(e *fuzzEnv) string
}

func fuzzListRoutes(e *fuzzEnv) []listRoute {
	w := e.w
	lead := func(*fuzzEnv) string { return w.lead.access }
	operator := func(*fuzzEnv) string { return w.operator.access }
	return []listRoute{
		{"/api/v1/providers", "", nil},
		{"/api/v1/tenders", "", nil},
		{"/api/v1/tenders", "status=draft", lead},
		{"/api/v1/audit", "", lead},
		{"/api/v1/organisations", "", operator},
		{"/api/v1/notifications", "", lead},
		{"/api/v1/billing/levies", "", operator},
		{"/api/v1/operator/emails", "", operator},
		{comparisonPath(e.closed.ID), "", lead},
		{"/api/v1/providers", "q=analytics", nil},
		{"/api/v1/tenders", "status=open", nil},
	}
}

// FuzzListCursors sends any cursor and page size (and free-text query) to
// every list that pages, encoded as a client encodes them or as raw query
// text: none gives a 5xx, a refusal names the parameter at fault, and the
// next_cursor of every page leads to the next page. The directory holds a
// supplier whose name is 200 bytes that JSON escapes, as registration
// allows.
func FuzzListCursors(f *testing.F) {
	e := mustFuzzEnv(f)
	odd := validListing("A name that JSON escapes.")
	reg := supplierRegistration(strings.Repeat("<&>", 66)+"<&", "bids@escaped.example", identifierRequest{Scheme: "GB-COH", ID: "07999999"}, &odd)
	reg.User.Name = "Admin"
	e.register(f, reg)
	routes := fuzzListRoutes(e)
	seeds := []string{"", "x", "WyJhIl0", "W10", "bnVsbA", "WyJuIiwiYSJd", "WyJyb3ciLCIwIl0", "WyJyb3ciLCItMSJd", "%zz", "a b", "a+b",
		market.EncodeCursor("n", "", ""), market.EncodeCursor("n", "\x00", "x"), market.EncodeCursor("r", "NaN", "x"), market.EncodeCursor("r", "1e999", "x"),
		market.EncodeCursor("t", "not a time", "x"), market.EncodeCursor("t", "2025-11-20T09:30:00.000000Z", "'; DROP TABLE tenders; --"),
		market.EncodeCursor("row", "1"), market.EncodeCursor("row", "9223372036854775808"), market.EncodeCursor("row", "01"),
		market.EncodeCursor("a", "-1"), market.EncodeCursor("a", "1", "2", "3"), strings.Repeat("A", 5000)}
	for i := range routes {
		for j, c := range seeds {
			f.Add(uint8(i), c, []string{"", "1", "0", "-1", "100", "101", "1e2", "9223372036854775808", " 5"}[j%9], "", j%4 == 0)
		}
		f.Add(uint8(i), "", "1", "", false)
		// The real next page of each list: from page one of size one.
		res, b := e.listPage(f, routes[i], url.Values{"page_size": {"1"}}.Encode())
		if res.StatusCode == http.StatusOK {
			if next := nextCursor(f, b); next != "" {
				f.Add(uint8(i), next, "1", "", false)
				f.Add(uint8(i), next+"A", "2", "", false)
			}
		}
	}
	f.Add(uint8(9), "", "1", "analytics & data", false)
	f.Add(uint8(0), "", "1", "\x00", false)
	f.Add(uint8(0), "", "2", strings.Repeat("q", 300), false)

	f.Fuzz(func(t *testing.T, route uint8, cursor, pageSize, q string, raw bool) {
		r := routes[int(route)%len(routes)]
		var query string
		// A parameter left empty is left out, as clients do: the server
		// ignores an empty one, which openapi.yaml does not allow.
		if raw {
			// As a client may send them, unencoded; a request line holds
			// no control characters, spaces or fragment.
			var ps []string
			for _, p := range [][2]string{{"cursor", cursor}, {"page_size", pageSize}, {"q", q}} {
				if p[1] != "" {
					ps = append(ps, p[0]+"="+p[1])
				}
			}
			query = strings.Join(ps, "&")
			if strings.ContainsAny(query, "# \x7f") || strings.IndexFunc(query, func(r rune) bool { return r < 0x20 }) >= 0 {
				return
			}
		} else {
			v := url.Values{}
			for _, p := range [][2]string{{"cursor", cursor}, {"page_size", pageSize}, {"q", q}} {
				if p[1] != "" {
					v.Set(p[0], p[1])
				}
			}
			query = v.Encode()
		}
		res, b := e.listPage(t, r, query)
		what := "GET " + r.path + "?" + query
		e.checkAnswer(t, what, res, b)
		if res.StatusCode == http.StatusBadRequest {
			for _, fe := range mustDecode[problem](t, b).Errors {
				switch fe.Field {
				case "cursor", "page_size", "q", "query", "status":
				default:
					t.Fatalf("%s: a 400 naming %q", what, fe.Field)
				}
			}
		}
		if res.StatusCode != http.StatusOK {
			return
		}
		// The next page is there to be read, with the same filter.
		if next := nextCursor(t, b); next != "" {
			v := url.Values{"cursor": {next}}
			if pageSize != "" && !raw {
				v.Set("page_size", pageSize)
			}
			if q != "" && !raw {
				v.Set("q", q)
			}
			res, b := e.listPage(t, r, v.Encode())
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s: next_cursor %q of %s gave %d: %s", r.path, next, query, res.StatusCode, b)
			}
		}
	})
}

// listPage asks for one page of r with query (after r's own filter).
func (e *fuzzEnv) listPage(tb testing.TB, r listRoute, query string) (*http.Response, []byte) {
	tb.Helper()
	if r.query != "" {
		query = r.query + "&" + query
	}
	var token string
	if r.token != nil {
		token = r.token(e)
	}
	hr := newRequest(http.MethodGet, r.path)
	hr.URL.RawQuery = query
	if token != "" {
		hr.Header.Set("Authorization", "Bearer "+token)
	}
	return serve(tb, e.s.engine, hr)
}

// nextCursor is the next_cursor of a list's page, "" on the last.
func nextCursor(tb testing.TB, body []byte) string {
	tb.Helper()
	var page struct {
		NextCursor *string `json:"next_cursor"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		tb.Fatalf("a page that is not JSON: %v: %.300s", err, body)
	}
	if page.NextCursor == nil {
		return ""
	}
	return *page.NextCursor
}

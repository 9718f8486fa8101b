package api

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// TestComparisonPages walks the comparison page by page and checks that
// the pages, put together, are the whole table in rank order, each one
// carrying the facts of the whole table, and that the CSV is still the
// whole table.
func TestComparisonPages(t *testing.T) {
	const bids = 60 // more than the default page
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e, lead, id := mustScoredTender(t, engine, bids)
			get := func(t *testing.T, query string) comparisonResponse {
				t.Helper()
				res, b := e.do(t, req{method: http.MethodGet, target: comparisonPath(id) + query, token: lead.access})
				want(t, res, b, http.StatusOK)
				if n, _ := strconv.Atoi(res.Header.Get("Content-Length")); n != len(b) {
					t.Errorf("Content-Length %q for %d bytes", res.Header.Get("Content-Length"), len(b))
				}
				return mustDecode[comparisonResponse](t, b)
			}
			whole := get(t, "?page_size=1000")
			if whole.TotalRows != bids+1 || len(whole.Rows) != bids+1 || whole.NextCursor != "" {
				t.Fatalf("whole table: %d rows of %d, next %q", len(whole.Rows), whole.TotalRows, whole.NextCursor)
			}
			for i, r := range whole.Rows {
				if r.Rank != i+1 {
					t.Fatalf("row %d has rank %d", i, r.Rank)
				}
				if r.InHouse && whole.InHouseRank != r.Rank {
					t.Errorf("in_house_rank %d, the in-house row ranks %d", whole.InHouseRank, r.Rank)
				}
			}
			if whole.InHouseRank == 0 {
				t.Error("no in_house_rank")
			}

			t.Run("default page", func(t *testing.T) {
				c := get(t, "")
				if len(c.Rows) != defaultComparisonPage || c.NextCursor == "" || !reflect.DeepEqual(c.Rows, whole.Rows[:defaultComparisonPage]) {
					t.Errorf("default page: %d rows, next %q", len(c.Rows), c.NextCursor)
				}
			})
			t.Run("pages make the whole table", func(t *testing.T) {
				var rows []comparisonRowJSON
				query, pages := "?page_size=7", 0
				for {
					c := get(t, query)
					pages++
					if c.TotalRows != whole.TotalRows || c.InHouseRank != whole.InHouseRank || c.LowestPricePence != whole.LowestPricePence ||
						c.Sensitivity != whole.Sensitivity || !reflect.DeepEqual(c.SectorMix, whole.SectorMix) ||
						!reflect.DeepEqual(c.Criteria, whole.Criteria) || c.Status != whole.Status || c.TenderID != id {
						t.Fatalf("page %d differs from the whole table in its facts: %+v", pages, c)
					}
					rows = append(rows, c.Rows...)
					if c.NextCursor == "" {
						break
					}
					if pages > bids {
						t.Fatal("the cursor never ends")
					}
					query = "?page_size=7&cursor=" + c.NextCursor
				}
				if want := (bids + 1 + 6) / 7; pages != want {
					t.Errorf("%d pages, want %d", pages, want)
				}
				if !reflect.DeepEqual(rows, whole.Rows) {
					t.Errorf("the pages' %d rows are not the whole table's %d", len(rows), len(whole.Rows))
				}
			})
			t.Run("csv is the whole table", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodGet, target: comparisonPath(id) + "?format=csv&page_size=3", token: lead.access})
				want(t, res, b, http.StatusOK)
				recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				if len(recs) != bids+2 {
					t.Fatalf("%d CSV records, want a header and %d rows", len(recs), bids+1)
				}
				for i, r := range whole.Rows {
					if recs[i+1][0] != strconv.Itoa(r.Rank) || recs[i+1][1] != r.BidID {
						t.Errorf("CSV row %d: %q, want rank %d bid %q", i+1, recs[i+1][:2], r.Rank, r.BidID)
					}
				}
			})
			t.Run("bad paging is 400 naming the field", func(t *testing.T) {
				for _, tc := range []struct{ query, field string }{
					{"?page_size=0", "page_size"},
					{"?page_size=1001", "page_size"},
					{"?page_size=ten", "page_size"},
					{"?page_size=5&page_size=6", "page_size"},
					{"?cursor=not-a-cursor", "cursor"},
					{"?cursor=" + market.EncodeCursor("row", "-3"), "cursor"},
					{"?cursor=" + market.EncodeCursor("row", "07"), "cursor"},
					{"?cursor=" + market.EncodeCursor("Arden CSU", "01J9Z"), "cursor"},
					{"?format=xml", "format"},
				} {
					t.Run(tc.query, func(t *testing.T) {
						res, b := e.do(t, req{method: http.MethodGet, target: comparisonPath(id) + tc.query, token: lead.access})
						want(t, res, b, http.StatusBadRequest)
						if f := fieldsOf(t, b); !slices.Contains(f, tc.field) {
							t.Errorf("fields %v, want %s", f, tc.field)
						}
					})
				}
			})
			t.Run("a cursor past the end is an empty last page", func(t *testing.T) {
				c := get(t, "?cursor="+encodeOffset(bids+5))
				if len(c.Rows) != 0 || c.NextCursor != "" || c.TotalRows != bids+1 {
					t.Errorf("%d rows, next %q, total %d", len(c.Rows), c.NextCursor, c.TotalRows)
				}
			})
		})
	}
}

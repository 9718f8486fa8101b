package sqlstore_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// testClock is a settable clock; its time carries nanoseconds, so the
// tests see how the store rounds it.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type stores struct {
	db    *sqlstore.DB
	clock *testClock
	p     *sqlstore.ProviderStore
	o     *sqlstore.OrganisationStore
}

// mustStores returns the stores on a fresh database of engine.
func mustStores(tb testing.TB, engine string) stores {
	tb.Helper()
	db := sqlstoretest.MustOpen(tb, engine)
	c := &testClock{t: time.Date(2026, 3, 2, 9, 30, 15, 123456789, time.UTC)}
	return stores{db: db, clock: c, p: sqlstore.NewProviderStore(db, c), o: sqlstore.NewOrganisationStore(db, c)}
}

// eachEngine runs fn as a subtest per engine, each with fresh stores.
func eachEngine(t *testing.T, fn func(t *testing.T, s stores)) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			fn(t, mustStores(t, engine))
		})
	}
}

var (
	nameWords = []string{"Arden", "Bevan", "Calder", "Dales", "Eden", "Fenland", "Greenwich", "Humber",
		"Isis", "Jurassic", "Kennet", "Lune", "Mersey", "Nene", "Ouse", "Pennine", "Quantock", "Ribble",
		"Severn", "Tamar", "Usk", "Vale", "Wye", "Yare"}
	nameKinds = map[market.Sector][]string{
		market.SectorNHS:            {"Commissioning Support Unit", "CSU", "Health Partners"},
		market.SectorLocalAuthority: {"County Council", "Borough Council", "Shared Services"},
		market.SectorThirdSector:    {"Community Trust", "Healthwatch Partnership", "Social Enterprise"},
		market.SectorIndependent:    {"Analytics Ltd", "Consulting LLP", "Health Advisory Ltd"},
	}
	summaryWords = []string{"pathway", "population", "insight", "dashboards", "contracts", "assurance",
		"engagement", "prescribing", "workforce", "governance", "modelling", "benchmarking", "audit",
		"payroll", "procurement", "transformation", "integration", "outcomes", "equity", "primary", "care"}
	accreditationList = []string{"ISO 27001", "Cyber Essentials Plus", "ISO 9001", "DSP Toolkit: Standards Met"}
)

// genProviders makes n valid providers, the same for the same seed, with
// unique identifiers numbered from first.
func genProviders(n int, seed uint64, first int) []market.Provider {
	r := rand.New(rand.NewPCG(seed, 7))
	pick := func(xs []string, k int) []string {
		perm := r.Perm(len(xs))[:k]
		out := make([]string, k)
		for i, j := range perm {
			out[i] = xs[j]
		}
		return out
	}
	capKeys := make([]string, len(market.Capabilities))
	for i, c := range market.Capabilities {
		capKeys[i] = c.Key
	}
	regionKeys := make([]string, len(market.Regions))
	for i, rg := range market.Regions {
		regionKeys[i] = rg.Key
	}
	ps := make([]market.Provider, n)
	for i := range ps {
		sector := market.Sectors[r.IntN(len(market.Sectors))]
		kinds := nameKinds[sector]
		name := nameWords[r.IntN(len(nameWords))] + " " + nameWords[r.IntN(len(nameWords))] + " " + kinds[r.IntN(len(kinds))]
		regions := pick(regionKeys, 1+r.IntN(3))
		minRate := int64(40_000 + 1000*r.IntN(40))
		ps[i] = market.Provider{
			Organisation: market.Organisation{
				Kind:        market.KindSupplier,
				Name:        name,
				Status:      market.StatusActive,
				Sector:      sector,
				Identifiers: []market.Identifier{{Scheme: market.SchemeCOH, ID: fmt.Sprintf("%08d", first+i)}},
				Regions:     regions,
			},
			Listing: market.Listing{
				Summary:         "We offer " + strings.Join(pick(summaryWords, 6), " ") + " for clinical commissioning groups.",
				Capabilities:    pick(capKeys, 1+r.IntN(4)),
				Regions:         regions,
				Size:            market.Sizes[r.IntN(len(market.Sizes))],
				Accreditations:  pick(accreditationList, r.IntN(3)),
				DayRateMinPence: minRate,
				DayRateMaxPence: minRate + int64(1000*r.IntN(60)),
				CaseStudies: []market.CaseStudy{{
					Title:   "Helping " + nameWords[r.IntN(len(nameWords))] + " CCG with " + summaryWords[r.IntN(len(summaryWords))],
					Client:  nameWords[r.IntN(len(nameWords))] + " CCG",
					Summary: "A two year programme of " + strings.Join(pick(summaryWords, 4), " and ") + ".",
				}},
				Contact: market.Contact{Name: "Alex Smith", Email: fmt.Sprintf("bids%d@example.org", first+i),
					Phone: "0113 496 0000", Website: "https://example.org"},
			},
		}
	}
	return ps
}

// supplier returns one valid supplier with its listing.
func supplier(name, coh string) (market.Organisation, market.Listing) {
	o := market.Organisation{
		Kind:        market.KindSupplier,
		Name:        name,
		Sector:      market.SectorThirdSector,
		Identifiers: []market.Identifier{{Scheme: market.SchemeCOH, ID: coh}, {Scheme: market.SchemeCharity, ID: "1" + coh[2:]}},
		Regions:     []string{"london", "south_east"},
	}
	l := market.Listing{
		Summary:         "Patient and public engagement for commissioners across London.",
		Capabilities:    []string{"communications_engagement", "service_redesign"},
		Regions:         []string{"london"},
		Size:            market.SizeSmall,
		Accreditations:  []string{"Cyber Essentials"},
		DayRateMinPence: 45_000,
		DayRateMaxPence: 70_000,
		CaseStudies:     []market.CaseStudy{{Title: "Listening events", Client: "Camden CCG", Summary: "Twelve listening events on urgent care."}},
		Contact:         market.Contact{Name: "Sam Jones", Email: "sam@example.org", Phone: "020 7946 0000", Website: "https://example.org"},
	}
	return o, l
}

// buyer returns one valid CCG.
func buyer(name, ods string) market.Organisation {
	return market.Organisation{
		Kind:                             market.KindBuyer,
		Name:                             name,
		Status:                           market.StatusActive,
		Identifiers:                      []market.Identifier{{Scheme: market.SchemeNHS, ID: ods}},
		Regions:                          []string{"midlands"},
		Population:                       312_000,
		RunningCostAllowancePerHeadPence: 2_250,
	}
}

// mustImport stores ps or fails the test.
func mustImport(tb testing.TB, s stores, ps []market.Provider) {
	tb.Helper()
	if err := s.o.ImportProviders(tb.Context(), ps); err != nil {
		tb.Fatalf("ImportProviders: %v", err)
	}
}

// listAll follows the cursors from f's first page to the last, failing on
// a page that is not full before the last.
func listAll(tb testing.TB, s stores, f market.ProviderFilter) []market.Provider {
	tb.Helper()
	var all []market.Provider
	for pages := 0; ; pages++ {
		if pages > 10_000 {
			tb.Fatal("more than 10,000 pages: the cursor does not advance")
		}
		page, err := s.p.ListProviders(tb.Context(), f)
		if err != nil {
			tb.Fatalf("ListProviders(%+v): %v", f, err)
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all
		}
		if len(page.Items) != f.PageSize {
			tb.Fatalf("page of %d items with a next cursor, want %d", len(page.Items), f.PageSize)
		}
		f.Cursor = page.NextCursor
	}
}

func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := market.ErrorCode(err); got != code {
		tb.Fatalf("error code %q (%v), want %q", got, err, code)
	}
}

// countWins counts the operations of a race that succeeded, failing the
// test for any error but the refusal the losers must get.
func countWins(tb testing.TB, errs []error, refusal, what string) int {
	tb.Helper()
	wins := 0
	for _, err := range errs {
		switch market.ErrorCode(err) {
		case "":
			wins++
		case refusal:
		default:
			tb.Errorf("concurrent %s: %v", what, err)
		}
	}
	return wins
}

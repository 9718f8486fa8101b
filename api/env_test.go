package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// env is csmarket's HTTP layer on a real store and cache, seeded with a
// small directory.
type env struct {
	s         *server
	providers market.ProviderStore // the cache wrapper, as served
	orgs      market.OrganisationStore
	logs      *syncBuffer
	ids       map[string]string // provider name -> ID
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// mustEnv returns a seeded env on engine; adjust may change the Config
// before the handler is built.
func mustEnv(tb testing.TB, engine string, adjust ...func(*Config)) *env {
	tb.Helper()
	db := sqlstoretest.MustOpen(tb, engine)
	clock := fixedClock{time.Date(2025, 11, 20, 9, 30, 0, 0, time.UTC)}
	reg := prometheus.NewRegistry()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	c := cache.New(cache.Options{Registerer: reg, Logger: log})
	tb.Cleanup(func() { c.Close() })
	storeLog := slog.New(LogHandler(slog.NewJSONHandler(logs, nil)))
	e := &env{
		providers: cache.NewProviderStore(loggingStore{sqlstore.NewProviderStore(db, clock), storeLog}, c),
		orgs:      cache.NewOrganisationStore(sqlstore.NewOrganisationStore(db, clock), c),
		logs:      logs,
		ids:       map[string]string{},
	}
	for _, p := range fixtures() {
		o, l := p.Organisation, p.Listing
		if err := e.orgs.CreateOrganisation(context.Background(), &o, &l); err != nil {
			tb.Fatalf("seed %s: %v", o.Name, err)
		}
		e.ids[o.Name] = o.ID
	}
	cfg := Config{
		Providers: e.providers,
		Cache:     c,
		Ready:     func(ctx context.Context) error { return db.Ping(ctx) },
		Logger:    log,
		Registry:  reg,
		Clock:     clock,
	}
	for _, f := range adjust {
		f(&cfg)
	}
	e.s = newServer(cfg)
	return e
}

// get sends a GET checked against the contract.
func (e *env) get(tb testing.TB, target string, header ...string) (*http.Response, []byte) {
	tb.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return serve(tb, e.s.engine, req)
}

func provider(name string, sector market.Sector, id market.Identifier, size market.Size, regions, caps []string, summary string) market.Provider {
	return market.Provider{
		Organisation: market.Organisation{
			Kind: market.KindSupplier, Name: name, Sector: sector,
			Identifiers: []market.Identifier{id}, Regions: regions,
		},
		Listing: market.Listing{
			Summary: summary, Capabilities: caps, Regions: regions, Size: size,
			Accreditations:  []string{"Cyber Essentials Plus"},
			DayRateMinPence: 45000, DayRateMaxPence: 90000,
			CaseStudies: []market.CaseStudy{{Title: "Work for a CCG", Client: "NHS Example CCG", Summary: "Delivered on time."}},
			Contact:     market.Contact{Name: "Bids team", Email: "bids@example.org", Website: "https://example.org"},
		},
	}
}

// fixtures is a directory with two providers in each sector.
func fixtures() []market.Provider {
	return []market.Provider{
		provider("Arden and GEM CSU", market.SectorNHS, market.Identifier{Scheme: "GB-NHS", ID: "0DE"}, market.SizeLarge,
			[]string{"midlands"}, []string{"business_intelligence", "contract_management"}, "Business intelligence and contract management for CCGs."),
		provider("North of England CSU", market.SectorNHS, market.Identifier{Scheme: "GB-NHS", ID: "0AR"}, market.SizeLarge,
			[]string{"north_east_and_yorkshire", "north_west"}, []string{"risk_stratification", "business_intelligence"}, "Risk stratification and analytics across the North."),
		provider("Birmingham City Council Commissioning", market.SectorLocalAuthority, market.Identifier{Scheme: "GB-LAE", ID: "BIR"}, market.SizeLarge,
			[]string{"midlands"}, []string{"procurement", "communications_engagement"}, "Joint procurement with the council's public health team."),
		provider("Kent County Council Public Health", market.SectorLocalAuthority, market.Identifier{Scheme: "GB-LAE", ID: "KEN"}, market.SizeLarge,
			[]string{"south_east"}, []string{"service_redesign"}, "Kaizen-style service redesign of community pathways."),
		provider("Healthwatch Partners", market.SectorThirdSector, market.Identifier{Scheme: "GB-CHC", ID: "1123456"}, market.SizeSmall,
			[]string{"london"}, []string{"communications_engagement"}, "Patient and public engagement led by local people."),
		provider("Community Care Collaborative", market.SectorThirdSector, market.Identifier{Scheme: "GB-CHC", ID: "298765"}, market.SizeMedium,
			[]string{"south_west", "north_west"}, []string{"continuing_healthcare", "service_redesign"}, "Continuing healthcare reviews by a social enterprise."),
		provider("Meridian Analytics Ltd", market.SectorIndependent, market.Identifier{Scheme: "GB-COH", ID: "09506232"}, market.SizeMedium,
			[]string{"london", "south_east"}, []string{"business_intelligence", "risk_stratification"}, "Dashboards, benchmarking and population health analytics."),
		provider("Pennine Finance Partners LLP", market.SectorIndependent, market.Identifier{Scheme: "GB-COH", ID: "OC123456"}, market.SizeMicro,
			[]string{"north_west"}, []string{"finance", "hr_od"}, "Financial planning and ledger services for small CCGs."),
	}
}

// providerList is the decoded body of GET /api/v1/providers.
type providerList struct {
	Items      []providerResponse `json:"items"`
	NextCursor *string            `json:"next_cursor"`
}

func mustDecode[T any](tb testing.TB, body []byte) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		tb.Fatalf("decode %.200s: %v", body, err)
	}
	return v
}

func names(ps []providerResponse) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

// syncBuffer collects log output written from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the decoded JSON log lines that mention requestID.
func (b *syncBuffer) lines(tb testing.TB, requestID string) []map[string]any {
	tb.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(b.buf.String(), "\n") {
		if line == "" || !strings.Contains(line, requestID) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			tb.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// loggingStore logs each directory read, as a store does on a slow query,
// so that tests can see whose request the line belongs to.
type loggingStore struct {
	market.ProviderStore
	log *slog.Logger
}

func (s loggingStore) ListProviders(ctx context.Context, f market.ProviderFilter) (market.ProviderPage, error) {
	s.log.InfoContext(ctx, "store: list providers")
	return s.ProviderStore.ListProviders(ctx, f)
}

package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// benchProviders is the directory size of the benchmarks: 100,000, or
// 10,000 with -short.
func benchProviders() int {
	if testing.Short() {
		return 10_000
	}
	return 100_000
}

func BenchmarkImportProviders(b *testing.B) {
	n := benchProviders()
	for _, engine := range sqlstoretest.Engines(b) {
		b.Run(fmt.Sprintf("%s/%d", engine, n), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				s := mustStores(b, engine)
				ps := genProviders(n, 42, 1)
				b.StartTimer()
				mustImport(b, s, ps)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "providers/s")
		})
	}
}

func BenchmarkListProviders(b *testing.B) {
	n := benchProviders()
	for _, engine := range sqlstoretest.Engines(b) {
		b.Run(fmt.Sprintf("%s/%d", engine, n), func(b *testing.B) {
			s := mustStores(b, engine)
			start := time.Now()
			mustImport(b, s, genProviders(n, 42, 1))
			b.Logf("%s: imported %d providers in %v", engine, n, time.Since(start).Round(time.Millisecond))

			// A cursor deep in the sector listing, to show keyset pages
			// cost the same wherever they start.
			deep := market.ProviderFilter{Sector: market.SectorNHS, PageSize: 100}
			for range 50 {
				page, err := s.p.ListProviders(b.Context(), deep)
				if err != nil {
					b.Fatal(err)
				}
				deep.Cursor = page.NextCursor
			}
			deep.PageSize = 20

			cases := []struct {
				name string
				f    market.ProviderFilter
			}{
				{"all", market.ProviderFilter{}},
				{"sector", market.ProviderFilter{Sector: market.SectorNHS}},
				{"sector_page_250", deep},
				{"capability_region_size", market.ProviderFilter{Capability: "risk_stratification", Region: "london", Size: market.SizeSmall}},
				{"q_common", market.ProviderFilter{Q: "analytics"}},
				{"q_two_words", market.ProviderFilter{Q: "pennine council"}},
				{"q_prefix", market.ProviderFilter{Q: "quanto"}},
				{"q_sector", market.ProviderFilter{Q: "governance", Sector: market.SectorThirdSector}},
			}
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					f := c.f
					if f.PageSize == 0 {
						f.PageSize = market.DefaultPageSize
					}
					for b.Loop() {
						page, err := s.p.ListProviders(b.Context(), f)
						if err != nil {
							b.Fatal(err)
						}
						if len(page.Items) == 0 {
							b.Fatalf("%+v found nothing", f)
						}
					}
				})
			}
		})
	}
}

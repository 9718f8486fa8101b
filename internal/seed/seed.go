// Package seed fills a csmarket directory: a small, credible demo of
// commissioning-support providers and CCGs that a new user can browse, and a
// large synthetic directory for benchmarks and load tests.
package seed

import (
	"context"
	"fmt"

	"github.com/csmarket/csmarket/internal/market"
)

// LoadDemo stores the demo buyers and providers in s, unless s already holds
// a supplier or a buyer: the demo is for an empty directory, so running it
// again, or after real organisations have registered, changes nothing. It
// reports whether it loaded the demo. Organisations are created one by one,
// so an error part-way leaves those before it stored.
func LoadDemo(ctx context.Context, s market.OrganisationStore) (loaded bool, err error) {
	for _, kind := range []market.OrgKind{market.KindSupplier, market.KindBuyer} {
		n, err := s.CountOrganisations(ctx, kind)
		if err != nil {
			return false, fmt.Errorf("seed: counting %s organisations: %w", kind, err)
		}
		if n > 0 {
			return false, nil
		}
	}
	providers, buyers := Demo()
	for i := range buyers {
		if err := s.CreateOrganisation(ctx, &buyers[i], nil); err != nil {
			return false, fmt.Errorf("seed: creating %s: %w", buyers[i].Name, err)
		}
	}
	for i := range providers {
		p := &providers[i]
		if err := s.CreateOrganisation(ctx, &p.Organisation, &p.Listing); err != nil {
			return false, fmt.Errorf("seed: creating %s: %w", p.Organisation.Name, err)
		}
	}
	return true, nil
}

// batchSize is how many providers LoadSynthetic generates and imports at a
// time: large enough for few round trips, small enough that memory stays flat
// however many providers are asked for.
var batchSize = 5000

// syntheticSeed fixes what LoadSynthetic generates, so that benchmark runs
// compare like with like.
const syntheticSeed = 2013

// LoadSynthetic generates n synthetic providers and imports them into s in
// batches, returning the first error. The providers are numbered after the
// suppliers already stored, so it can be run again to grow a directory
// without clashing identifiers. EINVALID when the numbering would pass
// MaxSynthetic.
func LoadSynthetic(ctx context.Context, s market.OrganisationStore, n int) error {
	if n < 0 || n > MaxSynthetic {
		return market.Invalid("synthetic", "must be between 0 and %d", MaxSynthetic)
	}
	start, err := s.CountOrganisations(ctx, market.KindSupplier)
	if err != nil {
		return fmt.Errorf("seed: counting suppliers: %w", err)
	}
	if start+n > MaxSynthetic {
		return market.Invalid("synthetic", "the directory already holds %d suppliers; at most %d more can be generated", start, max(MaxSynthetic-start, 0))
	}
	g := newGenerator(syntheticSeed, start)
	for done := 0; done < n; {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := min(batchSize, n-done)
		if err := s.ImportProviders(ctx, g.batch(k)); err != nil {
			return fmt.Errorf("seed: importing synthetic providers %d to %d: %w", start+done+1, start+done+k, err)
		}
		done += k
	}
	return nil
}

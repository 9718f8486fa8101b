package seed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/csmarket/csmarket/internal/market"
)

// memStore is an in-memory market.OrganisationStore that checks what it is
// given as a real store would: valid organisations and listings, and no
// identifier registered twice.
type memStore struct {
	mu      sync.Mutex
	orgs    map[string]market.Organisation
	ids     map[string]bool
	counts  map[market.OrgKind]int
	batches []int
	failAt  int // ImportProviders call (1-based) that fails; 0 for none
}

var _ market.OrganisationStore = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{orgs: map[string]market.Organisation{}, ids: map[string]bool{}, counts: map[market.OrgKind]int{}}
}

func check(o *market.Organisation, l *market.Listing) error {
	var p market.Problems
	o.Check("organisation", &p)
	if l != nil {
		l.Check("listing", &p)
	}
	return p.Err()
}

func (s *memStore) add(o *market.Organisation) error {
	for _, id := range o.Identifiers {
		if s.ids[id.String()] {
			return market.Errorf(market.ECONFLICT, "identifier %s is already registered", id)
		}
	}
	for _, id := range o.Identifiers {
		s.ids[id.String()] = true
	}
	o.ID = fmt.Sprint(len(s.orgs) + 1)
	s.orgs[o.ID] = *o
	s.counts[o.Kind]++
	return nil
}

func (s *memStore) CreateOrganisation(_ context.Context, o *market.Organisation, l *market.Listing) error {
	if err := check(o, l); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.add(o); err != nil {
		return err
	}
	if l != nil {
		l.Version = 1
	}
	return nil
}

func (s *memStore) ImportProviders(_ context.Context, ps []market.Provider) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches = append(s.batches, len(ps))
	if len(s.batches) == s.failAt {
		return market.Errorf(market.EUNAVAILABLE, "store is down")
	}
	seen := map[string]bool{}
	for i := range ps {
		if err := check(&ps[i].Organisation, &ps[i].Listing); err != nil {
			return err
		}
		for _, id := range ps[i].Organisation.Identifiers {
			if s.ids[id.String()] || seen[id.String()] {
				return market.Errorf(market.ECONFLICT, "identifier %s is already registered", id)
			}
			seen[id.String()] = true
		}
	}
	for i := range ps {
		if err := s.add(&ps[i].Organisation); err != nil {
			return err
		}
	}
	return nil
}

func (s *memStore) GetOrganisation(_ context.Context, id string) (market.Organisation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orgs[id]
	if !ok {
		return market.Organisation{}, market.Errorf(market.ENOTFOUND, "no organisation %s", id)
	}
	return o, nil
}

func (s *memStore) CountOrganisations(_ context.Context, kind market.OrgKind) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[kind], nil
}

func TestDemoCoverage(t *testing.T) {
	providers, buyers := Demo()
	if len(providers) < 48 {
		t.Errorf("%d demo providers, want at least 48", len(providers))
	}
	sectors := map[market.Sector]int{}
	regions := map[string]int{}
	caps := map[string]int{}
	sizes := map[market.Size]int{}
	for _, p := range providers {
		sectors[p.Organisation.Sector]++
		for _, r := range p.Listing.Regions {
			regions[r]++
		}
		for _, c := range p.Listing.Capabilities {
			caps[c]++
		}
		sizes[p.Listing.Size]++
	}
	for _, s := range market.Sectors {
		if sectors[s] < 10 {
			t.Errorf("sector %s has %d providers, want at least 10", s, sectors[s])
		}
	}
	for _, r := range market.Regions {
		if regions[r.Key] < 3 {
			t.Errorf("region %s has %d providers, want at least 3", r.Key, regions[r.Key])
		}
	}
	for _, c := range market.Capabilities {
		if caps[c.Key] < 3 {
			t.Errorf("capability %s has %d providers, want at least 3", c.Key, caps[c.Key])
		}
	}
	for _, s := range market.Sizes {
		if sizes[s] == 0 {
			t.Errorf("no provider of size %s", s)
		}
	}

	if len(buyers) < 8 {
		t.Errorf("%d CCGs, want at least 8", len(buyers))
	}
	buyerRegions := map[string]bool{}
	for _, b := range buyers {
		if b.Kind != market.KindBuyer || b.Status != market.StatusActive {
			t.Errorf("%s: kind %s status %s, want an active buyer", b.Name, b.Kind, b.Status)
		}
		if len(b.Regions) != 1 {
			t.Errorf("%s: regions %v, want exactly one", b.Name, b.Regions)
		}
		if b.Population < 100_000 || b.Population > 900_000 {
			t.Errorf("%s: population %d, want 100,000 to 900,000", b.Name, b.Population)
		}
		if a := b.RunningCostAllowancePerHeadPence; a < 2_200 || a > 2_500 {
			t.Errorf("%s: running-cost allowance %dp a head, want 2,200p to 2,500p", b.Name, a)
		}
		for _, r := range b.Regions {
			buyerRegions[r] = true
		}
	}
	if len(buyerRegions) < 6 {
		t.Errorf("CCGs are in %d regions, want at least 6", len(buyerRegions))
	}
}

func TestDemoValid(t *testing.T) {
	providers, buyers := Demo()
	for _, b := range buyers {
		if err := check(&b, nil); err != nil {
			t.Errorf("%s: %v", b.Name, err)
		}
	}
	for _, p := range providers {
		t.Run(p.Organisation.Name, func(t *testing.T) {
			o, l := p.Organisation, p.Listing
			if err := check(&o, &l); err != nil {
				t.Fatal(err)
			}
			if o.Kind != market.KindSupplier || o.Status != market.StatusActive {
				t.Errorf("kind %s status %s, want an active supplier", o.Kind, o.Status)
			}
			if !reflect.DeepEqual(o.Regions, l.Regions) {
				t.Errorf("organisation regions %v differ from listing regions %v", o.Regions, l.Regions)
			}
			if n := strings.Count(l.Summary, ". ") + 1; n < 2 || n > 4 {
				t.Errorf("summary has %d sentences, want 2 to 4: %q", n, l.Summary)
			}
			if n := len(l.CaseStudies); n < 1 || n > 3 {
				t.Errorf("%d case studies, want 1 to 3", n)
			}
			for _, c := range l.CaseStudies {
				if !strings.HasPrefix(c.Client, "NHS ") || !strings.HasSuffix(c.Client, " CCG") {
					t.Errorf("case study client %q is not a CCG", c.Client)
				}
			}
			if l.DayRateMinPence < 350_00 || l.DayRateMaxPence > 1_400_00 {
				t.Errorf("day rates %d to %d pence, want within £350 to £1,400", l.DayRateMinPence, l.DayRateMaxPence)
			}
			if l.Contact.Name == "" || l.Contact.Email == "" || l.Contact.Phone == "" {
				t.Errorf("contact %+v is incomplete", l.Contact)
			}
			if !strings.Contains(l.Contact.Email, ".example.") {
				t.Errorf("contact e-mail %q is not on an example domain", l.Contact.Email)
			}
			if !isDramaNumber(l.Contact.Phone) {
				t.Errorf("phone %q is not in an Ofcom drama range", l.Contact.Phone)
			}
		})
	}
}

// isDramaNumber reports whether phone is in one of the ranges Ofcom keeps
// for drama, which the demo uses so that no real line is named.
func isDramaNumber(phone string) bool {
	for _, prefix := range []string{"0113 496 0", "0114 496 0", "0115 496 0", "0116 496 0", "0117 496 0",
		"0118 496 0", "0121 496 0", "0151 496 0", "0161 496 0", "0191 498 0", "020 7946 0", "01632 960"} {
		if strings.HasPrefix(phone, prefix) && len(phone) == len(prefix)+3 {
			return true
		}
	}
	return false
}

func TestDemoUnique(t *testing.T) {
	providers, buyers := Demo()
	names := map[string]bool{}
	ids := map[string]bool{}
	summaries := map[string]bool{}
	add := func(o market.Organisation) {
		if names[o.Name] {
			t.Errorf("name %q is used twice", o.Name)
		}
		names[o.Name] = true
		for _, id := range o.Identifiers {
			if ids[id.String()] {
				t.Errorf("identifier %s is used twice", id)
			}
			ids[id.String()] = true
		}
	}
	for _, b := range buyers {
		add(b)
	}
	for _, p := range providers {
		add(p.Organisation)
		if summaries[p.Listing.Summary] {
			t.Errorf("%s: summary is used twice", p.Organisation.Name)
		}
		summaries[p.Listing.Summary] = true
	}

	// Synthetic providers must never clash with the demo, in identifier
	// whatever their index, or in name, so that both can share one directory.
	for _, p := range Synthetic(50_000, 3) {
		if names[p.Organisation.Name] {
			t.Errorf("synthetic provider %q has a demo name", p.Organisation.Name)
		}
	}
	for _, kind := range []sectorKind{kindNHS, kindCouncil, kindCharity, kindSocialEnterprise, kindFirm} {
		for _, i := range []int{0, 1, 53, 9_999, 1_000_000, MaxSynthetic - 1} {
			if id := syntheticIdentifier(kind, i); ids[id.String()] {
				t.Errorf("synthetic identifier %s (index %d) is also a demo identifier", id, i)
			}
		}
	}
}

func TestDemoFresh(t *testing.T) {
	a, _ := Demo()
	a[0].Listing.Capabilities[0] = "changed"
	a[0].Listing.Regions[0] = "changed"
	b, _ := Demo()
	if b[0].Listing.Capabilities[0] == "changed" || b[0].Listing.Regions[0] == "changed" {
		t.Error("changing one Demo result changed the next")
	}
}

func TestLoadDemo(t *testing.T) {
	ctx := context.Background()
	providers, buyers := Demo()

	t.Run("Empty", func(t *testing.T) {
		s := newMemStore()
		loaded, err := LoadDemo(ctx, s)
		if err != nil || !loaded {
			t.Fatalf("first LoadDemo = %v, %v; want true, nil", loaded, err)
		}
		if got := s.counts[market.KindSupplier]; got != len(providers) {
			t.Errorf("%d suppliers stored, want %d", got, len(providers))
		}
		if got := s.counts[market.KindBuyer]; got != len(buyers) {
			t.Errorf("%d buyers stored, want %d", got, len(buyers))
		}

		loaded, err = LoadDemo(ctx, s)
		if err != nil || loaded {
			t.Fatalf("second LoadDemo = %v, %v; want false, nil", loaded, err)
		}
		if got := len(s.orgs); got != len(providers)+len(buyers) {
			t.Errorf("%d organisations after the second call, want %d", got, len(providers)+len(buyers))
		}
	})

	t.Run("BuyerExists", func(t *testing.T) {
		s := newMemStore()
		b := buyers[0]
		if err := s.CreateOrganisation(ctx, &b, nil); err != nil {
			t.Fatal(err)
		}
		loaded, err := LoadDemo(ctx, s)
		if err != nil || loaded {
			t.Fatalf("LoadDemo = %v, %v; want false, nil", loaded, err)
		}
		if len(s.orgs) != 1 {
			t.Errorf("%d organisations, want the 1 already there", len(s.orgs))
		}
	})

	t.Run("ThenSynthetic", func(t *testing.T) {
		s := newMemStore()
		if _, err := LoadDemo(ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := LoadSynthetic(ctx, s, 2_000); err != nil {
			t.Fatalf("LoadSynthetic after LoadDemo: %v", err)
		}
	})
}

func TestSyntheticDeterministic(t *testing.T) {
	a := Synthetic(500, 7)
	b := Synthetic(500, 7)
	if !reflect.DeepEqual(a, b) {
		t.Error("two calls with seed 7 differ")
	}
	c := Synthetic(500, 8)
	same := 0
	for i := range a {
		if a[i].Organisation.Name == c[i].Organisation.Name && a[i].Listing.Summary == c[i].Listing.Summary {
			same++
		}
	}
	if same > 50 {
		t.Errorf("seeds 7 and 8 agree on %d of 500 providers", same)
	}
}

func TestSyntheticValid(t *testing.T) {
	const n = 10_000
	ps := Synthetic(n, 1)
	if len(ps) != n {
		t.Fatalf("got %d providers, want %d", len(ps), n)
	}
	ids := map[string]bool{}
	names := map[string]bool{}
	sectors := map[market.Sector]int{}
	sizes := map[market.Size]int{}
	caps := map[string]int{}
	regions := map[string]int{}
	for i, p := range ps {
		o, l := p.Organisation, p.Listing
		if err := check(&o, &l); err != nil {
			t.Fatalf("provider %d (%s): %v", i, o.Name, err)
		}
		if o.Kind != market.KindSupplier || o.Status != market.StatusActive {
			t.Fatalf("provider %d: kind %s status %s", i, o.Kind, o.Status)
		}
		for _, id := range o.Identifiers {
			if ids[id.String()] {
				t.Fatalf("provider %d: identifier %s is used twice", i, id)
			}
			ids[id.String()] = true
		}
		if k := len(l.Capabilities); k < 1 || k > 5 {
			t.Errorf("provider %d: %d capabilities, want 1 to 5", i, k)
		}
		if k := len(l.Regions); k < 1 || k > 4 {
			t.Errorf("provider %d: %d regions, want 1 to 4", i, k)
		}
		if l.DayRateMinPence < 350_00 || l.DayRateMaxPence > 1_400_00 || l.DayRateMinPence >= l.DayRateMaxPence {
			t.Errorf("provider %d: day rates %d to %d pence", i, l.DayRateMinPence, l.DayRateMaxPence)
		}
		if !isDramaNumber(l.Contact.Phone) {
			t.Errorf("provider %d: phone %q is not in an Ofcom drama range", i, l.Contact.Phone)
		}
		if strings.Count(l.Summary, ". ") < 1 || len(strings.Fields(l.Summary)) < 10 {
			t.Errorf("provider %d: summary too thin for search: %q", i, l.Summary)
		}
		names[o.Name] = true
		sectors[o.Sector]++
		sizes[l.Size]++
		for _, c := range l.Capabilities {
			caps[c]++
		}
		for _, r := range l.Regions {
			regions[r]++
		}
	}

	want := map[market.Sector]float64{
		market.SectorNHS: 0.10, market.SectorLocalAuthority: 0.15,
		market.SectorThirdSector: 0.30, market.SectorIndependent: 0.45,
	}
	for s, w := range want {
		if got := float64(sectors[s]) / n; math.Abs(got-w) > 0.03 {
			t.Errorf("sector %s is %.3f of providers, want about %.2f", s, got, w)
		}
	}
	for _, s := range market.Sizes {
		if sizes[s] < n/20 {
			t.Errorf("size %s: %d providers, want at least %d", s, sizes[s], n/20)
		}
	}
	for _, c := range market.Capabilities {
		if caps[c.Key] < n/50 {
			t.Errorf("capability %s: %d providers, want at least %d", c.Key, caps[c.Key], n/50)
		}
	}
	for _, r := range market.Regions {
		if regions[r.Key] < n/20 {
			t.Errorf("region %s: %d providers, want at least %d", r.Key, regions[r.Key], n/20)
		}
	}
	if len(names) < n*9/10 {
		t.Errorf("only %d distinct names among %d providers", len(names), n)
	}
}

func TestSyntheticIdentifier(t *testing.T) {
	tests := []struct {
		name string
		kind sectorKind
		i    int
		want market.Identifier
	}{
		{"NHSFirst", kindNHS, 0, market.Identifier{Scheme: market.SchemeNHS, ID: "Z00000000"}},
		{"NHSLast", kindNHS, MaxSynthetic - 1, market.Identifier{Scheme: market.SchemeNHS, ID: "Z09999999"}},
		{"Council", kindCouncil, 42, market.Identifier{Scheme: market.SchemeCOH, ID: "90000042"}},
		{"Charity", kindCharity, 1_234_567, market.Identifier{Scheme: market.SchemeCharity, ID: "91234567"}},
		{"SocialEnterprise", kindSocialEnterprise, 7, market.Identifier{Scheme: market.SchemeCOH, ID: "90000007"}},
		{"FirmLast", kindFirm, MaxSynthetic - 1, market.Identifier{Scheme: market.SchemeCOH, ID: "99999999"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := syntheticIdentifier(tt.kind, tt.i)
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			var p market.Problems
			got.Check("id", &p)
			if err := p.Err(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestLoadSynthetic(t *testing.T) {
	ctx := context.Background()

	t.Run("Batches", func(t *testing.T) {
		s := newMemStore()
		if err := LoadSynthetic(ctx, s, 12_345); err != nil {
			t.Fatal(err)
		}
		if want := []int{5000, 5000, 2345}; !reflect.DeepEqual(s.batches, want) {
			t.Errorf("batches %v, want %v", s.batches, want)
		}
		if got := s.counts[market.KindSupplier]; got != 12_345 {
			t.Errorf("%d suppliers stored, want 12345", got)
		}
	})

	t.Run("Again", func(t *testing.T) {
		s := newMemStore()
		for range 2 {
			if err := LoadSynthetic(ctx, s, 3_000); err != nil {
				t.Fatal(err)
			}
		}
		if got := s.counts[market.KindSupplier]; got != 6_000 {
			t.Errorf("%d suppliers stored, want 6000", got)
		}
	})

	t.Run("Zero", func(t *testing.T) {
		s := newMemStore()
		if err := LoadSynthetic(ctx, s, 0); err != nil {
			t.Fatal(err)
		}
		if len(s.batches) != 0 {
			t.Errorf("imported %v for n=0", s.batches)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		for _, n := range []int{-1, MaxSynthetic + 1} {
			err := LoadSynthetic(ctx, newMemStore(), n)
			if market.ErrorCode(err) != market.EINVALID {
				t.Errorf("n=%d: got %v, want EINVALID", n, err)
			}
		}
	})

	t.Run("ErrStore", func(t *testing.T) {
		s := newMemStore()
		s.failAt = 2
		err := LoadSynthetic(ctx, s, 20_000)
		if market.ErrorCode(err) != market.EUNAVAILABLE {
			t.Fatalf("got %v, want the store's EUNAVAILABLE", err)
		}
		if len(s.batches) != 2 {
			t.Errorf("%d batches tried, want to stop at the failing second", len(s.batches))
		}
	})

	t.Run("ErrCancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		err := LoadSynthetic(ctx, newMemStore(), 10)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	})
}

func BenchmarkSynthetic(b *testing.B) {
	for b.Loop() {
		Synthetic(100_000, 1)
	}
}

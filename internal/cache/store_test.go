package cache

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// fakeStore is the smallest directory store: one map, versions checked.
type fakeStore struct {
	mu   sync.Mutex
	ps   map[string]market.Provider
	next int
}

var (
	_ market.ProviderStore     = (*fakeStore)(nil)
	_ market.OrganisationStore = (*fakeStore)(nil)
)

func newFakeStore() *fakeStore {
	return &fakeStore{ps: map[string]market.Provider{
		"p1": {Organisation: market.Organisation{ID: "p1", Kind: market.KindSupplier, Name: "Arden CSU"},
			Listing: market.Listing{Summary: "old summary", Version: 1}},
	}}
}

func (s *fakeStore) ListProviders(ctx context.Context, f market.ProviderFilter) (market.ProviderPage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var page market.ProviderPage
	for _, p := range s.ps {
		page.Items = append(page.Items, p)
	}
	return page, nil
}

func (s *fakeStore) GetProvider(ctx context.Context, id string) (market.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.ps[id]
	if !ok {
		return market.Provider{}, market.Errorf(market.ENOTFOUND, "No such provider.")
	}
	return p, nil
}

func (s *fakeStore) UpdateListing(ctx context.Context, id string, l market.Listing, ifVersion int64) (market.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.ps[id]
	if !ok {
		return market.Provider{}, market.Errorf(market.ENOTFOUND, "No such provider.")
	}
	if p.Listing.Version != ifVersion {
		return market.Provider{}, market.Errorf(market.EPRECONDITION, "The listing has changed.")
	}
	l.Version = ifVersion + 1
	p.Listing = l
	s.ps[id] = p
	return p, nil
}

func (s *fakeStore) CreateOrganisation(ctx context.Context, o *market.Organisation, l *market.Listing) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.ps {
		if p.Organisation.Name == o.Name {
			return market.Errorf(market.ECONFLICT, "Already registered.")
		}
	}
	s.next++
	o.ID = "new" + string(rune('0'+s.next))
	p := market.Provider{Organisation: *o}
	if l != nil {
		p.Listing = *l
	}
	s.ps[o.ID] = p
	return nil
}

func (s *fakeStore) ImportProviders(ctx context.Context, ps []market.Provider) error {
	for i := range ps {
		if err := s.CreateOrganisation(ctx, &ps[i].Organisation, &ps[i].Listing); err != nil {
			return err
		}
	}
	return nil
}

func (s *fakeStore) GetOrganisation(ctx context.Context, id string) (market.Organisation, error) {
	p, err := s.GetProvider(ctx, id)
	return p.Organisation, err
}

func (s *fakeStore) CountOrganisations(ctx context.Context, kind market.OrgKind) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ps), nil
}

// view renders what the api package would cache: here the summary of p1
// and the size of the directory.
func view(ps market.ProviderStore) func(context.Context) ([]byte, error) {
	return func(ctx context.Context) ([]byte, error) {
		page, err := ps.ListProviders(ctx, market.ProviderFilter{})
		if err != nil {
			return nil, err
		}
		p, err := ps.GetProvider(ctx, "p1")
		if err != nil {
			return nil, err
		}
		return []byte(p.Listing.Summary + "/" + string(rune('0'+len(page.Items)))), nil
	}
}

func TestStoreWrappers(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				write func(ps market.ProviderStore, orgs market.OrganisationStore) error
				want  string // the view after the write; "" when it must not change
			}{
				{"UpdateListing", func(ps market.ProviderStore, _ market.OrganisationStore) error {
					_, err := ps.UpdateListing(ctx, "p1", market.Listing{Summary: "new summary"}, 1)
					return err
				}, "new summary/1"},
				{"UpdateListingStale", func(ps market.ProviderStore, _ market.OrganisationStore) error {
					_, err := ps.UpdateListing(ctx, "p1", market.Listing{Summary: "new summary"}, 7)
					if market.ErrorCode(err) != market.EPRECONDITION {
						t.Errorf("stale UpdateListing = %v, want EPRECONDITION", err)
					}
					return nil
				}, ""},
				{"CreateOrganisation", func(_ market.ProviderStore, orgs market.OrganisationStore) error {
					return orgs.CreateOrganisation(ctx, &market.Organisation{Name: "Age UK Sheffield"}, &market.Listing{})
				}, "old summary/2"},
				{"CreateOrganisationConflict", func(_ market.ProviderStore, orgs market.OrganisationStore) error {
					err := orgs.CreateOrganisation(ctx, &market.Organisation{Name: "Arden CSU"}, nil)
					if market.ErrorCode(err) != market.ECONFLICT {
						t.Errorf("duplicate CreateOrganisation = %v, want ECONFLICT", err)
					}
					return nil
				}, ""},
				{"ImportProviders", func(_ market.ProviderStore, orgs market.OrganisationStore) error {
					return orgs.ImportProviders(ctx, []market.Provider{
						{Organisation: market.Organisation{Name: "Capita"}},
						{Organisation: market.Organisation{Name: "Kent County Council"}},
					})
				}, "old summary/3"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					c := b.new(t, Options{})
					inner := newFakeStore()
					ps, orgs := NewProviderStore(inner, c), NewOrganisationStore(inner, c)
					if e, err := c.Fetch(ctx, NSProviders, "all", time.Minute, view(ps)); err != nil || string(e.Body) != "old summary/1" {
						t.Fatalf("first view = %q, %v", e.Body, err)
					}
					if err := tc.write(ps, orgs); err != nil {
						t.Fatalf("write: %v", err)
					}
					want := tc.want
					if want == "" {
						want = "old summary/1"
					}
					e, err := c.Fetch(ctx, NSProviders, "all", time.Minute, view(ps))
					if err != nil || string(e.Body) != want {
						t.Errorf("view after the write = %q, %v; want %q", e.Body, err, want)
					}
					if hits := counter(c.m.hit); (tc.want == "") != (hits == 1) {
						t.Errorf("hits after the write = %v; a failed write must leave the view cached, a write must not", hits)
					}
				})
			}
		})
	}

	t.Run("RedisDown", func(t *testing.T) {
		c := MustCache(t, Options{Redis: mustClient(t, "redis://"+deadRedis(t)), Cooldown: time.Hour})
		inner := newFakeStore()
		ps := NewProviderStore(inner, c)
		p, err := ps.UpdateListing(ctx, "p1", market.Listing{Summary: "new summary"}, 1)
		if err != nil || p.Listing.Version != 2 {
			t.Fatalf("UpdateListing with Redis down = v%d, %v; want the write acknowledged", p.Listing.Version, err)
		}
		if n := counter(c.m.invalidations.WithLabelValues("error")); n != 1 {
			t.Errorf("failed invalidations counted = %v, want 1", n)
		}
		if got, _ := inner.GetProvider(ctx, "p1"); got.Listing.Summary != "new summary" {
			t.Errorf("stored summary = %q", got.Listing.Summary)
		}
	})

	t.Run("ReadsPassThrough", func(t *testing.T) {
		inner := newFakeStore()
		c := MustCache(t, Options{})
		ps, orgs := NewProviderStore(inner, c), NewOrganisationStore(inner, c)
		if _, err := ps.GetProvider(ctx, "nobody"); market.ErrorCode(err) != market.ENOTFOUND {
			t.Errorf("GetProvider(nobody) = %v, want ENOTFOUND", err)
		}
		if o, err := orgs.GetOrganisation(ctx, "p1"); err != nil || o.Name != "Arden CSU" {
			t.Errorf("GetOrganisation(p1) = %q, %v", o.Name, err)
		}
		if n, err := orgs.CountOrganisations(ctx, market.KindSupplier); err != nil || n != 1 {
			t.Errorf("CountOrganisations = %d, %v", n, err)
		}
		if page, err := ps.ListProviders(ctx, market.ProviderFilter{}); err != nil || len(page.Items) != 1 {
			t.Errorf("ListProviders = %d items, %v", len(page.Items), err)
		}
	})
}

package cache

import (
	"context"

	"github.com/csmarket/csmarket/internal/market"
)

// ProviderStore passes reads through to the inner store and invalidates
// the cached directory views after each write, so that the api package
// caches rendered views without having to remember which writes touch them.
type ProviderStore struct {
	inner market.ProviderStore
	cache *Cache
}

var _ market.ProviderStore = (*ProviderStore)(nil)

// NewProviderStore wraps inner so that its writes invalidate NSProviders.
func NewProviderStore(inner market.ProviderStore, c *Cache) market.ProviderStore {
	return &ProviderStore{inner: inner, cache: c}
}

// ListProviders reads from the inner store.
func (s *ProviderStore) ListProviders(ctx context.Context, f market.ProviderFilter) (market.ProviderPage, error) {
	return s.inner.ListProviders(ctx, f)
}

// GetProvider reads from the inner store.
func (s *ProviderStore) GetProvider(ctx context.Context, id string) (market.Provider, error) {
	return s.inner.GetProvider(ctx, id)
}

// UpdateListing writes through the inner store, then invalidates the
// directory. The write is acknowledged even when the invalidation fails:
// it is stored, and the cache logs, counts and retries the invalidation.
func (s *ProviderStore) UpdateListing(ctx context.Context, id string, l market.Listing, ifVersion int64) (market.Provider, error) {
	p, err := s.inner.UpdateListing(ctx, id, l, ifVersion)
	if err != nil {
		return p, err
	}
	s.cache.invalidateAfterWrite(ctx)
	return p, nil
}

// OrganisationStore passes reads through to the inner store and
// invalidates the cached directory views after each write.
type OrganisationStore struct {
	inner market.OrganisationStore
	cache *Cache
}

var _ market.OrganisationStore = (*OrganisationStore)(nil)

// NewOrganisationStore wraps inner so that its writes invalidate
// NSProviders.
func NewOrganisationStore(inner market.OrganisationStore, c *Cache) market.OrganisationStore {
	return &OrganisationStore{inner: inner, cache: c}
}

// CreateOrganisation writes through the inner store, then invalidates the
// directory (a new supplier appears in it).
func (s *OrganisationStore) CreateOrganisation(ctx context.Context, o *market.Organisation, l *market.Listing) error {
	if err := s.inner.CreateOrganisation(ctx, o, l); err != nil {
		return err
	}
	s.cache.invalidateAfterWrite(ctx)
	return nil
}

// ImportProviders writes through the inner store, then invalidates the
// directory.
func (s *OrganisationStore) ImportProviders(ctx context.Context, ps []market.Provider) error {
	if err := s.inner.ImportProviders(ctx, ps); err != nil {
		return err
	}
	s.cache.invalidateAfterWrite(ctx)
	return nil
}

// GetOrganisation reads from the inner store.
func (s *OrganisationStore) GetOrganisation(ctx context.Context, id string) (market.Organisation, error) {
	return s.inner.GetOrganisation(ctx, id)
}

// CountOrganisations reads from the inner store.
func (s *OrganisationStore) CountOrganisations(ctx context.Context, kind market.OrgKind) (int, error) {
	return s.inner.CountOrganisations(ctx, kind)
}

// invalidateAfterWrite invalidates the directory after a committed write.
// It runs on even if the client has gone away, since the write stands; its
// failure is logged, counted and retried by Invalidate, and not returned,
// since the write is stored.
func (c *Cache) invalidateAfterWrite(ctx context.Context) {
	_ = c.Invalidate(context.WithoutCancel(ctx), NSProviders)
}

// UserStore passes account reads and writes through to the inner store,
// and invalidates the directory after the writes that change it: a
// supplier registering with its listing, and an organisation being
// disabled or re-enabled.
type UserStore struct {
	market.UserStore
	cache *Cache
}

var _ market.UserStore = (*UserStore)(nil)

// NewUserStore wraps inner so that its directory-changing writes invalidate
// NSProviders.
func NewUserStore(inner market.UserStore, c *Cache) market.UserStore {
	return &UserStore{UserStore: inner, cache: c}
}

// Register writes through the inner store, then invalidates the directory
// when a supplier has joined it.
func (s *UserStore) Register(ctx context.Context, o *market.Organisation, l *market.Listing, u *market.User) error {
	if err := s.UserStore.Register(ctx, o, l, u); err != nil {
		return err
	}
	if o.Kind == market.KindSupplier {
		s.cache.invalidateAfterWrite(ctx)
	}
	return nil
}

// SetOrganisationStatus writes through the inner store, then invalidates the
// directory, where a disabled supplier must no longer appear.
func (s *UserStore) SetOrganisationStatus(ctx context.Context, id string, st market.OrgStatus) (market.Organisation, error) {
	o, err := s.UserStore.SetOrganisationStatus(ctx, id, st)
	if err != nil {
		return o, err
	}
	s.cache.invalidateAfterWrite(ctx)
	return o, nil
}

package cache

import (
	"context"
	"slices"

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

// invalidateAfterWrite invalidates the namespaces (the directory when none
// is named) after a committed write. It runs on even if the client has
// gone away, since the write stands; its failure is logged, counted and
// retried by Invalidate, and not returned, since the write is stored.
func (c *Cache) invalidateAfterWrite(ctx context.Context, ns ...string) {
	if len(ns) == 0 {
		ns = []string{NSProviders}
	}
	_ = c.Invalidate(context.WithoutCancel(ctx), ns...)
}

// NSAccounts retires the memos of users and organisations: every write of
// a user or an organisation through UserStore invalidates it. It holds no
// views, since account data is private.
const NSAccounts = "accounts"

// Sizes of the account memos of one process.
const (
	memoUsers         = 10_000
	memoOrganisations = 10_000
)

// UserStore passes account reads and writes through to the inner store,
// and invalidates the directory after the writes that change it: a
// supplier registering (it is in the directory at once, with its listing
// or an empty one), and an organisation being disabled or re-enabled.
//
// It also keeps users and organisations read by ID in this process (see
// Memo), since every signed-in request reads both to authenticate. Every
// write of a user or an organisation invalidates NSAccounts, so that on
// every process sharing the cache a disabled user or organisation is
// refused from the next request on, as when each request read the store.
type UserStore struct {
	market.UserStore
	cache *Cache
	users *Memo[string, market.User]
	orgs  *Memo[string, market.Organisation]
}

var _ market.UserStore = (*UserStore)(nil)

// NewUserStore wraps inner so that its writes invalidate NSAccounts, and
// NSProviders when they change the directory, and so that GetUser and
// GetOrganisation are memoised under NSAccounts.
func NewUserStore(inner market.UserStore, c *Cache) market.UserStore {
	return &UserStore{
		UserStore: inner,
		cache:     c,
		users:     NewMemo[string, market.User](c, NSAccounts, memoUsers, nil),
		orgs:      NewMemo[string](c, NSAccounts, memoOrganisations, cloneOrganisation),
	}
}

// GetUser returns the user, from the memo while no account write has
// happened since it was read.
func (s *UserStore) GetUser(ctx context.Context, id string) (market.User, error) {
	return s.users.Get(ctx, id, func(ctx context.Context) (market.User, error) {
		return s.UserStore.GetUser(ctx, id)
	})
}

// GetOrganisation returns the organisation, from the memo while no account
// write has happened since it was read.
func (s *UserStore) GetOrganisation(ctx context.Context, id string) (market.Organisation, error) {
	return s.orgs.Get(ctx, id, func(ctx context.Context) (market.Organisation, error) {
		return s.UserStore.GetOrganisation(ctx, id)
	})
}

// GetOrganisations returns the organisations of ids that exist, those in
// the memo from it and the rest in one read of the inner store (one by one
// when it cannot read many).
func (s *UserStore) GetOrganisations(ctx context.Context, ids []string) (map[string]market.Organisation, error) {
	return s.orgs.GetMany(ctx, ids, func(ctx context.Context, ids []string) (map[string]market.Organisation, error) {
		if many, ok := s.UserStore.(market.OrganisationsReader); ok {
			return many.GetOrganisations(ctx, ids)
		}
		out := make(map[string]market.Organisation, len(ids))
		for _, id := range ids {
			o, err := s.UserStore.GetOrganisation(ctx, id)
			if market.ErrorCode(err) == market.ENOTFOUND {
				continue
			} else if err != nil {
				return nil, err
			}
			out[id] = o
		}
		return out, nil
	})
}

// Register writes through the inner store, then invalidates the accounts,
// and for a supplier the directory, which it joins whether or not it gave
// a listing.
func (s *UserStore) Register(ctx context.Context, o *market.Organisation, l *market.Listing, u *market.User) error {
	if err := s.UserStore.Register(ctx, o, l, u); err != nil {
		return err
	}
	if o.Kind == market.KindSupplier {
		s.cache.invalidateAfterWrite(ctx, NSAccounts, NSProviders)
	} else {
		s.cache.invalidateAfterWrite(ctx, NSAccounts)
	}
	return nil
}

// CreateUser writes through the inner store, then invalidates the
// accounts.
func (s *UserStore) CreateUser(ctx context.Context, u *market.User) error {
	if err := s.UserStore.CreateUser(ctx, u); err != nil {
		return err
	}
	s.cache.invalidateAfterWrite(ctx, NSAccounts)
	return nil
}

// SetUserStatus writes through the inner store, then invalidates the
// accounts, so that a disabled user's tokens stop working on every
// process.
func (s *UserStore) SetUserStatus(ctx context.Context, id string, st market.UserStatus) (market.User, error) {
	u, err := s.UserStore.SetUserStatus(ctx, id, st)
	if err != nil {
		return u, err
	}
	s.cache.invalidateAfterWrite(ctx, NSAccounts)
	return u, nil
}

// SetOrganisationStatus writes through the inner store, then invalidates the
// accounts and the directory, where a disabled supplier must no longer
// appear.
func (s *UserStore) SetOrganisationStatus(ctx context.Context, id string, st market.OrgStatus) (market.Organisation, error) {
	o, err := s.UserStore.SetOrganisationStatus(ctx, id, st)
	if err != nil {
		return o, err
	}
	s.cache.invalidateAfterWrite(ctx, NSAccounts, NSProviders)
	return o, nil
}

// EraseUser writes through the inner store, then invalidates the
// accounts, so that no process goes on authenticating the erased user or
// showing its name from a memo.
func (s *UserStore) EraseUser(ctx context.Context, id string, otherAdmin bool, ev market.AuditEvent) (market.User, error) {
	u, err := s.UserStore.EraseUser(ctx, id, otherAdmin, ev)
	if err != nil {
		return u, err
	}
	s.cache.invalidateAfterWrite(ctx, NSAccounts)
	return u, nil
}

// cloneOrganisation copies o's slices, so that a caller changing its copy
// cannot change the memo's.
func cloneOrganisation(o market.Organisation) market.Organisation {
	o.Identifiers = slices.Clone(o.Identifiers)
	o.Regions = slices.Clone(o.Regions)
	return o
}

package sqlstore

import (
	"context"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// UserStore keeps accounts: users, and the organisations they act for.
type UserStore struct {
	db    *DB
	clock market.Clock
	orgs  *OrganisationStore
}

var _ market.UserStore = (*UserStore)(nil)

// NewUserStore returns the accounts kept in db.
func NewUserStore(db *DB, clock market.Clock) *UserStore {
	return &UserStore{db: db, clock: clock, orgs: NewOrganisationStore(db, clock)}
}

// userColumns are read by userDest, in this order, from users u.
const userColumns = `u.id, u.organisation_id, u.name, u.email, u.role, u.admin, u.status,
	u.password_hash, u.created_at, u.updated_at`

func userDest(u *market.User) []any {
	return []any{&u.ID, &u.OrganisationID, &u.Name, &u.Email, &u.Role, &u.Admin, &u.Status,
		&u.PasswordHash, timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt}}
}

// emailTaken is the conflict of a registered e-mail, naming field.
func emailTaken(field string) error {
	return &market.Error{
		Code:    market.ECONFLICT,
		Message: "An account with this e-mail address already exists.",
		Fields:  []market.FieldError{{Field: field, Message: "is already registered"}},
	}
}

// prepareUser returns a copy of u as it will be stored in organisation
// orgID. The e-mail is normalized here too, so that the unique constraint
// holds for the normalized form whatever a caller passes.
func prepareUser(u *market.User, orgID string, t time.Time) market.User {
	user := *u
	user.ID = newID()
	user.OrganisationID = orgID
	user.Email = market.NormalizeEmail(user.Email)
	user.CreatedAt, user.UpdatedAt = t, t
	if user.Status == "" {
		user.Status = market.UserActive
	}
	return user
}

func (s *UserStore) insertUser(ctx context.Context, q Queryer, u *market.User) error {
	_, err := q.ExecContext(ctx, `INSERT INTO users (id, organisation_id, name, email, role, admin,
		status, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.OrganisationID, u.Name, u.Email, string(u.Role), u.Admin, string(u.Status),
		u.PasswordHash, s.db.timeArg(u.CreatedAt), s.db.timeArg(u.UpdatedAt))
	return err
}

// Register stores o with its identifiers and regions, for a supplier its
// listing (l, or market.EmptyListing when l is nil), and its first user u,
// in one transaction, with the same writes as
// OrganisationStore.CreateOrganisation. On success it sets the IDs and
// timestamps of o and u, and l's version (1). On a conflict
// nothing is stored and none of them is changed: ECONFLICT naming
// "user.email", or the identifier already registered.
func (s *UserStore) Register(ctx context.Context, o *market.Organisation, l *market.Listing, u *market.User) error {
	if l != nil && o.Kind != market.KindSupplier {
		return market.Invalid("listing", "only a supplier has a listing")
	}
	if !u.Role.FitsKind(o.Kind) {
		return market.Invalid("user.role", "does not fit an organisation of kind %s", o.Kind)
	}
	t := now(s.clock)
	org, listing := s.orgs.prepare(o, l, t)
	ls := listingsOf(&org, &listing)
	user := prepareUser(u, org.ID, t)
	err := s.db.InTx(ctx, func(tx *Tx) error {
		ins := s.db.inserter(ctx, tx)
		if err := writeOrganisations(ins, s.db.timeArg, []*market.Organisation{&org}); err != nil {
			return err
		}
		if err := writeListings(ins, s.db.timeArg, []*market.Organisation{&org}, ls); err != nil {
			return err
		}
		return s.insertUser(ctx, tx, &user)
	})
	if err != nil {
		err = s.db.translate(err)
		if market.ErrorCode(err) != market.ECONFLICT {
			return err
		}
		// The engines name only the constraint; look for what stood in the
		// way, now that the transaction has been rolled back.
		if taken, qerr := s.emailExists(ctx, user.Email); qerr != nil {
			return s.db.translate(qerr)
		} else if taken {
			return emailTaken("user.email")
		}
		return s.orgs.conflict(ctx, err, []*market.Organisation{&org})
	}
	*o, *u = org, user
	if l != nil {
		*l = listing
	}
	return nil
}

func (s *UserStore) emailExists(ctx context.Context, email string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, "SELECT 1 FROM users WHERE email = ?", email).Scan(&one)
	if isNoRows(err) {
		return false, nil
	}
	return err == nil, err
}

// CreateUser adds u to its organisation, setting its ID and timestamps.
// ENOTFOUND when the organisation does not exist; EINVALID naming "role"
// when the role does not fit the organisation's kind; ECONFLICT naming
// "email" when the e-mail is registered.
func (s *UserStore) CreateUser(ctx context.Context, u *market.User) error {
	user := prepareUser(u, u.OrganisationID, now(s.clock))
	err := s.db.InTx(ctx, func(tx *Tx) error {
		var kind market.OrgKind
		err := tx.QueryRowContext(ctx, "SELECT kind FROM organisations WHERE id = ?", user.OrganisationID).Scan(&kind)
		if isNoRows(err) {
			return market.Errorf(market.ENOTFOUND, "No organisation %q.", user.OrganisationID)
		} else if err != nil {
			return err
		}
		if !user.Role.FitsKind(kind) {
			return market.Invalid("role", "does not fit an organisation of kind %s", kind)
		}
		return s.insertUser(ctx, tx, &user)
	})
	if err != nil {
		err = s.db.translate(err)
		if market.ErrorCode(err) == market.ECONFLICT {
			// The ID is fresh, so the e-mail is the only thing to collide.
			return emailTaken("email")
		}
		return err
	}
	*u = user
	return nil
}

// GetUser returns a user by ID. ENOTFOUND.
func (s *UserStore) GetUser(ctx context.Context, id string) (market.User, error) {
	return s.getUser(ctx, "u.id = ?", id)
}

// GetUserByEmail returns a user by e-mail, normalized here again so that a
// caller that forgot still finds it. ENOTFOUND.
func (s *UserStore) GetUserByEmail(ctx context.Context, email string) (market.User, error) {
	return s.getUser(ctx, "u.email = ?", market.NormalizeEmail(email))
}

func (s *UserStore) getUser(ctx context.Context, cond string, arg any) (market.User, error) {
	var u market.User
	err := s.db.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users u WHERE "+cond, arg).Scan(userDest(&u)...)
	if isNoRows(err) {
		return market.User{}, market.Errorf(market.ENOTFOUND, "No such user.")
	} else if err != nil {
		return market.User{}, s.db.translate(err)
	}
	return u, nil
}

// ListUsers returns the users of organisation orgID, oldest first: an
// empty list for an organisation without users, ENOTFOUND for one that
// does not exist.
func (s *UserStore) ListUsers(ctx context.Context, orgID string) ([]market.User, error) {
	users := []market.User{}
	err := eachRow(ctx, s.db, "SELECT "+userColumns+` FROM users u WHERE u.organisation_id = ?
		ORDER BY u.created_at, u.id`, []any{orgID}, func(sc scanner) error {
		var u market.User
		if err := sc.Scan(userDest(&u)...); err != nil {
			return err
		}
		users = append(users, u)
		return nil
	})
	if err != nil {
		return nil, s.db.translate(err)
	}
	if len(users) == 0 {
		if _, err := s.orgs.GetOrganisation(ctx, orgID); err != nil {
			return nil, err
		}
	}
	return users, nil
}

// SetUserStatus enables or disables a user and returns it. ENOTFOUND;
// EINVALID naming "status" for an unknown status.
func (s *UserStore) SetUserStatus(ctx context.Context, id string, st market.UserStatus) (market.User, error) {
	if st != market.UserActive && st != market.UserDisabled {
		return market.User{}, market.Invalid("status", "must be active or disabled")
	}
	res, err := s.db.ExecContext(ctx, "UPDATE users SET status = ?, updated_at = ? WHERE id = ?",
		string(st), s.db.timeArg(now(s.clock)), id)
	if err != nil {
		return market.User{}, s.db.translate(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return market.User{}, s.db.translate(err)
	} else if n == 0 {
		return market.User{}, market.Errorf(market.ENOTFOUND, "No such user.")
	}
	return s.GetUser(ctx, id)
}

// SetOrganisationStatus approves, disables or re-enables an organisation
// and returns it. A supplier that is not active leaves the directory at
// once, since the directory's queries list active suppliers only (a cache
// in front of them must be invalidated). ENOTFOUND; EINVALID naming
// "status" for an unknown status.
func (s *UserStore) SetOrganisationStatus(ctx context.Context, id string, st market.OrgStatus) (market.Organisation, error) {
	switch st {
	case market.StatusActive, market.StatusPending, market.StatusDisabled:
	default:
		return market.Organisation{}, market.Invalid("status", "must be active, pending or disabled")
	}
	res, err := s.db.ExecContext(ctx, "UPDATE organisations SET status = ?, updated_at = ? WHERE id = ?",
		string(st), s.db.timeArg(now(s.clock)), id)
	if err != nil {
		return market.Organisation{}, s.db.translate(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return market.Organisation{}, s.db.translate(err)
	} else if n == 0 {
		return market.Organisation{}, market.Errorf(market.ENOTFOUND, "No organisation %q.", id)
	}
	return s.orgs.GetOrganisation(ctx, id)
}

// cursorByCreation marks a cursor of ListOrganisations, so that a cursor of
// another list is refused.
const cursorByCreation = "c"

// ListOrganisations returns one page of organisations of f's kind and
// status (any, when empty), oldest first, then by ID. EINVALID naming
// "cursor" for a cursor it did not give out.
func (s *UserStore) ListOrganisations(ctx context.Context, f market.OrganisationFilter) (market.OrganisationPage, error) {
	pageSize := f.PageSize
	if pageSize <= 0 {
		pageSize = market.DefaultPageSize
	}
	pageSize = min(pageSize, market.MaxPageSize)

	query := "SELECT " + orgColumns + " FROM organisations o WHERE 1 = 1"
	var args []any
	if f.Kind != "" {
		query += " AND o.kind = ?"
		args = append(args, string(f.Kind))
	}
	if f.Status != "" {
		query += " AND o.status = ?"
		args = append(args, string(f.Status))
	}
	if f.Cursor != "" {
		keys, err := market.DecodeCursor(f.Cursor)
		if err != nil {
			return market.OrganisationPage{}, err
		}
		if len(keys) != 3 || keys[0] != cursorByCreation {
			return market.OrganisationPage{}, market.Invalid("cursor", "does not belong to this list")
		}
		after, err := time.Parse(timeLayout, keys[1])
		if err != nil {
			return market.OrganisationPage{}, market.Invalid("cursor", "is not a cursor this API gave out")
		}
		query += " AND (o.created_at, o.id) > (?, ?)"
		args = append(args, s.db.timeArg(after), keys[2])
	}
	query += " ORDER BY o.created_at, o.id LIMIT ?"
	args = append(args, pageSize+1)

	items := []market.Organisation{}
	err := eachRow(ctx, s.db, query, args, func(sc scanner) error {
		var o market.Organisation
		if err := sc.Scan(orgDest(&o)...); err != nil {
			return err
		}
		items = append(items, o)
		return nil
	})
	if err != nil {
		return market.OrganisationPage{}, s.db.translate(err)
	}
	var page market.OrganisationPage
	if len(items) > pageSize {
		items = items[:pageSize]
		last := items[pageSize-1]
		page.NextCursor = market.EncodeCursor(cursorByCreation, last.CreatedAt.UTC().Format(timeLayout), last.ID)
	}
	byID := make(map[string]*market.Organisation, len(items))
	for i := range items {
		byID[items[i].ID] = &items[i]
	}
	if err := loadOrgParts(ctx, s.db, byID); err != nil {
		return market.OrganisationPage{}, s.db.translate(err)
	}
	page.Items = items
	return page, nil
}

// GetOrganisation returns any organisation by ID, whatever its kind or
// status. ENOTFOUND.
func (s *UserStore) GetOrganisation(ctx context.Context, id string) (market.Organisation, error) {
	return s.orgs.GetOrganisation(ctx, id)
}

// GetOrganisations returns the organisations of ids that exist.
func (s *UserStore) GetOrganisations(ctx context.Context, ids []string) (map[string]market.Organisation, error) {
	return s.orgs.GetOrganisations(ctx, ids)
}

// EraseUser erases user id in one transaction: its row keeps only its ID,
// organisation, role and times (name market.ErasedName, e-mail
// market.ErasedEmail, no password hash, not an admin, disabled); its
// refresh tokens, notifications, preferences, unsubscribe tokens and
// pending e-mails are deleted, and the e-mails kept (sent, recorded,
// failed) lose its address; then ev is appended to the audit trail. The
// trail itself is not touched: its events name users by ID only, so every
// hash still holds.
//
// With otherAdmin, ECONFLICT (market.ErrLastAdmin) unless another active
// admin of the organisation remains. The organisation's row is locked
// first (FOR UPDATE on PostgreSQL; on SQLite the transaction holds the
// write lock), so that two erasures in one organisation take turns and
// the second sees the first's outcome. ENOTFOUND.
func (s *UserStore) EraseUser(ctx context.Context, id string, otherAdmin bool, ev market.AuditEvent) (market.User, error) {
	at := s.db.timeArg(now(s.clock))
	err := s.db.InTx(ctx, func(tx *Tx) error {
		var orgID string
		err := tx.QueryRowContext(ctx, "SELECT organisation_id FROM users WHERE id = ?", id).Scan(&orgID)
		if isNoRows(err) {
			return market.Errorf(market.ENOTFOUND, "No such user.")
		} else if err != nil {
			return err
		}
		lock := "SELECT id FROM organisations WHERE id = ?"
		if s.db.engine == EnginePostgres {
			lock += " FOR UPDATE"
		}
		if err := tx.QueryRowContext(ctx, lock, orgID).Scan(&orgID); err != nil {
			return err
		}
		if otherAdmin {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users
				WHERE organisation_id = ? AND id <> ? AND admin = ? AND status = ?`,
				orgID, id, true, string(market.UserActive)).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return market.ErrLastAdmin
			}
		}
		email := market.ErasedEmail(id)
		if _, err := tx.ExecContext(ctx, `UPDATE users SET name = ?, email = ?, password_hash = '', admin = ?,
			status = ?, updated_at = ? WHERE id = ?`,
			market.ErasedName, email, false, string(market.UserDisabled), at, id); err != nil {
			return err
		}
		for _, q := range []string{
			"DELETE FROM refresh_tokens WHERE user_id = ?",
			"DELETE FROM notifications WHERE user_id = ?",
			"DELETE FROM notification_preferences WHERE user_id = ?",
			"DELETE FROM unsubscribe_tokens WHERE user_id = ?",
			"DELETE FROM email_outbox WHERE user_id = ? AND status = 'pending'",
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE email_outbox SET to_addr = ? WHERE user_id = ?", email, id); err != nil {
			return err
		}
		return tx.appendEvent(ctx, s.clock, ev, id, "")
	})
	if err != nil {
		return market.User{}, s.db.translate(err)
	}
	return s.GetUser(ctx, id)
}

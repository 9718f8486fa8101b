package market

import (
	"context"
	"strings"
	"time"
)

// Token lifetimes.
const (
	AccessTokenTTL  = 15 * time.Minute
	RefreshTokenTTL = 30 * 24 * time.Hour
)

// Accounts is registration, sign-in and who may do what with accounts and
// listings: the rules live here once, and the HTTP layer only calls them.
type Accounts struct {
	Users     UserStore
	Sessions  SessionStore
	Providers ProviderStore
	// Personal reads what is held about a user, for Export.
	Personal  PersonalDataStore
	Tokens    Tokens
	Passwords Passwords
	Clock     Clock

	// BuyerEmailDomains are the e-mail domains whose CCG registrations are
	// active at once (subdomains included); others wait for the operator.
	BuyerEmailDomains []string
}

// errBadLogin is the one answer to a failed login, whatever failed, so that
// it never tells whether an e-mail is registered.
var errBadLogin = Errorf(EUNAUTHORIZED, "The e-mail address or password is not right.")

var errSignInAgain = Errorf(EUNAUTHORIZED, "The session has ended; sign in again.")

// Register creates an organisation and its first user, its admin. A CCG is
// active at once when the user's e-mail domain is trusted, else pending
// until the operator approves it. EINVALID naming every bad field;
// ECONFLICT when the e-mail or an identifier is already registered.
func (a *Accounts) Register(ctx context.Context, r Registration) (Organisation, User, error) {
	var p Problems
	o := r.Organisation
	switch o.Kind {
	case KindBuyer, KindSupplier:
		o.Check("organisation", &p)
	default:
		p.Add("organisation.kind", "must be buyer or supplier")
	}
	if r.Listing != nil {
		if o.Kind != KindSupplier {
			p.Add("listing", "only a supplier has a listing")
		} else {
			r.Listing.Check("listing", &p)
		}
	}
	r.User.Check("user", &p)
	if len(p) == 0 {
		if err := a.Passwords.Acceptable("user.password", r.User.Password); err != nil {
			return Organisation{}, User{}, err
		}
	}
	if err := p.Err(); err != nil {
		return Organisation{}, User{}, err
	}

	u := User{
		Name:   strings.TrimSpace(r.User.Name),
		Email:  NormalizeEmail(r.User.Email),
		Admin:  true,
		Status: UserActive,
	}
	o.Name = strings.TrimSpace(o.Name)
	o.Status = StatusActive
	switch o.Kind {
	case KindSupplier:
		u.Role = RoleSupplier
		o.Population, o.RunningCostAllowancePerHeadPence = 0, 0
	case KindBuyer:
		u.Role = RoleBuyer
		o.Sector = ""
		if !a.trustedBuyerDomain(EmailDomain(u.Email)) {
			o.Status = StatusPending
		}
	}
	hash, err := a.Passwords.Hash(r.User.Password)
	if err != nil {
		return Organisation{}, User{}, err
	}
	u.PasswordHash = hash
	if err := a.Users.Register(ctx, &o, r.Listing, &u); err != nil {
		return Organisation{}, User{}, err
	}
	return o, u, nil
}

func (a *Accounts) trustedBuyerDomain(domain string) bool {
	for _, d := range a.BuyerEmailDomains {
		d = strings.ToLower(strings.TrimSpace(d))
		if d != "" && (domain == d || strings.HasSuffix(domain, "."+d)) {
			return true
		}
	}
	return false
}

// Login checks an e-mail and password and starts a session. Every failure
// is the same EUNAUTHORIZED and costs the same time.
func (a *Accounts) Login(ctx context.Context, email, password string) (TokenPair, error) {
	u, err := a.Users.GetUserByEmail(ctx, NormalizeEmail(email))
	if ErrorCode(err) == ENOTFOUND {
		a.Passwords.Dummy(password)
		return TokenPair{}, errBadLogin
	} else if err != nil {
		return TokenPair{}, err
	}
	if u.PasswordHash == "" {
		// Erased: no password signs it in.
		a.Passwords.Dummy(password)
		return TokenPair{}, errBadLogin
	}
	ok, err := a.Passwords.Verify(u.PasswordHash, password)
	if err != nil {
		return TokenPair{}, err
	}
	if !ok {
		return TokenPair{}, errBadLogin
	}
	if err := a.checkActive(ctx, u); err != nil {
		return TokenPair{}, errBadLogin
	}
	token, hash, err := a.Tokens.NewRefresh()
	if err != nil {
		return TokenPair{}, err
	}
	now := a.Clock.Now()
	rt := RefreshToken{Hash: hash, FamilyID: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(RefreshTokenTTL)}
	if err := a.Sessions.CreateRefreshToken(ctx, rt); err != nil {
		return TokenPair{}, err
	}
	return a.pair(u, token, now)
}

// Refresh exchanges a refresh token for a new pair. The presented token is
// spent; presenting a spent token again revokes every token of its family,
// since one of the two holders is not the user.
func (a *Accounts) Refresh(ctx context.Context, token string) (TokenPair, error) {
	if token == "" {
		return TokenPair{}, errSignInAgain
	}
	next, nextHash, err := a.Tokens.NewRefresh()
	if err != nil {
		return TokenPair{}, err
	}
	now := a.Clock.Now()
	presented, err := a.Sessions.RotateRefreshToken(ctx, a.Tokens.HashRefresh(token),
		RefreshToken{Hash: nextHash, CreatedAt: now, ExpiresAt: now.Add(RefreshTokenTTL)}, now)
	switch ErrorCode(err) {
	case "":
	case ECONFLICT:
		if err := a.Sessions.RevokeFamily(ctx, presented.FamilyID, now); err != nil {
			return TokenPair{}, err
		}
		return TokenPair{}, errSignInAgain
	case ENOTFOUND, EUNAUTHORIZED:
		return TokenPair{}, errSignInAgain
	default:
		return TokenPair{}, err
	}
	u, err := a.Users.GetUser(ctx, presented.UserID)
	if err == nil {
		err = a.checkActive(ctx, u)
	}
	if err != nil {
		if rerr := a.Sessions.RevokeFamily(ctx, presented.FamilyID, now); rerr != nil {
			return TokenPair{}, rerr
		}
		if c := ErrorCode(err); c == ENOTFOUND || c == EUNAUTHORIZED {
			return TokenPair{}, errSignInAgain
		}
		return TokenPair{}, err
	}
	return a.pair(u, next, now)
}

// Logout ends the session a refresh token belongs to. An unknown token is
// not an error: the session is over either way.
func (a *Accounts) Logout(ctx context.Context, token string) error {
	rt, err := a.Sessions.GetRefreshToken(ctx, a.Tokens.HashRefresh(token))
	if ErrorCode(err) == ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	return a.Sessions.RevokeFamily(ctx, rt.FamilyID, a.Clock.Now())
}

func (a *Accounts) pair(u User, refresh string, now time.Time) (TokenPair, error) {
	_, jti, err := a.Tokens.NewRefresh()
	if err != nil {
		return TokenPair{}, err
	}
	access, err := a.Tokens.IssueAccess(AccessClaims{
		ID: jti[:22], UserID: u.ID, OrganisationID: u.OrganisationID, Role: u.Role,
		IssuedAt: now, ExpiresAt: now.Add(AccessTokenTTL),
	})
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{AccessToken: access, RefreshToken: refresh, ExpiresIn: AccessTokenTTL}, nil
}

// checkActive refuses a disabled user or a user of a disabled organisation.
func (a *Accounts) checkActive(ctx context.Context, u User) error {
	if u.Status != UserActive {
		return errSignInAgain
	}
	o, err := a.Users.GetOrganisation(ctx, u.OrganisationID)
	if err != nil {
		return err
	}
	if o.Status == StatusDisabled {
		return errSignInAgain
	}
	return nil
}

// Authenticate turns a bearer access token into the request's principal.
// The user and organisation are checked on every request, so that a
// disabled user's tokens stop working at once (the store may answer from a
// memo that every status change invalidates on every replica).
// EUNAUTHORIZED for any token it does not accept.
func (a *Accounts) Authenticate(ctx context.Context, token string) (*Principal, error) {
	c, err := a.Tokens.VerifyAccess(token, a.Clock.Now())
	if err != nil {
		return nil, err
	}
	u, err := a.Users.GetUser(ctx, c.UserID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, errSignInAgain
	} else if err != nil {
		return nil, err
	}
	if u.Status != UserActive || u.OrganisationID != c.OrganisationID || u.Role != c.Role {
		return nil, errSignInAgain
	}
	o, err := a.Users.GetOrganisation(ctx, u.OrganisationID)
	if err != nil {
		return nil, err
	}
	if o.Status == StatusDisabled {
		return nil, errSignInAgain
	}
	return &Principal{
		UserID: u.ID, OrganisationID: o.ID, OrgKind: o.Kind, OrgStatus: o.Status,
		Role: u.Role, Admin: u.Admin, TokenID: c.ID,
	}, nil
}

// Me returns the caller's user and organisation.
func (a *Accounts) Me(ctx context.Context, p *Principal) (User, Organisation, error) {
	if p == nil {
		return User{}, Organisation{}, errUnauthenticated
	}
	u, err := a.Users.GetUser(ctx, p.UserID)
	if err != nil {
		return User{}, Organisation{}, err
	}
	o, err := a.Users.GetOrganisation(ctx, p.OrganisationID)
	return u, o, err
}

var errUnauthenticated = Errorf(EUNAUTHORIZED, "Sign in first: send an access token as 'Authorization: Bearer ...'.")

// RequireUser refuses an anonymous caller.
func RequireUser(p *Principal) error {
	if p == nil {
		return errUnauthenticated
	}
	return nil
}

// RequireOperator refuses anyone but the marketplace's operator.
func RequireOperator(p *Principal) error {
	if p == nil {
		return errUnauthenticated
	}
	if p.Role != RoleOperator || p.OrgKind != KindOperator {
		return Errorf(EFORBIDDEN, "Only the marketplace operator may do this.")
	}
	return nil
}

// requireOrgAdmin lets an organisation's admins (and the operator) manage
// its users. Another organisation's caller is told it does not exist.
func requireOrgAdmin(p *Principal, orgID string) error {
	if p == nil {
		return errUnauthenticated
	}
	if p.Role == RoleOperator && p.OrgKind == KindOperator {
		return nil
	}
	if p.OrganisationID != orgID {
		return Errorf(ENOTFOUND, "No such organisation.")
	}
	if !p.Admin {
		return Errorf(EFORBIDDEN, "Only your organisation's admins may manage its users.")
	}
	return nil
}

// AddUser adds a user to organisation orgID with a role that fits it.
func (a *Accounts) AddUser(ctx context.Context, p *Principal, orgID string, nu NewUser) (User, error) {
	if err := requireOrgAdmin(p, orgID); err != nil {
		return User{}, err
	}
	o, err := a.Users.GetOrganisation(ctx, orgID)
	if err != nil {
		return User{}, err
	}
	var prob Problems
	nu.Check("", &prob)
	if !nu.Role.FitsKind(o.Kind) {
		switch o.Kind {
		case KindBuyer:
			prob.Add("role", "must be buyer or evaluator in a CCG")
		case KindSupplier:
			prob.Add("role", "must be supplier in a supplier organisation")
		default:
			prob.Add("role", "must be operator")
		}
	}
	if len(prob) == 0 {
		if err := a.Passwords.Acceptable("password", nu.Password); err != nil {
			return User{}, err
		}
	}
	if err := prob.Err(); err != nil {
		return User{}, err
	}
	hash, err := a.Passwords.Hash(nu.Password)
	if err != nil {
		return User{}, err
	}
	u := User{
		OrganisationID: orgID, Name: strings.TrimSpace(nu.Name), Email: NormalizeEmail(nu.Email),
		Role: nu.Role, Status: UserActive, PasswordHash: hash,
	}
	if err := a.Users.CreateUser(ctx, &u); err != nil {
		return User{}, err
	}
	return u, nil
}

// ListUsers returns an organisation's users to its admins and the operator.
func (a *Accounts) ListUsers(ctx context.Context, p *Principal, orgID string) ([]User, error) {
	if err := requireOrgAdmin(p, orgID); err != nil {
		return nil, err
	}
	return a.Users.ListUsers(ctx, orgID)
}

// SetUserStatus disables or re-enables a user; disabling ends its sessions.
// An admin cannot disable itself, so an organisation keeps one admin.
func (a *Accounts) SetUserStatus(ctx context.Context, p *Principal, userID string, s UserStatus) (User, error) {
	if s != UserActive && s != UserDisabled {
		return User{}, Invalid("status", "must be active or disabled")
	}
	u, err := a.Users.GetUser(ctx, userID)
	if err != nil {
		return User{}, err
	}
	if err := requireOrgAdmin(p, u.OrganisationID); err != nil {
		return User{}, Errorf(ENOTFOUND, "No such user.")
	}
	if u.ID == p.UserID && s == UserDisabled {
		return User{}, Errorf(ECONFLICT, "You cannot disable yourself.")
	}
	if u.Erased() && s == UserActive {
		return User{}, Errorf(ECONFLICT, "An erased user cannot be enabled again; add the person as a new user.")
	}
	u, err = a.Users.SetUserStatus(ctx, userID, s)
	if err != nil {
		return User{}, err
	}
	if s == UserDisabled {
		if err := a.Sessions.RevokeUser(ctx, userID, a.Clock.Now()); err != nil {
			return User{}, err
		}
	}
	return u, nil
}

// ListOrganisations pages organisations for the operator, e.g. the CCGs
// waiting for approval.
func (a *Accounts) ListOrganisations(ctx context.Context, p *Principal, f OrganisationFilter) (OrganisationPage, error) {
	if err := RequireOperator(p); err != nil {
		return OrganisationPage{}, err
	}
	var prob Problems
	if f.Kind != "" && !f.Kind.Valid() {
		prob.Add("kind", "must be buyer, supplier or operator")
	}
	if f.Status != "" && f.Status != StatusActive && f.Status != StatusPending && f.Status != StatusDisabled {
		prob.Add("status", "must be active, pending or disabled")
	}
	checkPageSize(&f.PageSize, &prob)
	if f.Cursor != "" {
		if _, err := DecodeCursor(f.Cursor); err != nil {
			prob.Add("cursor", "is not a cursor this API gave out")
		}
	}
	if err := prob.Err(); err != nil {
		return OrganisationPage{}, err
	}
	return a.Users.ListOrganisations(ctx, f)
}

// SetOrganisationStatus is the operator approving a pending CCG, or
// disabling (and re-enabling) an organisation. A disabled organisation's
// users lose access at their next request.
func (a *Accounts) SetOrganisationStatus(ctx context.Context, p *Principal, orgID string, s OrgStatus) (Organisation, error) {
	if err := RequireOperator(p); err != nil {
		return Organisation{}, err
	}
	if s != StatusActive && s != StatusDisabled {
		return Organisation{}, Invalid("status", "must be active or disabled")
	}
	if orgID == p.OrganisationID {
		return Organisation{}, Errorf(ECONFLICT, "The operator cannot change its own organisation.")
	}
	return a.Users.SetOrganisationStatus(ctx, orgID, s)
}

// UpdateListing replaces a supplier's listing; only that supplier's users
// may. ifVersion is the version the caller last saw (its ETag).
func (a *Accounts) UpdateListing(ctx context.Context, p *Principal, providerID string, l Listing, ifVersion int64) (Provider, error) {
	if p == nil {
		return Provider{}, errUnauthenticated
	}
	if p.Role != RoleSupplier || p.OrganisationID != providerID {
		return Provider{}, Errorf(EFORBIDDEN, "You can edit only your own organisation's listing.")
	}
	var prob Problems
	l.Check("", &prob)
	if err := prob.Err(); err != nil {
		return Provider{}, err
	}
	return a.Providers.UpdateListing(ctx, providerID, l, ifVersion)
}

// CreateOperator makes an operator user, creating the operator
// organisation the first time. It is for `csmarket admin create`, never
// reachable over HTTP.
func (a *Accounts) CreateOperator(ctx context.Context, nu NewUser) (User, error) {
	nu.Role = RoleOperator
	var prob Problems
	nu.Check("", &prob)
	if err := prob.Err(); err != nil {
		return User{}, err
	}
	if err := a.Passwords.Acceptable("password", nu.Password); err != nil {
		return User{}, err
	}
	hash, err := a.Passwords.Hash(nu.Password)
	if err != nil {
		return User{}, err
	}
	u := User{Name: strings.TrimSpace(nu.Name), Email: NormalizeEmail(nu.Email), Role: RoleOperator, Admin: true, Status: UserActive, PasswordHash: hash}
	page, err := a.Users.ListOrganisations(ctx, OrganisationFilter{Kind: KindOperator, PageSize: 1})
	if err != nil {
		return User{}, err
	}
	if len(page.Items) > 0 {
		u.OrganisationID = page.Items[0].ID
		if err := a.Users.CreateUser(ctx, &u); err != nil {
			return User{}, err
		}
		return u, nil
	}
	o := Organisation{Kind: KindOperator, Name: "csmarket operator", Status: StatusActive}
	if err := a.Users.Register(ctx, &o, nil, &u); err != nil {
		return User{}, err
	}
	return u, nil
}

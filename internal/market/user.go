package market

import (
	"context"
	"net/mail"
	"strings"
	"time"
)

// Role is what a user does within its organisation.
type Role string

const (
	RoleBuyer     Role = "buyer"     // a CCG user: tenders, questions, award
	RoleEvaluator Role = "evaluator" // a CCG user who scores bids it is assigned
	RoleSupplier  Role = "supplier"  // a supplier user: listing, questions, bids
	RoleOperator  Role = "operator"  // runs the marketplace
)

// FitsKind reports whether a user of role r may belong to an organisation
// of kind k: buyers and evaluators to CCGs, suppliers to suppliers,
// operators to the operator.
func (r Role) FitsKind(k OrgKind) bool {
	switch r {
	case RoleBuyer, RoleEvaluator:
		return k == KindBuyer
	case RoleSupplier:
		return k == KindSupplier
	case RoleOperator:
		return k == KindOperator
	}
	return false
}

// UserStatus is whether a user may sign in.
type UserStatus string

const (
	UserActive   UserStatus = "active"
	UserDisabled UserStatus = "disabled"
)

// User is a person acting for one organisation.
type User struct {
	ID             string
	OrganisationID string
	Name           string
	Email          string // normalized: see NormalizeEmail
	Role           Role
	Admin          bool // may add users to its organisation; the first user is
	Status         UserStatus
	PasswordHash   string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// NormalizeEmail trims and lower-cases an address, so that one mailbox is
// one account however it is typed.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// EmailDomain returns the part of a normalized address after the last "@".
func EmailDomain(email string) string {
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		return email[i+1:]
	}
	return ""
}

// NewUser is what a person gives to be registered or added.
type NewUser struct {
	Name     string
	Email    string
	Password string
	Role     Role // for AddUser; a registration's first user takes its organisation's role
}

// Password limits. The list of common passwords is the Passwords
// implementation's; these are the rules every client can read.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

// Check records in p what is wrong with the new user, naming fields under
// prefix ("user", or "" when the user is the whole body).
func (u *NewUser) Check(prefix string, p *Problems) {
	f := func(name string) string {
		if prefix == "" {
			return name
		}
		return prefix + "." + name
	}
	if n := strings.TrimSpace(u.Name); n == "" || len(n) > MaxShortTextLen {
		p.Add(f("name"), "must be 1 to %d characters", MaxShortTextLen)
	}
	email := NormalizeEmail(u.Email)
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 || !strings.Contains(EmailDomain(email), ".") {
		p.Add(f("email"), "must be an e-mail address such as name@example.nhs.uk")
	} else if EmailDomain(email) == ErasedEmailDomain {
		p.Add(f("email"), "must be an address that can receive mail")
	}
	if n := len([]rune(u.Password)); n < MinPasswordLen {
		p.Add(f("password"), "must be at least %d characters; a passphrase of several words is easiest", MinPasswordLen)
	} else if len(u.Password) > MaxPasswordLen {
		p.Add(f("password"), "must be at most %d bytes", MaxPasswordLen)
	}
}

// Registration is a new organisation with its first user, who becomes the
// organisation's admin.
type Registration struct {
	Organisation Organisation
	Listing      *Listing // a supplier may give its listing at once
	User         NewUser
}

// Principal is the caller of a request, proven by an access token and
// checked against the store on every request, so that disabling a user or
// an organisation takes effect at once.
type Principal struct {
	UserID         string
	OrganisationID string
	OrgKind        OrgKind
	OrgStatus      OrgStatus
	Role           Role
	Admin          bool
	TokenID        string // the access token's jti
}

// TokenPair is what a successful login or refresh gives the client.
type TokenPair struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration
}

// AccessClaims are what an access token asserts.
type AccessClaims struct {
	ID             string // jti
	UserID         string // sub
	OrganisationID string // org
	Role           Role
	IssuedAt       time.Time
	ExpiresAt      time.Time
}

// RefreshToken is the stored form of an opaque refresh token: only its hash
// is kept. Tokens descending from one login share a family; presenting a
// token that was already rotated revokes the whole family.
type RefreshToken struct {
	Hash      string
	FamilyID  string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero until rotated
	RevokedAt time.Time // zero unless revoked
}

// Tokens signs and checks access tokens and makes refresh tokens.
type Tokens interface {
	// IssueAccess signs claims into a compact access token.
	IssueAccess(c AccessClaims) (string, error)
	// VerifyAccess checks a token's signature, algorithm, key, issuer,
	// audience and times. EUNAUTHORIZED for anything it does not accept.
	VerifyAccess(token string, now time.Time) (AccessClaims, error)
	// NewRefresh returns a fresh random refresh token and its hash.
	NewRefresh() (token, hash string, err error)
	// HashRefresh returns the hash under which a refresh token is stored.
	HashRefresh(token string) string
}

// Passwords hashes and checks passwords.
type Passwords interface {
	// Acceptable returns an EINVALID error naming field when password is
	// too short, too long or among the commonly used ones.
	Acceptable(field, password string) error
	Hash(password string) (string, error)
	// Verify compares in constant time. A malformed hash is an error.
	Verify(hash, password string) (bool, error)
	// Dummy verifies against a fixed hash, so that a login for an unknown
	// e-mail costs as much as one for a known e-mail.
	Dummy(password string)
}

// OrganisationFilter selects organisations for the operator.
type OrganisationFilter struct {
	Kind     OrgKind
	Status   OrgStatus
	Cursor   string
	PageSize int
}

// OrganisationPage is one page of organisations.
type OrganisationPage struct {
	Items      []Organisation
	NextCursor string
}

// UserStore keeps accounts.
type UserStore interface {
	// Register stores a new organisation, for a supplier its listing (l,
	// or EmptyListing(o) when l is nil), and its first user, in one
	// transaction, setting their IDs and timestamps. ECONFLICT naming the
	// e-mail or identifier already registered; nothing is stored then.
	Register(ctx context.Context, o *Organisation, l *Listing, u *User) error
	// CreateUser adds a user to an existing organisation. ECONFLICT when
	// the e-mail is registered.
	CreateUser(ctx context.Context, u *User) error
	// GetUser returns a user by ID. ENOTFOUND.
	GetUser(ctx context.Context, id string) (User, error)
	// GetUserByEmail returns a user by normalized e-mail. ENOTFOUND.
	GetUserByEmail(ctx context.Context, email string) (User, error)
	// ListUsers returns the users of an organisation, oldest first.
	ListUsers(ctx context.Context, orgID string) ([]User, error)
	// SetUserStatus enables or disables a user. ENOTFOUND.
	SetUserStatus(ctx context.Context, id string, s UserStatus) (User, error)
	// SetOrganisationStatus approves, disables or re-enables an
	// organisation. ENOTFOUND.
	SetOrganisationStatus(ctx context.Context, id string, s OrgStatus) (Organisation, error)
	// ListOrganisations pages organisations by creation, oldest first.
	// EINVALID for a cursor it cannot read.
	ListOrganisations(ctx context.Context, f OrganisationFilter) (OrganisationPage, error)
	// GetOrganisation returns any organisation by ID. ENOTFOUND.
	GetOrganisation(ctx context.Context, id string) (Organisation, error)
	// EraseUser erases user id, as Accounts.Erase describes, and appends
	// ev, in one transaction, and returns the user as it now is. With
	// otherAdmin set it refuses (ErrLastAdmin) unless another active admin
	// of the user's organisation remains, decided under a lock that makes
	// concurrent erasures in one organisation take turns. ENOTFOUND.
	EraseUser(ctx context.Context, id string, otherAdmin bool, ev AuditEvent) (User, error)
}

// OrganisationsReader is what a UserStore may also do: read many
// organisations by ID at once. The map holds those found; an ID it lacks
// was not found. A comparison reads its bidders through it, in one round
// trip where one after another took one each.
type OrganisationsReader interface {
	GetOrganisations(ctx context.Context, ids []string) (map[string]Organisation, error)
}

// SessionStore keeps refresh tokens.
type SessionStore interface {
	// CreateRefreshToken stores a token (a new family, or the next of one).
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// RotateRefreshToken marks the token with hash as used at now and
	// stores next in its family, atomically: of two concurrent rotations
	// of one token exactly one succeeds. It returns the presented token.
	// ENOTFOUND for an unknown hash; ECONFLICT, with the presented token,
	// when it was already used or revoked (the caller then revokes the
	// family); EUNAUTHORIZED when it has expired.
	RotateRefreshToken(ctx context.Context, hash string, next RefreshToken, now time.Time) (RefreshToken, error)
	// RevokeFamily revokes every token of a family.
	RevokeFamily(ctx context.Context, familyID string, now time.Time) error
	// RevokeUser revokes every token of a user.
	RevokeUser(ctx context.Context, userID string, now time.Time) error
	// GetRefreshToken returns a token by hash. ENOTFOUND.
	GetRefreshToken(ctx context.Context, hash string) (RefreshToken, error)
	// ListSessions returns a user's sessions, one per family, oldest first.
	ListSessions(ctx context.Context, userID string) ([]Session, error)
}

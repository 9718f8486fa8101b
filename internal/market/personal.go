package market

import (
	"context"
	"errors"
	"strings"
	"time"
)

// An erased user keeps its row, so that what it did (its organisation's
// questions and bids, the audit trail's events, which name it by ID only)
// still refers to someone, but nothing in the row says who it was.
const (
	// ErasedName is what an erased user is called from then on.
	ErasedName = "Erased user"
	// ErasedEmailDomain holds the addresses of erased users. .invalid is
	// reserved (RFC 2606, RFC 6761) and never routes, so nothing can be
	// sent there, and one address per user keeps e-mails unique.
	ErasedEmailDomain = "erased.invalid"
	// MaxErasureReasonLen bounds the reason an erasure is recorded with.
	MaxErasureReasonLen = 1000
)

// ErasedEmail returns the address erased user id is kept under.
func ErasedEmail(id string) string {
	return "user-" + strings.ToLower(id) + "@" + ErasedEmailDomain
}

// Erased reports whether the user has been erased.
func (u *User) Erased() bool { return EmailDomain(u.Email) == ErasedEmailDomain }

// Session is one sign-in: a family of refresh tokens, told by its times
// only, never by a token or a token's hash.
type Session struct {
	StartedAt     time.Time // the family's first token: the sign-in
	LastRefreshAt time.Time // its newest token; StartedAt until refreshed
	ExpiresAt     time.Time // of its newest token
	RevokedAt     time.Time // signed out or ended; zero while it may go on
}

// PersonalRecords are the records besides the user's own row that are
// about the user: what it was told, chose, asked, bid, declared, scored
// and did.
type PersonalRecords struct {
	Notifications []Notification // newest first
	Preferences   Preferences    // the kinds the user has chosen for
	Questions     []Question     // asked by the user, oldest first
	// Bids are the user's organisation's bids that the user submitted or
	// revised, as they stand; BidVersions the versions the user submitted.
	Bids         []Bid
	BidVersions  []Bid
	Declarations []Evaluator  // the user's evaluator records and declarations of interest
	Scores       []Score      // given by the user
	AuditEvents  []AuditEvent // where the user is the actor, in sequence
}

// PersonalData is everything csmarket holds about one user: the answer to
// a subject access request (UK GDPR, Article 15), in a form the user can
// take elsewhere (Article 20).
type PersonalData struct {
	User         User // its PasswordHash is never given out
	Organisation Organisation
	PersonalRecords
	Sessions   []Session
	ExportedAt time.Time
}

// PersonalDataStore reads what is held about one user across the store.
type PersonalDataStore interface {
	// PersonalRecords returns the records about user userID, a user of
	// organisation orgID, each list empty rather than nil when there are
	// none; bids are only ever orgID's.
	PersonalRecords(ctx context.Context, userID, orgID string) (PersonalRecords, error)
}

var errNoPersonalStore = errors.New("market: Accounts has no PersonalDataStore")

// Export returns everything held about the caller. Preferences hold every
// kind, as the user would see them. EUNAUTHORIZED for an anonymous caller.
func (a *Accounts) Export(ctx context.Context, p *Principal) (PersonalData, error) {
	if err := RequireUser(p); err != nil {
		return PersonalData{}, err
	}
	if a.Personal == nil {
		return PersonalData{}, errNoPersonalStore
	}
	u, o, err := a.Me(ctx, p)
	if err != nil {
		return PersonalData{}, err
	}
	recs, err := a.Personal.PersonalRecords(ctx, u.ID, u.OrganisationID)
	if err != nil {
		return PersonalData{}, err
	}
	sessions, err := a.Sessions.ListSessions(ctx, u.ID)
	if err != nil {
		return PersonalData{}, err
	}
	prefs := make(Preferences, len(NotificationKinds))
	for _, k := range NotificationKinds {
		prefs[k] = recs.Preferences.For(k)
	}
	recs.Preferences = prefs
	u.PasswordHash = ""
	return PersonalData{User: u, Organisation: o, PersonalRecords: recs, Sessions: sessions, ExportedAt: a.Clock.Now()}, nil
}

// ErrLastAdmin refuses an erasure that would leave an organisation with
// no active admin, and so no one to manage its users.
var ErrLastAdmin = Errorf(ECONFLICT, "This user is the last active admin of their organisation; erasing them would leave no one to manage its users. The organisation needs another active admin first.")

// Erase is the operator erasing a user's personal data (UK GDPR, Article
// 17): its name and e-mail are replaced (ErasedName, ErasedEmail), its
// password cleared so that it can never sign in, the user disabled, its
// sessions ended, its notifications, preferences, unsubscribe links and
// unsent e-mails deleted, and the address of the e-mails kept replaced.
// The organisation's records (questions, bids, scores) stay, naming the
// user by ID only, as does the audit trail, which records the erasure as
// "user.erased" with the reason. The reason stays in the trail for good,
// so it may not hold the user's name or e-mail.
//
// EFORBIDDEN for anyone but the operator; EINVALID naming "reason";
// ENOTFOUND; ECONFLICT for the operator itself, a user already erased,
// or the last active admin of an organisation (ErrLastAdmin).
func (a *Accounts) Erase(ctx context.Context, p *Principal, userID, reason string) (User, error) {
	if err := RequireOperator(p); err != nil {
		return User{}, err
	}
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return User{}, Invalid("reason", "must say why the user is erased, such as the erasure request's reference")
	case len([]rune(reason)) > MaxErasureReasonLen:
		return User{}, Invalid("reason", "must be at most %d characters", MaxErasureReasonLen)
	}
	u, err := a.Users.GetUser(ctx, userID)
	if ErrorCode(err) == ENOTFOUND {
		return User{}, Errorf(ENOTFOUND, "No such user.")
	} else if err != nil {
		return User{}, err
	}
	switch {
	case u.ID == p.UserID:
		return User{}, Errorf(ECONFLICT, "You cannot erase yourself; another operator must.")
	case u.Erased():
		return User{}, Errorf(ECONFLICT, "This user has already been erased.")
	case mentions(reason, u.Name) || mentions(reason, u.Email):
		return User{}, Invalid("reason", "must not contain the user's name or e-mail address: the reason is kept in the audit trail for good")
	}
	activeAdmin := u.Admin && u.Status == UserActive
	lastAdmin := false
	if activeAdmin {
		users, err := a.Users.ListUsers(ctx, u.OrganisationID)
		if err != nil {
			return User{}, err
		}
		lastAdmin = true
		for _, o := range users {
			if o.ID != u.ID && o.Admin && o.Status == UserActive {
				lastAdmin = false
			}
		}
	}
	if lastAdmin {
		return User{}, ErrLastAdmin
	}
	ev := AuditEvent{
		ActorUser: p.UserID, ActorOrg: p.OrganisationID, ObjectType: "user", ObjectID: u.ID,
		Action: "user.erased", Detail: map[string]string{"organisation_id": u.OrganisationID, "reason": reason},
	}
	return a.Users.EraseUser(ctx, u.ID, activeAdmin, ev)
}

// mentions reports whether text contains s, ignoring case and spacing at
// its ends. An s of fewer than three characters is never looked for: it
// would be found inside ordinary words.
func mentions(text, s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return len([]rune(s)) >= 3 && strings.Contains(strings.ToLower(text), s)
}

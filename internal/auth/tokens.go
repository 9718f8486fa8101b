package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"
)

// Token limits.
const (
	// MaxAccessTokenLen bounds what VerifyAccess will parse; csmarket's own
	// tokens are about 400 bytes.
	MaxAccessTokenLen = 4096

	// Leeway is the clock skew tolerated between the replica that signed a
	// token and the one checking it, on exp, nbf and iat.
	Leeway = 30 * time.Second

	// VerifiedMemoSize bounds how many verified access tokens one Tokens
	// remembers (a few hundred bytes each): enough for every user active
	// within a token's lifetime on a busy replica.
	VerifiedMemoSize = 16_384

	// RefreshPrefix starts every refresh token, so that one is recognised
	// at a glance (and by secret scanners) and never parsed as a JWT.
	RefreshPrefix = "csr_"
)

var (
	errInvalidToken = market.Errorf(market.EUNAUTHORIZED, "The access token is not valid; sign in again.")
	errExpiredToken = market.Errorf(market.EUNAUTHORIZED, "The access token has expired; refresh it or sign in again.")
)

// Tokens signs access tokens as EdDSA JWTs with the newest key of a
// KeySet and checks them against all its keys. It implements
// market.Tokens and is safe for concurrent use.
type Tokens struct {
	ks       *KeySet
	issuer   string
	audience string

	// verified remembers the claims of access tokens whose signature and
	// claims were checked, by the SHA-256 of the whole token, so that a
	// client's next request skips the Ed25519 verification (most of the
	// cost of signing a request in). The signature of a given string never
	// changes verdict and the key set never changes while the process
	// runs, so this is safe; the times are still checked against now on
	// every use, and a token that was refused is never remembered.
	verified *lru.Cache[[sha256.Size]byte, verifiedToken]
}

// verifiedToken is what VerifyAccess remembers of a verified token: its
// claims, and its not-before time (zero when it has none).
type verifiedToken struct {
	claims    market.AccessClaims
	notBefore time.Time
}

var _ market.Tokens = (*Tokens)(nil)

// NewTokens returns tokens issued by issuer for audience, both of which a
// token must carry to be accepted.
func NewTokens(ks *KeySet, issuer, audience string) *Tokens {
	return newTokens(ks, issuer, audience, VerifiedMemoSize)
}

// newTokens is NewTokens remembering at most memo verified tokens.
func newTokens(ks *KeySet, issuer, audience string, memo int) *Tokens {
	verified, _ := lru.New[[sha256.Size]byte, verifiedToken](memo)
	return &Tokens{ks: ks, issuer: issuer, audience: audience, verified: verified}
}

// claims is an access token's payload. aud is always a JSON array (the
// golang-jwt default).
type claims struct {
	Org  string `json:"org"`
	Role string `json:"role"`
	jwt.RegisteredClaims
}

// IssueAccess signs c, with nbf equal to iat.
func (t *Tokens) IssueAccess(c market.AccessClaims) (string, error) {
	if c.ID == "" || c.UserID == "" || c.OrganisationID == "" || c.Role == "" {
		return "", errors.New("auth: access claims need an ID, user, organisation and role")
	}
	if !c.ExpiresAt.After(c.IssuedAt) {
		return "", errors.New("auth: access claims expire before they are issued")
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims{
		Org:  c.OrganisationID,
		Role: string(c.Role),
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   c.UserID,
			Audience:  jwt.ClaimStrings{t.audience},
			ExpiresAt: jwt.NewNumericDate(c.ExpiresAt),
			NotBefore: jwt.NewNumericDate(c.IssuedAt),
			IssuedAt:  jwt.NewNumericDate(c.IssuedAt),
			ID:        c.ID,
		},
	})
	tok.Header["kid"] = t.ks.signerKID
	s, err := tok.SignedString(t.ks.signer)
	if err != nil {
		return "", fmt.Errorf("auth: sign access token: %w", err)
	}
	return s, nil
}

// VerifyAccess accepts only a compact JWT signed with EdDSA by a key of the
// set named by its kid, typed JWT, from this issuer for this audience,
// carrying sub, org, role and jti, issued and valid at now (give or take
// Leeway) and not expired. Any other token, including a refresh token, is
// EUNAUTHORIZED with a message that does not say which check failed,
// except that an expired token says so, so that the client knows to
// refresh.
//
// A token verified before is recognised by its hash and only its times
// are checked again, with the same rules and leeway as the parser's.
func (t *Tokens) VerifyAccess(token string, now time.Time) (market.AccessClaims, error) {
	if token == "" || len(token) > MaxAccessTokenLen {
		return market.AccessClaims{}, errInvalidToken
	}
	sum := sha256.Sum256([]byte(token))
	if v, ok := t.verified.Get(sum); ok {
		return v.check(now)
	}
	c, err := t.verifyAccess(token, now)
	if err == nil {
		t.verified.Add(sum, c)
	}
	return c.claims, err
}

// check applies the parser's time rules to a remembered token: expired
// once now is Leeway past exp; not yet valid while now is more than Leeway
// before nbf or iat. Expiry is reported first, as the parser does.
func (v verifiedToken) check(now time.Time) (market.AccessClaims, error) {
	if !now.Before(v.claims.ExpiresAt.Add(Leeway)) {
		return market.AccessClaims{}, errExpiredToken
	}
	if now.Before(v.claims.IssuedAt.Add(-Leeway)) || (!v.notBefore.IsZero() && now.Before(v.notBefore.Add(-Leeway))) {
		return market.AccessClaims{}, errInvalidToken
	}
	return v.claims, nil
}

// verifyAccess is VerifyAccess without the memo: the signature and every
// claim checked by the parser.
func (t *Tokens) verifyAccess(token string, now time.Time) (verifiedToken, error) {
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(t.audience),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithStrictDecoding(),
	)
	var c claims
	_, err := p.ParseWithClaims(token, &c, t.key)
	if errors.Is(err, jwt.ErrTokenExpired) {
		return verifiedToken{}, errExpiredToken
	} else if err != nil {
		return verifiedToken{}, errInvalidToken
	}
	if c.Subject == "" || c.Org == "" || c.ID == "" || !knownRole(market.Role(c.Role)) || c.IssuedAt == nil {
		return verifiedToken{}, errInvalidToken
	}
	v := verifiedToken{claims: market.AccessClaims{
		ID:             c.ID,
		UserID:         c.Subject,
		OrganisationID: c.Org,
		Role:           market.Role(c.Role),
		IssuedAt:       c.IssuedAt.UTC(),
		ExpiresAt:      c.ExpiresAt.UTC(),
	}}
	if c.NotBefore != nil {
		v.notBefore = c.NotBefore.UTC()
	}
	return v, nil
}

// key finds the verifying key by the token's kid. It runs after the
// parser has checked alg against WithValidMethods.
func (t *Tokens) key(tok *jwt.Token) (any, error) {
	if typ, ok := tok.Header["typ"].(string); !ok || typ != "JWT" {
		return nil, errors.New("typ is not JWT")
	}
	kid, ok := tok.Header["kid"].(string)
	if !ok {
		return nil, errors.New("no kid")
	}
	pub, ok := t.ks.public[kid]
	if !ok {
		return nil, errors.New("unknown kid")
	}
	return ed25519.PublicKey(pub), nil
}

func knownRole(r market.Role) bool {
	switch r {
	case market.RoleBuyer, market.RoleEvaluator, market.RoleSupplier, market.RoleOperator:
		return true
	}
	return false
}

// NewRefresh returns a refresh token of 256 random bits, prefixed with
// RefreshPrefix, and its hash (see HashRefresh).
func (t *Tokens) NewRefresh() (token, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("auth: refresh token: %w", err)
	}
	token = RefreshPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, t.HashRefresh(token), nil
}

// HashRefresh is the hex SHA-256 of a refresh token, the only form in which
// it is stored. A fast hash is right here, unlike for passwords: the token
// holds 256 random bits, so no guessing of the input is feasible however
// fast each guess is, and a slow hash would only slow every refresh. A
// leaked table of hashes cannot be turned back into usable tokens.
func (t *Tokens) HashRefresh(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

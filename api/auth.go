package api

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/ratelimit"
)

// keyPrincipal holds the request's *market.Principal in the Gin context,
// set by authenticate for the handlers after it.
const keyPrincipal = "csm.principal"

// WWW-Authenticate challenges (RFC 6750): every 401 carries one, and a
// token that was sent but refused says so, so that a client knows to
// refresh rather than to ask for a password.
var (
	challenge             = []string{`Bearer realm="csmarket"`}
	challengeInvalidToken = []string{`Bearer error="invalid_token"`}
)

var (
	errBadAuthorization = market.Errorf(market.EUNAUTHORIZED, "The Authorization header must be 'Bearer <access token>'.")
	errRateLimited      = market.Errorf(market.ERATELIMITED, "Too many requests; wait as long as Retry-After says, then try again.")
)

// accountRoutes mounts registration, sign-in and the routes that act for
// a signed-in user.
func (s *server) accountRoutes(e *gin.Engine, v1 *gin.RouterGroup) {
	if len(s.jwks) == 0 {
		s.jwks = emptyJWKS
	}
	s.jwksETag = cache.ETag(s.jwks)
	e.GET("/.well-known/jwks.json", s.getJWKS)

	a := v1.Group("/auth")
	a.POST("/register", s.register)
	a.POST("/login", s.login)
	a.POST("/refresh", s.refresh)
	a.POST("/logout", s.logout)

	user := v1.Group("", s.authenticate, s.requireUser)
	user.GET("/me", s.me)
	user.GET("/me/export", s.exportMe)
	user.PUT("/providers/:id", s.updateListing)
	user.GET("/organisations/:id/users", s.listUsers)
	user.POST("/organisations/:id/users", s.addUser)
	user.PATCH("/users/:id", s.setUserStatus)

	op := user.Group("/operator", s.requireOperator)
	op.GET("/organisations", s.listOrganisations)
	op.POST("/organisations/:id/approve", s.setOrganisationStatus(market.StatusActive))
	op.POST("/organisations/:id/enable", s.setOrganisationStatus(market.StatusActive))
	op.POST("/organisations/:id/disable", s.setOrganisationStatus(market.StatusDisabled))
	op.POST("/users/:id/erase", s.eraseUser)
}

// authenticate turns the request's bearer token into its principal. A
// request without an Authorization header is anonymous; one whose header
// is malformed or whose token is refused is answered 401 at once, never
// served as anonymous, so that a client with a stale token learns of it.
// A signed-in user's requests count against the token limit.
func (s *server) authenticate(c *gin.Context) {
	h := c.Request.Header["Authorization"]
	if len(h) == 0 {
		return
	}
	token, ok := bearerToken(h)
	if !ok {
		s.refuseToken(c, errBadAuthorization)
		return
	}
	p, err := s.accounts.Authenticate(c.Request.Context(), token)
	if err != nil {
		s.refuseToken(c, err)
		return
	}
	if !s.allow(c, s.tokenLimit, "token:"+p.UserID) {
		return
	}
	c.Set(keyPrincipal, p)
}

func (s *server) refuseToken(c *gin.Context, err error) {
	if market.ErrorCode(err) == market.EUNAUTHORIZED {
		c.Writer.Header()["Www-Authenticate"] = challengeInvalidToken
	}
	s.fail(c, err)
}

// bearerToken returns the token of a single "Bearer <token>" header; the
// scheme is case-insensitive (RFC 9110, 11.1).
func bearerToken(h []string) (string, bool) {
	if len(h) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(h[0], " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

// principal returns the caller authenticate found, or nil for anonymous.
func principal(c *gin.Context) *market.Principal {
	v, _ := c.Get(keyPrincipal)
	p, _ := v.(*market.Principal)
	return p
}

// requireUser refuses an anonymous caller before its request is read, by
// the market's rule.
func (s *server) requireUser(c *gin.Context) {
	if err := market.RequireUser(principal(c)); err != nil {
		s.fail(c, err)
	}
}

// requireOperator refuses anyone but the operator before the request is
// read, by the market's rule.
func (s *server) requireOperator(c *gin.Context) {
	if err := market.RequireOperator(principal(c)); err != nil {
		s.fail(c, err)
	}
}

// allow counts one event under each key against l and answers 429 with
// Retry-After when any of them is over. Every key is counted even when an
// earlier one is over, so that an attacker spreading guesses over many
// accounts from one address is still counted at that address.
func (s *server) allow(c *gin.Context, l ratelimit.Limit, keys ...string) bool {
	if s.limiter == nil || l.Events <= 0 || l.Per <= 0 {
		return true
	}
	ok := true
	var wait time.Duration
	for _, k := range keys {
		if allowed, retry := s.limiter.Allow(c.Request.Context(), k, l); !allowed {
			ok = false
			wait = max(wait, retry)
		}
	}
	if ok {
		return true
	}
	secs := int64(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	c.Writer.Header()["Retry-After"] = []string{strconv.FormatInt(secs, 10)}
	s.fail(c, errRateLimited)
	return false
}

// loginKeys are the rate-limit keys of a sign-in: the account, by its
// normalized e-mail (hashed when too long to be one, so that a key stays
// small whatever is posted), and the client's address.
func loginKeys(email, addr string) []string {
	email = market.NormalizeEmail(email)
	if len(email) > 254 {
		sum := sha256.Sum256([]byte(email))
		email = "sha256:" + hex.EncodeToString(sum[:])
	}
	return []string{"login:account:" + email, "login:addr:" + addr}
}

type registerRequest struct {
	Organisation organisationRequest `json:"organisation"`
	User         registerUserRequest `json:"user"`
	Listing      *listingRequest     `json:"listing,omitempty"`
}

type organisationRequest struct {
	Kind                             string              `json:"kind"`
	Name                             string              `json:"name"`
	Sector                           string              `json:"sector"`
	Identifiers                      []identifierRequest `json:"identifiers"`
	Regions                          []string            `json:"regions"`
	Population                       int64               `json:"population"`
	RunningCostAllowancePerHeadPence int64               `json:"running_cost_allowance_per_head_pence"`
}

type identifierRequest struct {
	Scheme string `json:"scheme"`
	ID     string `json:"id"`
}

// registerUserRequest has no role: the first user takes its
// organisation's.
type registerUserRequest struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

type registerResponse struct {
	Organisation organisationResponse `json:"organisation"`
	User         userResponse         `json:"user"`
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

func fromOrganisationRequest(r organisationRequest) market.Organisation {
	ids := make([]market.Identifier, len(r.Identifiers))
	for i, id := range r.Identifiers {
		ids[i] = market.Identifier{Scheme: id.Scheme, ID: id.ID}
	}
	return market.Organisation{
		Kind: market.OrgKind(r.Kind), Name: r.Name, Sector: market.Sector(r.Sector),
		Identifiers: ids, Regions: r.Regions, Population: r.Population,
		RunningCostAllowancePerHeadPence: r.RunningCostAllowancePerHeadPence,
	}
}

func toTokens(p market.TokenPair) tokenResponse {
	return tokenResponse{
		AccessToken: p.AccessToken, RefreshToken: p.RefreshToken,
		TokenType: "Bearer", ExpiresIn: int64(p.ExpiresIn / time.Second),
	}
}

// register counts against the client address's sign-in budget: each
// registration costs a password hash, and mass sign-ups are an attack too.
func (s *server) register(c *gin.Context) {
	var req registerRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if !s.allow(c, s.loginLimit, "register:addr:"+c.ClientIP()) {
		return
	}
	reg := market.Registration{
		Organisation: fromOrganisationRequest(req.Organisation),
		User:         market.NewUser{Name: req.User.Name, Email: req.User.Email, Password: req.User.Password},
	}
	if req.Listing != nil {
		l := fromListingRequest(*req.Listing)
		reg.Listing = &l
	}
	o, u, err := s.accounts.Register(c.Request.Context(), reg)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Writer.Header()["Location"] = []string{"/api/v1/organisations/" + o.ID + "/users"}
	writePrivate(c, http.StatusCreated, registerResponse{Organisation: toOrganisation(o), User: toUser(u)})
}

// login counts the attempt against the account and the client address
// before the password is checked, so that a refused attempt costs no hash.
func (s *server) login(c *gin.Context) {
	var req loginRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if !s.allow(c, s.loginLimit, loginKeys(req.Email, c.ClientIP())...) {
		return
	}
	pair, err := s.accounts.Login(c.Request.Context(), req.Email, req.Password)
	if err != nil {
		s.fail(c, err)
		return
	}
	writePrivate(c, http.StatusOK, toTokens(pair))
}

func (s *server) refresh(c *gin.Context) {
	var req refreshRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	pair, err := s.accounts.Refresh(c.Request.Context(), req.RefreshToken)
	if err != nil {
		s.fail(c, err)
		return
	}
	writePrivate(c, http.StatusOK, toTokens(pair))
}

func (s *server) logout(c *gin.Context) {
	var req refreshRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if req.RefreshToken == "" {
		s.fail(c, market.Invalid("refresh_token", "is required: the refresh token of the session to end"))
		return
	}
	if err := s.accounts.Logout(c.Request.Context(), req.RefreshToken); err != nil {
		s.fail(c, err)
		return
	}
	c.Writer.Header()["Cache-Control"] = noStore
	c.Writer.WriteHeader(http.StatusNoContent)
	c.Writer.WriteHeaderNow()
}

// jwksCacheControl lets verifiers keep the keys a few minutes: a new key
// is published before it signs, so a short delay costs nothing.
var (
	jwksCacheControl = []string{"public, max-age=300"}
	jwksContentType  = []string{"application/jwk-set+json"}
	emptyJWKS        = []byte(`{"keys":[]}`)
)

func (s *server) getJWKS(c *gin.Context) {
	h := c.Writer.Header()
	h["Etag"] = []string{s.jwksETag}
	h["Cache-Control"] = jwksCacheControl
	if inm := c.Request.Header["If-None-Match"]; len(inm) > 0 && cache.ETagMatches(inm, s.jwksETag) {
		c.Writer.WriteHeader(http.StatusNotModified)
		c.Writer.WriteHeaderNow()
		return
	}
	h["Content-Type"] = jwksContentType
	c.Writer.WriteHeader(http.StatusOK)
	c.Writer.Write(s.jwks)
}

package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/market"
)

type organisationResponse struct {
	ID                               string           `json:"id"`
	Kind                             string           `json:"kind"`
	Name                             string           `json:"name"`
	Status                           string           `json:"status"`
	Sector                           string           `json:"sector,omitempty"`
	Identifiers                      []identifierJSON `json:"identifiers"`
	Regions                          []string         `json:"regions"`
	Population                       int64            `json:"population,omitempty"`
	RunningCostAllowancePerHeadPence int64            `json:"running_cost_allowance_per_head_pence,omitempty"`
	CreatedAt                        string           `json:"created_at"`
	UpdatedAt                        string           `json:"updated_at"`
}

// userResponse is a user as its organisation's admins and the user itself
// see it. It never carries the password hash.
type userResponse struct {
	ID             string `json:"id"`
	OrganisationID string `json:"organisation_id"`
	Name           string `json:"name"`
	Email          string `json:"email"`
	Role           string `json:"role"`
	Admin          bool   `json:"admin"`
	Status         string `json:"status"`
	CreatedAt      string `json:"created_at"`
	UpdatedAt      string `json:"updated_at"`
}

type meResponse struct {
	User                userResponse         `json:"user"`
	Organisation        organisationResponse `json:"organisation"`
	Role                string               `json:"role"`
	UnreadNotifications *int                 `json:"unread_notifications,omitempty"`
}

type addUserRequest struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
	Role     string `json:"role"`
}

type userStatusRequest struct {
	Status string `json:"status"`
}

func toOrganisation(o market.Organisation) organisationResponse {
	ids := make([]identifierJSON, len(o.Identifiers))
	for i, id := range o.Identifiers {
		ids[i] = identifierJSON{Scheme: id.Scheme, ID: id.ID, OrgID: id.String()}
	}
	return organisationResponse{
		ID: o.ID, Kind: string(o.Kind), Name: o.Name, Status: string(o.Status),
		Sector: string(o.Sector), Identifiers: ids, Regions: nonNil(o.Regions),
		Population: o.Population, RunningCostAllowancePerHeadPence: o.RunningCostAllowancePerHeadPence,
		CreatedAt: rfc3339(o.CreatedAt), UpdatedAt: rfc3339(o.UpdatedAt),
	}
}

func toUser(u market.User) userResponse {
	return userResponse{
		ID: u.ID, OrganisationID: u.OrganisationID, Name: u.Name, Email: u.Email,
		Role: string(u.Role), Admin: u.Admin, Status: string(u.Status),
		CreatedAt: rfc3339(u.CreatedAt), UpdatedAt: rfc3339(u.UpdatedAt),
	}
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// writePrivate answers with a response meant for the caller alone: no
// cache, shared or private, may keep it.
func writePrivate(c *gin.Context, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		panic(err) // response types of strings, ints and bools always marshal
	}
	h := c.Writer.Header()
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	c.Writer.WriteHeader(status)
	c.Writer.Write(body)
}

func (s *server) me(c *gin.Context) {
	p := principal(c)
	u, o, err := s.accounts.Me(c.Request.Context(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	r := meResponse{User: toUser(u), Organisation: toOrganisation(o), Role: string(u.Role)}
	if s.inbox != nil {
		n, err := s.inbox.Unread(c.Request.Context(), p)
		if err != nil {
			s.fail(c, err)
			return
		}
		r.UnreadNotifications = &n
	}
	writePrivate(c, http.StatusOK, r)
}

var (
	errNoOrganisation = &market.Error{Code: market.ENOTFOUND, Message: "No such organisation."}
	errNoUser         = &market.Error{Code: market.ENOTFOUND, Message: "No such user."}
)

// pathID returns the :id of the path, or answers 404 for one the store
// could not have given out, so that no odd byte reaches a driver.
func (s *server) pathID(c *gin.Context, notFound error) (string, bool) {
	id := c.Param("id")
	if !plausibleID(id) {
		s.fail(c, notFound)
		return "", false
	}
	return id, true
}

func (s *server) listUsers(c *gin.Context) {
	id, ok := s.pathID(c, errNoOrganisation)
	if !ok {
		return
	}
	users, err := s.accounts.ListUsers(c.Request.Context(), principal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := make([]userResponse, len(users))
	for i, u := range users {
		items[i] = toUser(u)
	}
	writePrivate(c, http.StatusOK, listResponse[userResponse]{Items: items})
}

func (s *server) addUser(c *gin.Context) {
	id, ok := s.pathID(c, errNoOrganisation)
	if !ok {
		return
	}
	var req addUserRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	u, err := s.accounts.AddUser(c.Request.Context(), principal(c), id, market.NewUser{
		Name: req.Name, Email: req.Email, Password: req.Password, Role: market.Role(req.Role),
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Writer.Header()["Location"] = []string{"/api/v1/users/" + u.ID}
	writePrivate(c, http.StatusCreated, toUser(u))
}

func (s *server) setUserStatus(c *gin.Context) {
	id, ok := s.pathID(c, errNoUser)
	if !ok {
		return
	}
	var req userStatusRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	u, err := s.accounts.SetUserStatus(c.Request.Context(), principal(c), id, market.UserStatus(req.Status))
	if err != nil {
		s.fail(c, err)
		return
	}
	writePrivate(c, http.StatusOK, toUser(u))
}

// organisationParams names the query parameters of the operator's
// organisation list.
var organisationParams = []string{"kind", "status", "cursor", "page_size"}

func (s *server) listOrganisations(c *gin.Context) {
	var (
		p market.Problems
		f market.OrganisationFilter
	)
	eachParam(c.Request.URL.RawQuery, organisationParams, &p, func(name, v string) {
		switch name {
		case "kind":
			f.Kind = market.OrgKind(v)
		case "status":
			f.Status = market.OrgStatus(v)
		case "cursor":
			if keys, err := market.DecodeCursor(v); err == nil && !plainKeys(keys) {
				p.Add("cursor", "is not a cursor this API gave out")
				return
			}
			f.Cursor = v
		case "page_size":
			n, err := strconv.Atoi(v)
			if err != nil {
				p.Add("page_size", "must be an integer")
				return
			}
			if n < 1 {
				p.Add("page_size", "must be between 1 and %d", market.MaxPageSize)
				return
			}
			f.PageSize = n
		}
	})
	if err := p.Err(); err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.accounts.ListOrganisations(c.Request.Context(), principal(c), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := make([]organisationResponse, len(page.Items))
	for i, o := range page.Items {
		items[i] = toOrganisation(o)
	}
	writePrivate(c, http.StatusOK, listResponse[organisationResponse]{Items: items, NextCursor: page.NextCursor})
}

// setOrganisationStatus is the operator approving, disabling or
// re-enabling an organisation.
func (s *server) setOrganisationStatus(status market.OrgStatus) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := s.pathID(c, errNoOrganisation)
		if !ok {
			return
		}
		o, err := s.accounts.SetOrganisationStatus(c.Request.Context(), principal(c), id, status)
		if err != nil {
			s.fail(c, err)
			return
		}
		writePrivate(c, http.StatusOK, toOrganisation(o))
	}
}

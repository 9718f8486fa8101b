package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/market"
)

// listingRequest is a supplier's listing as it registers or edits it: the
// provider's fields that are the listing's own.
type listingRequest struct {
	Summary         string             `json:"summary"`
	Capabilities    []string           `json:"capabilities"`
	Regions         []string           `json:"regions"`
	Size            string             `json:"size"`
	Accreditations  []string           `json:"accreditations"`
	DayRateMinPence int64              `json:"day_rate_min_pence"`
	DayRateMaxPence int64              `json:"day_rate_max_pence"`
	CaseStudies     []caseStudyRequest `json:"case_studies"`
	Contact         contactRequest     `json:"contact"`
}

type caseStudyRequest struct {
	Title   string `json:"title"`
	Client  string `json:"client"`
	Summary string `json:"summary"`
}

type contactRequest struct {
	Name    string `json:"name"`
	Email   string `json:"email"`
	Phone   string `json:"phone"`
	Website string `json:"website"`
}

func fromListingRequest(r listingRequest) market.Listing {
	cases := make([]market.CaseStudy, len(r.CaseStudies))
	for i, cs := range r.CaseStudies {
		cases[i] = market.CaseStudy{Title: cs.Title, Client: cs.Client, Summary: cs.Summary}
	}
	return market.Listing{
		Summary: r.Summary, Capabilities: r.Capabilities, Regions: r.Regions,
		Size: market.Size(r.Size), Accreditations: r.Accreditations,
		DayRateMinPence: r.DayRateMinPence, DayRateMaxPence: r.DayRateMaxPence,
		CaseStudies: cases,
		Contact: market.Contact{
			Name: r.Contact.Name, Email: r.Contact.Email, Phone: r.Contact.Phone, Website: r.Contact.Website,
		},
	}
}

// codePreconditionRequired is the HTTP layer's answer to an update that
// would overwrite a listing without saying which version it replaces.
const codePreconditionRequired = "precondition_required"

var (
	errIfMatchRequired = &market.Error{Code: codePreconditionRequired,
		Message: "Send If-Match with the ETag of GET /api/v1/providers/{id}, so that no one else's edit is overwritten."}
	errIfMatchStale = &market.Error{Code: market.EPRECONDITION,
		Message: "The listing has changed since the ETag in If-Match; get it again, reapply the edit and retry."}
)

// staleVersion is a version no listing has: passing it lets the market
// decide who may edit (401, 403, 400 come first) while the store is sure
// to refuse the write as stale.
const staleVersion = -1

// updateListing replaces the caller's own listing. The current ETag is
// computed as GET /api/v1/providers/{id} computes it, from the store and
// not the cache, and compared strongly with If-Match. Every supplier has a
// listing from registration (an empty one until its first edit), so
// If-Match is always required. Every outcome is the market's to decide;
// the precondition only chooses the version it is given, and which of 412
// and 428 a stale version is answered with.
func (s *server) updateListing(c *gin.Context) {
	id, ok := s.pathID(c, errNoProvider)
	if !ok {
		return
	}
	var req listingRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	var (
		exists  bool
		etag    string
		version int64
	)
	cur, err := s.providers.GetProvider(ctx, id)
	switch market.ErrorCode(err) {
	case "":
		body, err := json.Marshal(toProvider(cur))
		if err != nil {
			s.fail(c, err)
			return
		}
		exists, etag, version = true, cache.ETag(body), cur.Listing.Version
	case market.ENOTFOUND:
	default:
		s.fail(c, err)
		return
	}
	var refused error
	switch ifMatch := c.Request.Header["If-Match"]; {
	case len(ifMatch) == 0:
		refused, version = errIfMatchRequired, staleVersion
	case !exists || !ifMatchList(ifMatch, etag):
		refused, version = errIfMatchStale, staleVersion
	}
	p, err := s.accounts.UpdateListing(ctx, principal(c), id, fromListingRequest(req), version)
	if err != nil {
		if code := market.ErrorCode(err); refused != nil && (code == market.EPRECONDITION || code == market.ENOTFOUND) {
			err = refused
		}
		s.fail(c, err)
		return
	}
	body, err := json.Marshal(toProvider(p))
	if err != nil {
		s.fail(c, err)
		return
	}
	h := c.Writer.Header()
	h["Etag"] = []string{cache.ETag(body)}
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	c.Writer.WriteHeader(http.StatusOK)
	c.Writer.Write(body)
}

// ifMatchList reports whether any If-Match value matches etag by strong
// comparison (RFC 9110, 13.1.1): "*", or a listed tag that is the same and
// not weak.
func ifMatchList(values []string, etag string) bool {
	for _, v := range values {
		for v != "" {
			var tag string
			tag, v, _ = strings.Cut(v, ",")
			tag = strings.TrimSpace(tag)
			if tag == "*" || (plainETag(tag) == etag && !strings.HasPrefix(tag, "W/")) {
				return true
			}
		}
	}
	return false
}

package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/market"
)

// ownTenderParams names the query parameters of GET /api/v1/me/tenders.
var ownTenderParams = []string{"status", "cursor", "page_size"}

// parseOwnTenderFilter reads GET /api/v1/me/tenders's query, naming each
// bad parameter.
func parseOwnTenderFilter(raw string) (market.OwnTenderFilter, error) {
	var (
		f market.OwnTenderFilter
		p market.Problems
	)
	eachParam(raw, ownTenderParams, &p, func(name, v string) {
		switch name {
		case "status":
			f.Status = market.TenderStatus(v)
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
			} else if n < 1 || n > market.MaxPageSize {
				p.Add("page_size", "must be between 1 and %d", market.MaxPageSize)
			} else {
				f.PageSize = n
			}
		}
	})
	if err := p.Err(); err != nil {
		return f, err
	}
	return f, f.Normalize()
}

// listOwnTenders is GET /api/v1/me/tenders: the tenders of the caller's
// CCG (lead or joint) in every status, or an evaluator's assigned ones,
// newest first, paged by cursor. Private.
func (s *server) listOwnTenders(c *gin.Context) {
	f, err := parseOwnTenderFilter(c.Request.URL.RawQuery)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	p := principal(c)
	page, err := s.tenders.ListOwnTenders(ctx, p, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	list, _, err := s.toTenderList(ctx, page, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	writePrivate(c, http.StatusOK, list)
}

package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/market"
)

// bidRequest is a supplier's offer: the total price and a response per
// quality criterion, by the criterion's key.
type bidRequest struct {
	PricePence int64             `json:"price_pence"`
	Responses  map[string]string `json:"responses"`
}

// bidResponse is a bid as the market lets the caller see it: its own
// organisation's at any time, and the commissioners' after the deadline.
// Bids are private to their readers: never cached, anywhere.
type bidResponse struct {
	ID          string            `json:"id"`
	TenderID    string            `json:"tender_id"`
	Supplier    supplierJSON      `json:"supplier"`
	Status      string            `json:"status"`
	Version     int               `json:"version"`
	PricePence  int64             `json:"price_pence"`
	Responses   map[string]string `json:"responses"`
	SubmittedAt string            `json:"submitted_at"`
	UpdatedAt   string            `json:"updated_at"`
	WithdrawnAt string            `json:"withdrawn_at,omitempty"`
	Versions    []bidVersionJSON  `json:"versions,omitempty"`
}

type supplierJSON struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Sector string `json:"sector,omitempty"`
}

// bidVersionJSON is one submission or revision of a bid, kept when the
// next replaces it.
type bidVersionJSON struct {
	Version    int               `json:"version"`
	PricePence int64             `json:"price_pence"`
	Responses  map[string]string `json:"responses"`
	At         string            `json:"at"`
}

func (s *server) toBid(ctx context.Context, names *orgNames, b market.Bid, versions []market.Bid) (bidResponse, error) {
	o, err := names.get(ctx, b.SupplierID)
	if err != nil {
		return bidResponse{}, err
	}
	r := bidResponse{
		ID: b.ID, TenderID: b.TenderID,
		Supplier: supplierJSON{ID: b.SupplierID, Name: o.Name, Sector: string(o.Sector)},
		Status:   string(b.Status), Version: b.Version, PricePence: b.PricePence, Responses: nonNilMap(b.Responses),
		SubmittedAt: rfc3339Milli(b.SubmittedAt), UpdatedAt: rfc3339Milli(b.UpdatedAt), WithdrawnAt: rfc3339Milli(b.WithdrawnAt),
	}
	for _, v := range versions {
		r.Versions = append(r.Versions, bidVersionJSON{
			Version: v.Version, PricePence: v.PricePence, Responses: nonNilMap(v.Responses), At: rfc3339Milli(v.UpdatedAt),
		})
	}
	return r, nil
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// bidPath returns the tender and bid IDs of the path, or answers 404.
func (s *server) bidPath(c *gin.Context) (string, string, bool) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return "", "", false
	}
	bid := c.Param("bid")
	if !plausibleID(bid) {
		s.fail(c, errNoBid)
		return "", "", false
	}
	return id, bid, true
}

func (s *server) writeBid(c *gin.Context, status int, b market.Bid, versions []market.Bid) {
	r, err := s.toBid(c.Request.Context(), s.newOrgNames(), b, versions)
	if err != nil {
		s.fail(c, err)
		return
	}
	writePrivate(c, status, r)
}

func (s *server) submitBid(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	var req bidRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	b, err := s.tenders.SubmitBid(c.Request.Context(), principal(c), id, req.PricePence, req.Responses)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Writer.Header()["Location"] = []string{"/api/v1/tenders/" + id + "/bids/" + b.ID}
	s.writeBid(c, http.StatusCreated, b, nil)
}

func (s *server) listBids(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	bids, err := s.tenders.ListBids(ctx, principal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	names := s.newOrgNames()
	items := make([]bidResponse, len(bids))
	for i, b := range bids {
		if items[i], err = s.toBid(ctx, names, b, nil); err != nil {
			s.fail(c, err)
			return
		}
	}
	writePrivate(c, http.StatusOK, listResponse[bidResponse]{Items: items})
}

func (s *server) getBid(c *gin.Context) {
	id, bid, ok := s.bidPath(c)
	if !ok {
		return
	}
	b, versions, err := s.tenders.GetBid(c.Request.Context(), principal(c), id, bid)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeBid(c, http.StatusOK, b, versions)
}

func (s *server) reviseBid(c *gin.Context) {
	id, bid, ok := s.bidPath(c)
	if !ok {
		return
	}
	var req bidRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	b, err := s.tenders.ReviseBid(c.Request.Context(), principal(c), id, bid, req.PricePence, req.Responses)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeBid(c, http.StatusOK, b, nil)
}

func (s *server) withdrawBid(c *gin.Context) {
	id, bid, ok := s.bidPath(c)
	if !ok {
		return
	}
	b, err := s.tenders.WithdrawBid(c.Request.Context(), principal(c), id, bid)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeBid(c, http.StatusOK, b, nil)
}

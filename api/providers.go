package api

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/market"
)

// providerResponse is one entry of the directory. A supplier that has not
// written its listing yet has an empty one: the listing's fields are
// empty, and size, which it has not chosen, is left out.
type providerResponse struct {
	ID              string           `json:"id"`
	Name            string           `json:"name"`
	Sector          string           `json:"sector"`
	Identifiers     []identifierJSON `json:"identifiers"`
	Regions         []string         `json:"regions"`
	Summary         string           `json:"summary"`
	Capabilities    []string         `json:"capabilities"`
	Size            string           `json:"size,omitempty"`
	Accreditations  []string         `json:"accreditations"`
	DayRateMinPence int64            `json:"day_rate_min_pence"`
	DayRateMaxPence int64            `json:"day_rate_max_pence"`
	CaseStudies     []caseStudyJSON  `json:"case_studies"`
	Contact         contactJSON      `json:"contact"`
	Version         int64            `json:"version"`
	UpdatedAt       string           `json:"updated_at"`
}

type identifierJSON struct {
	Scheme string `json:"scheme"`
	ID     string `json:"id"`
	OrgID  string `json:"org_id"`
}

type caseStudyJSON struct {
	Title   string `json:"title"`
	Client  string `json:"client"`
	Summary string `json:"summary"`
}

type contactJSON struct {
	Name    string `json:"name,omitempty"`
	Email   string `json:"email,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Website string `json:"website,omitempty"`
}

func toProvider(p market.Provider) providerResponse {
	o, l := p.Organisation, p.Listing
	ids := make([]identifierJSON, len(o.Identifiers))
	for i, id := range o.Identifiers {
		ids[i] = identifierJSON{Scheme: id.Scheme, ID: id.ID, OrgID: id.String()}
	}
	cases := make([]caseStudyJSON, len(l.CaseStudies))
	for i, cs := range l.CaseStudies {
		cases[i] = caseStudyJSON{Title: cs.Title, Client: cs.Client, Summary: cs.Summary}
	}
	regions := l.Regions
	if len(regions) == 0 {
		regions = o.Regions
	}
	updated := l.UpdatedAt
	if updated.IsZero() {
		updated = o.UpdatedAt
	}
	return providerResponse{
		ID:              o.ID,
		Name:            o.Name,
		Sector:          string(o.Sector),
		Identifiers:     ids,
		Regions:         nonNil(regions),
		Summary:         l.Summary,
		Capabilities:    nonNil(l.Capabilities),
		Size:            string(l.Size),
		Accreditations:  nonNil(l.Accreditations),
		DayRateMinPence: l.DayRateMinPence,
		DayRateMaxPence: l.DayRateMaxPence,
		CaseStudies:     cases,
		Contact: contactJSON{
			Name:    l.Contact.Name,
			Email:   l.Contact.Email,
			Phone:   l.Contact.Phone,
			Website: l.Contact.Website,
		},
		Version:   l.Version,
		UpdatedAt: updated.UTC().Format(time.RFC3339),
	}
}

func toProviderList(page market.ProviderPage) listResponse[providerResponse] {
	items := make([]providerResponse, len(page.Items))
	for i, p := range page.Items {
		items[i] = toProvider(p)
	}
	return listResponse[providerResponse]{Items: items, NextCursor: page.NextCursor}
}

// nonNil makes an absent list render as [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *server) listProviders(c *gin.Context) {
	f, err := parseProviderFilter(c.Request.URL.RawQuery)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.serveCached(c, cache.NSProviders, providersKey(f), func(ctx context.Context) ([]byte, error) {
		page, err := s.providers.ListProviders(ctx, f)
		if err != nil {
			return nil, err
		}
		return json.Marshal(toProviderList(page))
	})
}

// errNoProvider answers an ID that cannot name a provider without asking
// the store, so that no odd byte in a path reaches a driver.
var errNoProvider = &market.Error{Code: market.ENOTFOUND, Message: "No such provider."}

func (s *server) getProvider(c *gin.Context) {
	id := c.Param("id")
	if !plausibleID(id) {
		s.fail(c, errNoProvider)
		return
	}
	// Only found providers are cached: an unknown ID asks the store each
	// time, so that a provider is served the moment it exists.
	s.serveCached(c, cache.NSProviders, "provider/"+id, func(ctx context.Context) ([]byte, error) {
		p, err := s.providers.GetProvider(ctx, id)
		if err != nil {
			return nil, err
		}
		return json.Marshal(toProvider(p))
	})
}

// plausibleID reports whether id could be an ID the store gave out: 1 to 64
// letters, digits, hyphens or underscores.
func plausibleID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9', b == '-', b == '_':
		default:
			return false
		}
	}
	return true
}

// providerParams names the query parameters of GET /api/v1/providers, in
// the order a client is told about them. Any other parameter is ignored.
var providerParams = [...]string{"q", "sector", "capability", "region", "size", "cursor", "page_size"}

// parseProviderFilter reads the directory's query string into a normalized
// filter. It reads the raw query itself rather than through url.Values so
// that a repeated or badly escaped parameter is an error naming it, not a
// silent choice of one value, and so that the common request allocates
// nothing. An empty value is the same as an absent parameter.
func parseProviderFilter(raw string) (market.ProviderFilter, error) {
	var (
		f    market.ProviderFilter
		p    market.Problems
		seen [len(providerParams)]int
	)
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		i := paramIndex(name)
		if i < 0 {
			continue
		}
		seen[i]++
		if seen[i] == 2 {
			p.Add(name, "must be given at most once")
		}
		if seen[i] > 1 {
			continue
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			p.Add(name, "is not valid URL encoding")
			continue
		}
		if val == "" {
			continue
		}
		switch name {
		case "q":
			if !plainText(val) {
				p.Add("q", "must be UTF-8 text without control characters")
				continue
			}
			f.Q = val
		case "sector":
			f.Sector = market.Sector(val)
		case "capability":
			f.Capability = val
		case "region":
			f.Region = val
		case "size":
			f.Size = market.Size(val)
		case "cursor":
			f.Cursor = val
			if keys, err := market.DecodeCursor(val); err == nil && !plainKeys(keys) {
				p.Add("cursor", "is not a cursor this API gave out")
				f.Cursor = ""
			}
		case "page_size":
			n, err := strconv.Atoi(val)
			if err != nil {
				p.Add("page_size", "must be an integer")
			} else if n < 1 || n > market.MaxPageSize {
				p.Add("page_size", "must be between 1 and %d", market.MaxPageSize)
			} else {
				f.PageSize = n
			}
		}
	}
	if err := f.Normalize(); err != nil {
		p = append(p, market.ErrorFields(err)...)
	}
	return f, p.Err()
}

func paramIndex(name string) int {
	for i, n := range providerParams {
		if n == name {
			return i
		}
	}
	return -1
}

// plainText reports whether s is valid UTF-8 without control characters,
// which no search needs and some engines reject (PostgreSQL refuses NUL).
func plainText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func plainKeys(keys []string) bool {
	for _, k := range keys {
		if !utf8.ValidString(k) || strings.IndexByte(k, 0) >= 0 {
			return false
		}
	}
	return true
}

// providersKey names a directory page in the cache by its normalized
// filter, so that the same search asked in any parameter order, or with
// parameters csmarket ignores, shares one entry. The free-text query comes
// last so that no value can pose as another field.
func providersKey(f market.ProviderFilter) string {
	return "list?s=" + string(f.Sector) + "&c=" + f.Capability + "&r=" + f.Region +
		"&z=" + string(f.Size) + "&n=" + strconv.Itoa(f.PageSize) + "&k=" + f.Cursor + "&q=" + f.Q
}

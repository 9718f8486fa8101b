package market

import (
	"context"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Listing is a supplier's public profile in the directory.
type Listing struct {
	Summary         string
	Capabilities    []string // capability keys
	Regions         []string // region keys
	Size            Size
	Accreditations  []string // e.g. "ISO 27001", "Cyber Essentials Plus"
	DayRateMinPence int64
	DayRateMaxPence int64
	CaseStudies     []CaseStudy
	Contact         Contact

	// Version counts the listing's updates; it is the base of its ETag and
	// is checked against If-Match on update.
	Version   int64
	UpdatedAt time.Time
}

// EmptyListing is the listing a supplier has from registration until it
// writes its own: the organisation's regions, so that the directory's
// region filter finds it, and nothing else (no summary, capabilities or
// size). It is stored as any listing is, at version 1, so that a new
// supplier is in the directory at once and its first edit is an If-Match
// update like every later one.
func EmptyListing(o Organisation) Listing {
	return Listing{Regions: slices.Clone(o.Regions)}
}

// CaseStudy is a piece of work a supplier points buyers to.
type CaseStudy struct {
	Title   string
	Client  string
	Summary string
}

// Contact is how a buyer reaches a supplier.
type Contact struct {
	Name    string
	Email   string
	Phone   string
	Website string
}

// Limits on listing content, so one listing cannot swamp a page or the store.
const (
	MaxSummaryLen     = 4000
	MaxAccreditations = 20
	MaxCaseStudies    = 10
	MaxCaseStudyLen   = 4000
	MaxShortTextLen   = 200
	MaxDayRatePence   = 1_000_000 // £10,000 a day
)

// Check records in p what is wrong with the listing, naming fields under
// prefix ("" for a listing that is the whole request body).
func (l *Listing) Check(prefix string, p *Problems) {
	f := func(name string) string {
		if prefix == "" {
			return name
		}
		return prefix + "." + name
	}
	if strings.TrimSpace(l.Summary) == "" {
		p.Add(f("summary"), "is required")
	} else if len(l.Summary) > MaxSummaryLen {
		p.Add(f("summary"), "must be at most %d characters", MaxSummaryLen)
	}
	if len(l.Capabilities) == 0 {
		p.Add(f("capabilities"), "at least one capability is required")
	}
	checkCapabilities(f("capabilities"), l.Capabilities, p)
	if len(l.Regions) == 0 {
		p.Add(f("regions"), "at least one region is required")
	}
	checkRegions(f("regions"), l.Regions, p)
	if !l.Size.Valid() {
		p.Add(f("size"), "must be one of micro, small, medium, large")
	}
	if len(l.Accreditations) > MaxAccreditations {
		p.Add(f("accreditations"), "at most %d accreditations", MaxAccreditations)
	}
	for i, a := range l.Accreditations {
		if strings.TrimSpace(a) == "" || len(a) > MaxShortTextLen {
			p.Add(fmt.Sprintf("%s[%d]", f("accreditations"), i), "must be 1 to %d characters", MaxShortTextLen)
		}
	}
	if l.DayRateMinPence < 0 || l.DayRateMinPence > MaxDayRatePence {
		p.Add(f("day_rate_min_pence"), "must be between 0 and %d", MaxDayRatePence)
	}
	if l.DayRateMaxPence < 0 || l.DayRateMaxPence > MaxDayRatePence {
		p.Add(f("day_rate_max_pence"), "must be between 0 and %d", MaxDayRatePence)
	} else if l.DayRateMaxPence < l.DayRateMinPence {
		p.Add(f("day_rate_max_pence"), "must not be below day_rate_min_pence")
	}
	if len(l.CaseStudies) > MaxCaseStudies {
		p.Add(f("case_studies"), "at most %d case studies", MaxCaseStudies)
	}
	for i, cs := range l.CaseStudies {
		pre := fmt.Sprintf("%s[%d]", f("case_studies"), i)
		if strings.TrimSpace(cs.Title) == "" || len(cs.Title) > MaxShortTextLen {
			p.Add(pre+".title", "must be 1 to %d characters", MaxShortTextLen)
		}
		if len(cs.Client) > MaxShortTextLen {
			p.Add(pre+".client", "must be at most %d characters", MaxShortTextLen)
		}
		if len(cs.Summary) > MaxCaseStudyLen {
			p.Add(pre+".summary", "must be at most %d characters", MaxCaseStudyLen)
		}
	}
	if len(l.Contact.Name) > MaxShortTextLen {
		p.Add(f("contact.name"), "must be at most %d characters", MaxShortTextLen)
	}
	if l.Contact.Email != "" {
		if a, err := mail.ParseAddress(l.Contact.Email); err != nil || a.Address != l.Contact.Email {
			p.Add(f("contact.email"), "must be an e-mail address")
		}
	}
	if len(l.Contact.Phone) > 40 {
		p.Add(f("contact.phone"), "must be at most 40 characters")
	}
	if l.Contact.Website != "" {
		if u, err := url.Parse(l.Contact.Website); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			p.Add(f("contact.website"), "must be an http or https address")
		}
	}
}

// Provider is a supplier organisation with its listing: one entry of the
// directory.
type Provider struct {
	Organisation Organisation
	Listing      Listing
}

// Page-size limits for every list endpoint.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// ProviderFilter selects and pages providers in the directory. The zero
// value lists every provider, first page, default page size.
type ProviderFilter struct {
	Q          string // full-text search over name, summary, capabilities and case studies
	Sector     Sector
	Capability string
	Region     string
	Size       Size
	Cursor     string // opaque, from a previous page's NextCursor
	PageSize   int
}

// MaxQueryLen bounds the full-text query.
const MaxQueryLen = 200

// Normalize checks the filter and fills in defaults. It returns an EINVALID
// error naming each bad parameter by its query-string name.
func (f *ProviderFilter) Normalize() error {
	var p Problems
	f.Q = strings.TrimSpace(f.Q)
	checkListParams(f.Q, f.Capability, f.Region, &f.PageSize, f.Cursor, &p)
	if f.Sector != "" && !f.Sector.Valid() {
		p.Add("sector", "must be one of nhs, local_authority, third_sector, independent")
	}
	if f.Size != "" && !f.Size.Valid() {
		p.Add("size", "must be one of micro, small, medium, large")
	}
	return p.Err()
}

// checkListParams checks the query parameters that the directory and the
// tender list share, naming each by its query-string name.
func checkListParams(q, capability, region string, pageSize *int, cursor string, p *Problems) {
	if len(q) > MaxQueryLen {
		p.Add("q", "must be at most %d characters", MaxQueryLen)
	}
	if capability != "" {
		if _, ok := CapabilityByKey(capability); !ok {
			p.Add("capability", "unknown capability %q; see /api/v1/capabilities", capability)
		}
	}
	if region != "" {
		if _, ok := RegionByKey(region); !ok {
			p.Add("region", "unknown region %q; see /api/v1/regions", region)
		}
	}
	checkPageSize(pageSize, p)
	if cursor != "" {
		if _, err := DecodeCursor(cursor); err != nil {
			p.Add("cursor", "is not a cursor this API gave out")
		}
	}
}

func checkPageSize(n *int, p *Problems) {
	switch {
	case *n == 0:
		*n = DefaultPageSize
	case *n < 1 || *n > MaxPageSize:
		p.Add("page_size", "must be between 1 and %d", MaxPageSize)
	}
}

// ProviderPage is one page of the directory.
type ProviderPage struct {
	Items      []Provider
	NextCursor string // "" on the last page
}

// ProviderStore keeps the directory.
type ProviderStore interface {
	// ListProviders returns one page of providers matching f, which the
	// caller has normalized. Without Q they are ordered by name then ID;
	// with Q, by relevance then ID. EINVALID for a cursor it cannot read.
	ListProviders(ctx context.Context, f ProviderFilter) (ProviderPage, error)

	// GetProvider returns one provider by organisation ID. ENOTFOUND when
	// there is no such supplier or it is not active.
	GetProvider(ctx context.Context, id string) (Provider, error)

	// UpdateListing replaces the listing of supplier id when its current
	// version is ifVersion, and returns the provider with the new version.
	// Every supplier has a listing (EmptyListing until its first update),
	// so a first update is like any other. ENOTFOUND when there is no such
	// supplier, EPRECONDITION when the version has moved on.
	UpdateListing(ctx context.Context, id string, l Listing, ifVersion int64) (Provider, error)
}

// OrganisationStore creates organisations; seeding and registration use it.
type OrganisationStore interface {
	// CreateOrganisation stores o and, for a supplier, its listing: l, or
	// EmptyListing(o) when l is nil. It sets o.ID, timestamps and
	// l.Version. ECONFLICT when one of its identifiers is already
	// registered.
	CreateOrganisation(ctx context.Context, o *Organisation, l *Listing) error

	// ImportProviders stores many suppliers with their listings in as few
	// round trips as it can, all or nothing, setting their IDs. It is for
	// seeding a large directory.
	ImportProviders(ctx context.Context, ps []Provider) error

	// GetOrganisation returns any organisation by ID. ENOTFOUND.
	GetOrganisation(ctx context.Context, id string) (Organisation, error)

	// CountOrganisations returns how many organisations of kind are stored.
	CountOrganisations(ctx context.Context, kind OrgKind) (int, error)
}

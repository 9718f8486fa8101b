package market

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// OrgKind says what an organisation does on the marketplace.
type OrgKind string

const (
	KindBuyer    OrgKind = "buyer"    // a CCG
	KindSupplier OrgKind = "supplier" // a provider of commissioning support
	KindOperator OrgKind = "operator" // runs the marketplace
)

// Valid reports whether k is a known kind.
func (k OrgKind) Valid() bool {
	return k == KindBuyer || k == KindSupplier || k == KindOperator
}

// OrgStatus is whether an organisation may act on the marketplace.
type OrgStatus string

const (
	StatusActive   OrgStatus = "active"
	StatusPending  OrgStatus = "pending"  // a buyer awaiting the operator's approval
	StatusDisabled OrgStatus = "disabled" // switched off by the operator
)

// Org-id schemes (https://org-id.guide) accepted for identifiers.
const (
	SchemeNHS     = "GB-NHS" // ODS code
	SchemeCOH     = "GB-COH" // Companies House number
	SchemeCharity = "GB-CHC" // Charity Commission number
	SchemeLAE     = "GB-LAE" // local authority code (England)
)

var identifierFormats = map[string]struct {
	re   *regexp.Regexp
	hint string
}{
	SchemeNHS:     {regexp.MustCompile(`^[A-Z0-9]{3,9}$`), "an ODS code: 3 to 9 upper-case letters or digits"},
	SchemeCOH:     {regexp.MustCompile(`^([0-9]{2}|[A-Z]{2})[0-9]{6}$`), "a Companies House number: 8 digits, or 2 capital letters and 6 digits"},
	SchemeCharity: {regexp.MustCompile(`^[0-9]{6,8}$`), "a charity number: 6 to 8 digits"},
	SchemeLAE:     {regexp.MustCompile(`^[A-Z]{3,4}$`), "a local authority code: 3 or 4 capital letters"},
}

// Schemes lists the accepted org-id schemes.
var Schemes = []string{SchemeNHS, SchemeCOH, SchemeCharity, SchemeLAE}

// Identifier is an organisation's identifier in an org-id scheme.
type Identifier struct {
	Scheme string
	ID     string
}

// String returns the identifier in org-id form, e.g. "GB-COH-09506232".
func (id Identifier) String() string { return id.Scheme + "-" + id.ID }

// Check records in p what is wrong with the identifier, naming fields under
// prefix (e.g. "organisation.identifiers[0]").
func (id Identifier) Check(prefix string, p *Problems) {
	f, ok := identifierFormats[id.Scheme]
	if !ok {
		p.Add(prefix+".scheme", "must be one of %s", strings.Join(Schemes, ", "))
		return
	}
	if !f.re.MatchString(id.ID) {
		p.Add(prefix+".id", "must be %s", f.hint)
	}
}

// Organisation is a buyer (CCG), a supplier or the operator.
type Organisation struct {
	ID          string
	Kind        OrgKind
	Name        string
	Status      OrgStatus
	Sector      Sector // suppliers only
	Identifiers []Identifier
	Regions     []string // region keys covered (suppliers) or located in (buyers)

	// CCGs only.
	Population                       int64 // registered population
	RunningCostAllowancePerHeadPence int64

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Limits on a CCG's figures, so that its allowance (population x allowance
// per head) and the cost shares of a joint tender (population x 1,000,000,
// summed over the commissioners) are computed without overflow: no CCG is
// larger than England, and no allowance is near £10,000 a head.
const (
	MaxPopulation                       = 100_000_000
	MaxRunningCostAllowancePerHeadPence = 1_000_000
)

// Check records in p what is wrong with the organisation's own fields,
// naming them under prefix ("organisation").
func (o *Organisation) Check(prefix string, p *Problems) {
	if !o.Kind.Valid() {
		p.Add(prefix+".kind", "must be buyer or supplier")
	}
	if n := strings.TrimSpace(o.Name); n == "" {
		p.Add(prefix+".name", "is required")
	} else if len(n) > 200 {
		p.Add(prefix+".name", "must be at most 200 characters")
	}
	switch o.Kind {
	case KindSupplier:
		if !o.Sector.Valid() {
			p.Add(prefix+".sector", "must be one of nhs, local_authority, third_sector, independent")
		}
		if len(o.Identifiers) == 0 {
			p.Add(prefix+".identifiers", "at least one identifier is required")
		}
	case KindBuyer:
		if o.Population <= 0 || o.Population > MaxPopulation {
			p.Add(prefix+".population", "must be a positive number of registered patients, at most %d", MaxPopulation)
		}
		if o.RunningCostAllowancePerHeadPence <= 0 || o.RunningCostAllowancePerHeadPence > MaxRunningCostAllowancePerHeadPence {
			p.Add(prefix+".running_cost_allowance_per_head_pence", "must be a positive number of pence, at most %d", MaxRunningCostAllowancePerHeadPence)
		}
		if !hasScheme(o.Identifiers, SchemeNHS) {
			p.Add(prefix+".identifiers", "a CCG needs its ODS code as a GB-NHS identifier")
		}
	}
	seen := map[string]bool{}
	for i, id := range o.Identifiers {
		id.Check(fmt.Sprintf("%s.identifiers[%d]", prefix, i), p)
		if seen[id.String()] {
			p.Add(fmt.Sprintf("%s.identifiers[%d]", prefix, i), "is given twice")
		}
		seen[id.String()] = true
	}
	checkRegions(prefix+".regions", o.Regions, p)
}

// RunningCostAllowancePence is the CCG's whole running-cost allowance a year:
// population x allowance per head.
func (o *Organisation) RunningCostAllowancePence() int64 {
	return o.Population * o.RunningCostAllowancePerHeadPence
}

func hasScheme(ids []Identifier, scheme string) bool {
	for _, id := range ids {
		if id.Scheme == scheme {
			return true
		}
	}
	return false
}

func checkRegions(field string, regions []string, p *Problems) {
	seen := map[string]bool{}
	for i, r := range regions {
		if _, ok := RegionByKey(r); !ok {
			p.Add(fmt.Sprintf("%s[%d]", field, i), "unknown region %q", r)
		} else if seen[r] {
			p.Add(fmt.Sprintf("%s[%d]", field, i), "region %q is given twice", r)
		}
		seen[r] = true
	}
}

func checkCapabilities(field string, caps []string, p *Problems) {
	seen := map[string]bool{}
	for i, c := range caps {
		if _, ok := CapabilityByKey(c); !ok {
			p.Add(fmt.Sprintf("%s[%d]", field, i), "unknown capability %q", c)
		} else if seen[c] {
			p.Add(fmt.Sprintf("%s[%d]", field, i), "capability %q is given twice", c)
		}
		seen[c] = true
	}
}

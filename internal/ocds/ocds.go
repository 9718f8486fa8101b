// Package ocds publishes a tender as open data: an Open Contracting Data
// Standard 1.1 release package, so that anyone can follow who bought what
// from whom, for how much, with the tools that already read OCDS.
//
// A package only ever carries what is public once the tender reaches the
// state it describes: bidders' names once the bid deadline has passed, the
// winner and its price once an award is decided. It never carries a losing
// price, a bid's content or the buyer's in-house baseline; Build is given
// none of them.
package ocds

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// Version is the OCDS major.minor version the packages follow.
const Version = "1.1"

// Options are the publisher's settings, the same for every package.
type Options struct {
	Prefix        string // the ocid prefix registered with the Open Contracting Partnership, e.g. "ocds-csmkt"
	PublisherName string
	PublisherURI  string // optional, absolute
	BaseURI       string // optional, absolute: the marketplace's public address, for the package's uri
}

// Award is the award decision in effect: pending during the standstill,
// final once confirmed.
type Award struct {
	Supplier   market.Organisation
	ValuePence int64
	Date       time.Time // the award decision
	Final      bool
}

// Input is one tender and everything public about it.
type Input struct {
	Tender             market.Tender
	Buyer              market.Organisation // the lead commissioner
	JointCommissioners []market.Organisation
	// Tenderers are the suppliers with a submitted bid. They are published
	// only once the bid deadline has passed: before it, not even their
	// number is public, so Build drops them.
	Tenderers []market.Organisation
	Award     *Award // nil unless an award decision is in effect
	// PublishedAt is when the package is made: the moment at which the
	// tender's status is read. The package's publishedDate is the date of
	// its latest release, as OCDS asks of packages made on demand, so that
	// one state of a tender always gives the same bytes.
	PublishedAt time.Time
}

// Build returns the OCDS release package for in as JSON: a release for the
// tender's current state and, when there is an award decision, one for the
// award. A draft has no open data: ENOTFOUND.
func Build(opts Options, in Input) ([]byte, error) {
	pkg, err := build(opts, in)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(pkg, "", "  ")
}

func build(opts Options, in Input) (*releasePackage, error) {
	t := &in.Tender
	switch {
	case opts.Prefix == "":
		return nil, errors.New("ocds: no ocid prefix")
	case opts.PublisherName == "":
		return nil, errors.New("ocds: no publisher name")
	case in.PublishedAt.IsZero():
		return nil, errors.New("ocds: no publication time")
	case t.ID == "":
		return nil, errors.New("ocds: tender without an ID")
	case in.Buyer.ID != t.BuyerID:
		return nil, fmt.Errorf("ocds: buyer %s is not tender %s's lead commissioner", in.Buyer.ID, t.ID)
	}
	for _, u := range []struct{ name, v string }{{"publisher URI", opts.PublisherURI}, {"base URI", opts.BaseURI}} {
		if u.v != "" && !absolute(u.v) {
			return nil, fmt.Errorf("ocds: %s %q is not an absolute URI", u.name, u.v)
		}
	}
	now := in.PublishedAt.UTC()
	status := t.Status(now)
	if status == market.TenderDraft {
		return nil, market.Errorf(market.ENOTFOUND, "A draft tender is not published as open data.")
	}

	ocid := opts.Prefix + "-" + t.ID
	p := newParties()
	p.add(in.Buyer, "buyer", "procuringEntity")
	for _, o := range in.JointCommissioners {
		p.add(o, "buyer")
	}
	buyer := p.ref(in.Buyer)

	tr := tender{
		ID:                      t.ID,
		Title:                   t.Title,
		Description:             t.Description,
		Status:                  tenderStatus(status),
		ProcuringEntity:         &buyer,
		Items:                   items(t.Capabilities),
		Value:                   value(t.BudgetPence),
		DeliveryLocations:       locations(t.Regions),
		ProcurementMethod:       "open",
		MainProcurementCategory: "services",
		AwardCriteria:           "ratedCriteria",
		AwardCriteriaDetails:    criteriaDetails(t.Criteria),
		TenderPeriod:            &period{StartDate: stamp(t.PublishedAt), EndDate: stamp(t.BidDeadline)},
		EnquiryPeriod:           &period{StartDate: stamp(t.PublishedAt), EndDate: stamp(t.ClarificationDeadline)},
	}
	if !t.Sealed(now) {
		n := len(in.Tenderers)
		tr.NumberOfTenderers = &n
		tr.Tenderers = []orgRef{}
		for _, o := range sortedByName(in.Tenderers) {
			p.add(o, "tenderer")
			tr.Tenderers = append(tr.Tenderers, p.ref(o))
		}
	}

	tag, date := "tenderUpdate", t.BidDeadline
	switch status {
	case market.TenderOpen:
		tag, date = "tender", t.PublishedAt
	case market.TenderCancelled:
		tag, date = "tenderCancellation", t.CancelledAt
	case market.TenderUnsuccessful:
		date = t.UnsuccessfulAt
	case market.TenderAwarded:
		date = t.AwardConfirmedAt
	}
	tenderParties := p.list()
	releases := []release{{
		OCID: ocid, ID: releaseID(t.ID, tag, date), Date: stamp(date), Tag: []string{tag},
		InitiationType: "tender", Language: "en",
		Parties: tenderParties, Buyer: &buyer, Tender: &tr,
	}}

	if a := in.Award; a != nil {
		p.add(a.Supplier, "supplier")
		winner := p.ref(a.Supplier)
		aw := award{
			ID:        t.ID + "-award-" + compact(a.Date),
			Status:    "pending",
			Date:      stamp(a.Date),
			Value:     value(a.ValuePence),
			Suppliers: []orgRef{winner},
		}
		date := a.Date
		switch {
		case status == market.TenderCancelled:
			aw.Status, date = "cancelled", t.CancelledAt
		case a.Final:
			aw.Status = "active"
			if !t.AwardConfirmedAt.IsZero() {
				date = t.AwardConfirmedAt
			}
		}
		// The award release names the parties it speaks of: the
		// commissioners and the winner.
		var parties []party
		for _, pt := range p.list() {
			if pt.has("buyer") || pt.ID == winner.ID {
				parties = append(parties, pt)
			}
		}
		releases = append(releases, release{
			OCID: ocid, ID: releaseID(t.ID, "award-"+aw.Status, date), Date: stamp(date), Tag: []string{"award"},
			InitiationType: "tender", Language: "en",
			Parties: parties, Buyer: &buyer, Awards: []award{aw},
		})
	}

	latest := releases[0].Date
	for _, r := range releases[1:] {
		if r.Date > latest { // RFC 3339 in UTC sorts as text
			latest = r.Date
		}
	}
	pkg := &releasePackage{
		Version:       Version,
		PublishedDate: latest,
		Publisher:     publisher{Name: opts.PublisherName, URI: opts.PublisherURI},
		Releases:      releases,
	}
	if opts.BaseURI != "" {
		pkg.URI = strings.TrimRight(opts.BaseURI, "/") + "/api/v1/tenders/" + url.PathEscape(t.ID) + "/ocds"
	}
	return pkg, nil
}

// tenderStatus maps a tender's status to OCDS's: the process stays active
// through evaluation and standstill (an award decision can still be
// revoked) and is complete only with the final award.
func tenderStatus(s market.TenderStatus) string {
	switch s {
	case market.TenderAwarded:
		return "complete"
	case market.TenderCancelled:
		return "cancelled"
	case market.TenderUnsuccessful:
		return "unsuccessful"
	default:
		return "active"
	}
}

// items lists one item per capability sought, classified by its CPV code.
// The code is given as its eight digits without the check digit, as OCDS
// publishers of CPV (and the EU's own notices) do.
func items(capabilities []string) []item {
	var its []item
	for i, key := range capabilities {
		c, ok := market.CapabilityByKey(key)
		if !ok {
			continue
		}
		cpv, _, _ := strings.Cut(c.CPV, "-")
		its = append(its, item{
			ID:             strconv.Itoa(i + 1),
			Description:    c.Name,
			Classification: &classification{Scheme: "CPV", ID: cpv, Description: c.Name},
		})
	}
	return its
}

func locations(regions []string) []location {
	var ls []location
	for _, key := range regions {
		if r, ok := market.RegionByKey(key); ok {
			ls = append(ls, location{Description: r.Name + " (NHS England region " + r.Code + ")"})
		}
	}
	return ls
}

// criteriaDetails spells out the weights and the formulas, so a reader of
// the open data knows how the winner was chosen.
func criteriaDetails(criteria []market.Criterion) string {
	if len(criteria) == 0 {
		return ""
	}
	parts := make([]string, len(criteria))
	for i, c := range criteria {
		parts[i] = fmt.Sprintf("%s (%s) %d%%", c.Name, c.Kind, c.Weight)
	}
	return "Criteria and weights: " + strings.Join(parts, "; ") + ". " +
		"Price score = lowest submitted price / bid price x price weight; " +
		"quality score = mean evaluator score (0 unacceptable to 4 excellent) / 4 x criterion weight; " +
		"the highest total wins, ties going to the higher quality total, then the earlier submission."
}

// value gives pence as pounds, exactly: the number is written from the
// integer, never through floating point.
func value(pence int64) *amount {
	if pence <= 0 {
		return nil
	}
	s := strconv.FormatInt(pence/100, 10)
	if r := pence % 100; r != 0 {
		s += fmt.Sprintf(".%02d", r)
	}
	return &amount{Amount: json.Number(s), Currency: "GBP"}
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// compact is a time as it goes into an ID: sortable, with no separators
// that would need escaping.
func compact(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// releaseID is unique within the ocid: each state of the tender or the award
// is one release, dated by the change that made it.
func releaseID(tenderID, kind string, date time.Time) string {
	return tenderID + "-" + kind + "-" + compact(date)
}

func absolute(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != ""
}

func sortedByName(orgs []market.Organisation) []market.Organisation {
	out := append([]market.Organisation(nil), orgs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// parties collects the organisations of a process, once each, merging the
// roles each plays.
type parties struct {
	order []string
	byID  map[string]*party
}

func newParties() *parties { return &parties{byID: map[string]*party{}} }

// partyID is the organisation's org-id identifier, which stays the same
// across processes and publishers; the marketplace's own ID only when it
// has none.
func partyID(o market.Organisation) string {
	if id, ok := primary(o); ok {
		return id.String()
	}
	return o.ID
}

// primary is the identifier an organisation is best known by: a CCG's ODS
// code, otherwise the first it registered.
func primary(o market.Organisation) (market.Identifier, bool) {
	if o.Kind == market.KindBuyer {
		for _, id := range o.Identifiers {
			if id.Scheme == market.SchemeNHS {
				return id, true
			}
		}
	}
	if len(o.Identifiers) > 0 {
		return o.Identifiers[0], true
	}
	return market.Identifier{}, false
}

func (ps *parties) add(o market.Organisation, roles ...string) {
	id := partyID(o)
	pt := ps.byID[id]
	if pt == nil {
		pt = &party{ID: id, Name: o.Name}
		if first, ok := primary(o); ok {
			pt.Identifier = &identifier{Scheme: first.Scheme, ID: first.ID}
			for _, other := range o.Identifiers {
				if other != first {
					pt.AdditionalIdentifiers = append(pt.AdditionalIdentifiers, identifier{Scheme: other.Scheme, ID: other.ID})
				}
			}
		}
		ps.byID[id] = pt
		ps.order = append(ps.order, id)
	}
	for _, r := range roles {
		if !pt.has(r) {
			pt.Roles = append(pt.Roles, r)
		}
	}
}

func (ps *parties) ref(o market.Organisation) orgRef {
	return orgRef{ID: partyID(o), Name: o.Name}
}

// list returns a copy, so that roles added later (the winner's) do not
// reach a release already built.
func (ps *parties) list() []party {
	out := make([]party, 0, len(ps.order))
	for _, id := range ps.order {
		pt := *ps.byID[id]
		pt.Roles = append([]string(nil), pt.Roles...)
		out = append(out, pt)
	}
	return out
}

// The OCDS shapes, in the order and with the names of the standard.

type releasePackage struct {
	URI           string    `json:"uri,omitempty"`
	Version       string    `json:"version"`
	PublishedDate string    `json:"publishedDate"`
	Publisher     publisher `json:"publisher"`
	Releases      []release `json:"releases"`
}

type publisher struct {
	Name string `json:"name"`
	URI  string `json:"uri,omitempty"`
}

type release struct {
	OCID           string   `json:"ocid"`
	ID             string   `json:"id"`
	Date           string   `json:"date"`
	Tag            []string `json:"tag"`
	InitiationType string   `json:"initiationType"`
	Language       string   `json:"language,omitempty"`
	Parties        []party  `json:"parties,omitempty"`
	Buyer          *orgRef  `json:"buyer,omitempty"`
	Tender         *tender  `json:"tender,omitempty"`
	Awards         []award  `json:"awards,omitempty"`
}

type party struct {
	ID                    string       `json:"id"`
	Name                  string       `json:"name"`
	Identifier            *identifier  `json:"identifier,omitempty"`
	AdditionalIdentifiers []identifier `json:"additionalIdentifiers,omitempty"`
	Roles                 []string     `json:"roles"`
}

func (p *party) has(role string) bool {
	for _, r := range p.Roles {
		if r == role {
			return true
		}
	}
	return false
}

type identifier struct {
	Scheme string `json:"scheme"`
	ID     string `json:"id"`
}

type orgRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type tender struct {
	ID                      string     `json:"id"`
	Title                   string     `json:"title"`
	Description             string     `json:"description,omitempty"`
	Status                  string     `json:"status"`
	ProcuringEntity         *orgRef    `json:"procuringEntity,omitempty"`
	Items                   []item     `json:"items,omitempty"`
	Value                   *amount    `json:"value,omitempty"`
	DeliveryLocations       []location `json:"deliveryLocations,omitempty"`
	ProcurementMethod       string     `json:"procurementMethod"`
	MainProcurementCategory string     `json:"mainProcurementCategory"`
	AwardCriteria           string     `json:"awardCriteria"`
	AwardCriteriaDetails    string     `json:"awardCriteriaDetails,omitempty"`
	TenderPeriod            *period    `json:"tenderPeriod,omitempty"`
	EnquiryPeriod           *period    `json:"enquiryPeriod,omitempty"`
	NumberOfTenderers       *int       `json:"numberOfTenderers,omitempty"`
	Tenderers               []orgRef   `json:"tenderers,omitempty"`
}

type item struct {
	ID             string          `json:"id"`
	Description    string          `json:"description,omitempty"`
	Classification *classification `json:"classification,omitempty"`
}

type classification struct {
	Scheme      string `json:"scheme"`
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
}

type location struct {
	Description string `json:"description"`
}

type amount struct {
	Amount   json.Number `json:"amount"`
	Currency string      `json:"currency"`
}

type period struct {
	StartDate string `json:"startDate,omitempty"`
	EndDate   string `json:"endDate,omitempty"`
}

type award struct {
	ID        string   `json:"id"`
	Status    string   `json:"status"`
	Date      string   `json:"date"`
	Value     *amount  `json:"value,omitempty"`
	Suppliers []orgRef `json:"suppliers"`
}

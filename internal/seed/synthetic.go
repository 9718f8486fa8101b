package seed

import (
	"math/bits"
	"math/rand/v2"
	"strings"

	"github.com/csmarket/csmarket/internal/market"
)

// MaxSynthetic is how many synthetic providers can be numbered: identifiers
// are derived from a provider's index (ODS code "Z" and eight digits, company
// and charity numbers "9" and seven digits), which leaves room for ten
// million, none of them in the demo's ranges.
const MaxSynthetic = 10_000_000

// Synthetic returns n generated providers, the same for the same seed. The
// providers are varied enough for search and filters to behave as on a real
// directory: sectors weighted towards the third and independent sectors,
// several capabilities and regions each, and summaries made of real words.
// Every identifier is unique. It panics when n is outside 0 to MaxSynthetic,
// which is a programming error.
func Synthetic(n int, seed int64) []market.Provider {
	if n < 0 || n > MaxSynthetic {
		panic("seed: Synthetic: n out of range")
	}
	return newGenerator(seed, 0).batch(n)
}

// generator makes synthetic providers one index after another, so that a
// large directory can be produced in bounded batches.
type generator struct {
	r    *rand.Rand
	next int
}

func newGenerator(seed int64, start int) *generator {
	return &generator{r: rand.New(rand.NewPCG(uint64(seed), uint64(start))), next: start}
}

// batch returns the next n providers. Their small slices share one backing
// array per batch, each capped so that appending to one cannot touch another.
func (g *generator) batch(n int) []market.Provider {
	ps := make([]market.Provider, n)
	keys := make([]string, 0, n*(maxCaps+2*maxRegions))
	for i := range ps {
		ps[i], keys = g.provider(keys)
	}
	return ps
}

const (
	maxCaps    = 5
	maxRegions = 4
)

// sectorKind says what a synthetic provider is: the sector, and for the third
// sector whether it is a charity or a company (a social enterprise).
type sectorKind int

const (
	kindNHS sectorKind = iota
	kindCouncil
	kindCharity
	kindSocialEnterprise
	kindFirm
)

var kindSector = [...]market.Sector{
	kindNHS:              market.SectorNHS,
	kindCouncil:          market.SectorLocalAuthority,
	kindCharity:          market.SectorThirdSector,
	kindSocialEnterprise: market.SectorThirdSector,
	kindFirm:             market.SectorIndependent,
}

// pickKind weights the sectors roughly as a national market would look:
// nhs 10%, local authority 15%, third sector 30% (a third of it social
// enterprises), independent 45%.
func pickKind(r *rand.Rand) sectorKind {
	switch x := r.IntN(100); {
	case x < 10:
		return kindNHS
	case x < 25:
		return kindCouncil
	case x < 45:
		return kindCharity
	case x < 55:
		return kindSocialEnterprise
	default:
		return kindFirm
	}
}

func (g *generator) provider(keys []string) (market.Provider, []string) {
	i := g.next
	g.next++
	r := g.r
	kind := pickKind(r)
	sector := kindSector[kind]
	name, domain := g.name(kind, pickPlace(r))
	for demoNames[name] {
		name, domain = g.name(kind, pickPlace(r))
	}

	caps := capsByKind[kind].pick(r, 1+r.IntN(maxCaps))
	from := len(keys)
	for c := caps; c != 0; c &= c - 1 {
		keys = append(keys, market.Capabilities[bits.TrailingZeros16(c)].Key)
	}
	capKeys := keys[from:len(keys):len(keys)]

	regs := pickRegions(r)
	from = len(keys)
	for m := regs; m != 0; m &= m - 1 {
		keys = append(keys, market.Regions[bits.TrailingZeros8(m)].Key)
	}
	listRegions := keys[from:len(keys):len(keys)]
	from = len(keys)
	keys = append(keys, listRegions...)
	orgRegions := keys[from:len(keys):len(keys)]

	size := pickSize(r, sizeWeights[kind])
	lo, hi := dayRate(r, size, kind)
	first := pick(r, firstNames)
	last := pick(r, surnames)
	c := market.Contact{
		Name:  first + " " + last,
		Email: strings.ToLower(first) + "." + strings.ToLower(last) + "@" + domain,
		Phone: phonePrefix[bits.TrailingZeros8(regs)] + threeDigits(r.IntN(1000)),
	}
	if r.IntN(2) == 0 {
		c.Website = "https://www." + domain
	}

	return market.Provider{
		Organisation: market.Organisation{
			Kind:        market.KindSupplier,
			Name:        name,
			Status:      market.StatusActive,
			Sector:      sector,
			Identifiers: []market.Identifier{syntheticIdentifier(kind, i)},
			Regions:     orgRegions,
		},
		Listing: market.Listing{
			Summary:         summary(r, kind, caps, listRegions),
			Capabilities:    capKeys,
			Regions:         listRegions,
			Size:            size,
			Accreditations:  accreditations(r, kind),
			DayRateMinPence: lo * 100,
			DayRateMaxPence: hi * 100,
			CaseStudies:     caseStudies(r, caps),
			Contact:         c,
		},
	}, keys
}

// syntheticIdentifier derives provider i's identifier from i alone, so that
// identifiers are unique however the other fields fall. Councils trade with
// CCGs through council-owned companies, since local authority codes could not
// number millions of providers.
func syntheticIdentifier(kind sectorKind, i int) market.Identifier {
	switch kind {
	case kindNHS:
		return market.Identifier{Scheme: market.SchemeNHS, ID: "Z" + digits(i, 8)}
	case kindCharity:
		return market.Identifier{Scheme: market.SchemeCharity, ID: "9" + digits(i, 7)}
	default:
		return market.Identifier{Scheme: market.SchemeCOH, ID: "9" + digits(i, 7)}
	}
}

// digits formats i as exactly width decimal digits, keeping the low ones.
func digits(i, width int) string {
	b := make([]byte, width)
	for j := width - 1; j >= 0; j-- {
		b[j] = byte('0' + i%10)
		i /= 10
	}
	return string(b)
}

func threeDigits(i int) string { return digits(i, 3) }

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

// pickPlace returns a place name, usually with a compass or other qualifier
// in front, which multiplies the distinct names on offer.
func pickPlace(r *rand.Rand) string {
	p := pick(r, places)
	if r.IntN(4) != 0 {
		return pick(r, qualifiers) + " " + p
	}
	return p
}

// formSlug is slug without the legal form, which domains leave out.
func formSlug(form string) string {
	return slug(strings.TrimSuffix(strings.TrimSuffix(form, " Ltd"), " CIC"))
}

// slug returns the lower-case letters of s, for a web domain.
func slug(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z':
			b = append(b, c)
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		}
	}
	return string(b)
}

func (g *generator) name(kind sectorKind, place string) (name, domain string) {
	r := g.r
	ps := slug(place)
	switch kind {
	case kindNHS:
		switch r.IntN(7) {
		case 0, 1:
			return place + " Commissioning Support Unit", ps + "csu.example.nhs.uk"
		case 2:
			other := pick(r, places)
			if strings.HasSuffix(place, other) {
				return place + " Commissioning Support Unit", ps + "csu.example.nhs.uk"
			}
			return place + " and " + other + " Commissioning Support Unit", ps + slug(other) + "csu.example.nhs.uk"
		case 3:
			return place + " Health Informatics Service", ps + "his.example.nhs.uk"
		case 4:
			return place + " Community Health NHS Trust", ps + "community.example.nhs.uk"
		case 5:
			return place + " NHS Procurement Partnership", ps + "pp.example.nhs.uk"
		default:
			return place + " Medicines Management Service", ps + "mms.example.nhs.uk"
		}
	case kindCouncil:
		council := place + " " + pick(r, councilKinds) + " Council"
		switch r.IntN(4) {
		case 0:
			return council + " Business Services Ltd", ps + "council.example.org"
		case 1:
			return council + " Public Health Intelligence Ltd", ps + "council.example.org"
		case 2:
			return council + " Commissioning Services Ltd", ps + "council.example.org"
		default:
			return place + " Shared Services Ltd", ps + "sharedservices.example.org"
		}
	case kindCharity:
		form := pick(r, charityForms)
		return place + " " + form, ps + formSlug(form) + ".example.org"
	case kindSocialEnterprise:
		form := pick(r, enterpriseForms)
		return place + " " + form, ps + formSlug(form) + ".example.org"
	default:
		s1, s2 := pick(r, surnames), pick(r, surnames)
		switch r.IntN(8) {
		case 0:
			return s1 + " " + s2 + " Consulting Ltd", strings.ToLower(s1+s2) + ".example.com"
		case 1:
			return s1 + " and " + s2 + " Associates Ltd", strings.ToLower(s1+s2) + ".example.com"
		case 2:
			return s1 + " " + s2 + " Health Partners Ltd", strings.ToLower(s1+s2) + "health.example.com"
		case 3:
			form := pick(r, firmForms)
			return s1 + " " + s2 + " " + form, strings.ToLower(s1+s2) + ".example.com"
		default:
			form := pick(r, firmForms)
			return place + " " + form, ps + formSlug(form) + ".example.com"
		}
	}
}

// capWeights weights the twelve capabilities (in market.Capabilities order)
// for one kind of provider: charities mostly engage and advocate, analytics
// is everywhere.
type capWeights [12]int

func (w capWeights) pick(r *rand.Rand, k int) uint16 {
	total := 0
	for _, x := range w {
		total += x
	}
	var set uint16
	for bits.OnesCount16(set) < k {
		x := r.IntN(total)
		j := 0
		for x >= w[j] {
			x -= w[j]
			j++
		}
		set |= 1 << j
	}
	return set
}

var capsByKind = [...]capWeights{
	//                    bi rs cm pr sr mo ch fi hr ig co go
	kindNHS:              {5, 4, 5, 3, 4, 3, 3, 4, 3, 4, 3, 3},
	kindCouncil:          {5, 3, 3, 4, 3, 1, 2, 3, 3, 3, 4, 3},
	kindCharity:          {1, 1, 1, 1, 5, 1, 5, 1, 1, 1, 8, 1},
	kindSocialEnterprise: {1, 2, 2, 1, 5, 4, 3, 1, 2, 1, 5, 1},
	kindFirm:             {5, 4, 4, 3, 4, 2, 2, 3, 3, 4, 3, 3},
}

// pickRegions returns a set of one to four regions, as bits in
// market.Regions order, fewer regions being likelier.
func pickRegions(r *rand.Rand) uint8 {
	k := 1
	switch x := r.IntN(10); {
	case x >= 9:
		k = 4
	case x >= 7:
		k = 3
	case x >= 4:
		k = 2
	}
	var set uint8
	for bits.OnesCount8(set) < k {
		set |= 1 << r.IntN(len(market.Regions))
	}
	return set
}

// sizeWeights are the chances (out of 100) of micro, small, medium, large.
var sizeWeights = [...][4]int{
	kindNHS:              {0, 10, 40, 50},
	kindCouncil:          {0, 25, 40, 35},
	kindCharity:          {35, 40, 20, 5},
	kindSocialEnterprise: {25, 45, 25, 5},
	kindFirm:             {25, 35, 25, 15},
}

func pickSize(r *rand.Rand, w [4]int) market.Size {
	x := r.IntN(100)
	for j, p := range w {
		if x < p {
			return market.Sizes[j]
		}
		x -= p
	}
	return market.SizeLarge
}

// baseRate is the lowest day rate, in pounds, for each size band.
var baseRate = map[market.Size]int64{market.SizeMicro: 350, market.SizeSmall: 400, market.SizeMedium: 450, market.SizeLarge: 550}

// dayRate returns a plausible day-rate range in pounds, in steps of £25:
// larger organisations and firms charge more, charities less, and nobody
// below £350 or above £1,400.
func dayRate(r *rand.Rand, size market.Size, kind sectorKind) (lo, hi int64) {
	base := baseRate[size]
	if kind == kindFirm {
		base += 100
	}
	lo = base + 25*int64(r.IntN(12))
	if kind == kindCharity || kind == kindSocialEnterprise {
		lo = max(350, lo-100)
	}
	hi = min(1400, lo+150+25*int64(r.IntN(15)))
	return lo, hi
}

var accreditationsByKind = [...][]string{
	kindNHS:              {dspt, iso27, cep, iso9, iip},
	kindCouncil:          {psn, iso9, iso27, ce, cep, iip},
	kindCharity:          {trusted, iip, qpm, ce, dspt},
	kindSocialEnterprise: {sem, iso9, iip, ce, dspt},
	kindFirm:             {iso9, iso27, ce, cep, dspt, iip},
}

func accreditations(r *rand.Rand, kind sectorKind) []string {
	pool := accreditationsByKind[kind]
	k := r.IntN(4)
	if k == 0 {
		return nil
	}
	out := make([]string, 0, k)
	for _, j := range r.Perm(len(pool))[:k] {
		out = append(out, pool[j])
	}
	return out
}

var openings = [...][]string{
	kindNHS: {
		"NHS commissioning support unit serving CCGs across ",
		"NHS team hosted by a foundation trust, supporting commissioners in ",
		"Hosted NHS service working with CCGs and their member practices in ",
	},
	kindCouncil: {
		"Company owned by the council, offering its public health and intelligence staff to CCGs in ",
		"Council-owned shared service providing back-office support to CCGs and councils in ",
		"Council team, trading as a company, working jointly with CCGs and the health and wellbeing board in ",
	},
	kindCharity: {
		"Registered charity working with patients, carers and community groups in ",
		"Local charity that CCGs commission for community work in ",
		"Voluntary organisation with volunteers and user groups in ",
	},
	kindSocialEnterprise: {
		"Community interest company reinvesting its surplus in local health projects in ",
		"Social enterprise, spun out of the NHS, delivering services for CCGs in ",
		"Staff-owned social enterprise working with GP practices and CCGs in ",
	},
	kindFirm: {
		"Independent consultancy working with CCGs in ",
		"Specialist firm supporting commissioners in ",
		"Health analytics and advisory company with clients in ",
		"Privately owned firm of former NHS managers working in ",
	},
}

// capPhrases has three sentences for each capability, in
// market.Capabilities order.
var capPhrases = [12][3]string{
	{"Builds SUS-based dashboards for month-end activity and finance reporting.",
		"Benchmarks elective and non-elective activity against similar CCGs.",
		"Runs a data warehouse that links GP, hospital and community data."},
	{"Runs monthly risk stratification of registered patients to find those likely to be admitted.",
		"Produces case-finding lists for multidisciplinary teams from risk stratification.",
		"Validates risk models against local emergency admissions and frailty scores."},
	{"Manages acute and community contracts, including activity queries and contract challenges.",
		"Runs contract performance meetings and monitors quality schedules and CQUIN schemes.",
		"Reconciles provider activity against plans and prepares year-end settlements."},
	{"Runs procurements under the NHS procurement regulations, from specification to award.",
		"Holds market engagement events and helps small providers to bid.",
		"Prepares evaluation models, social value questions and NHS standard contracts."},
	{"Redesigns pathways for urgent care, outpatients and long-term conditions.",
		"Manages QIPP programmes from business case to benefits tracking.",
		"Runs clinical design workshops and evaluates service changes."},
	{"Provides practice pharmacists for prescribing QIPP switches and medication reviews.",
		"Analyses ePACT prescribing data and supports formulary management.",
		"Reviews medicines in care homes to cut waste and falls."},
	{"Carries out continuing healthcare checklists, full assessments and reviews.",
		"Clears backlogs of retrospective CHC claims and prepares cases for review panels.",
		"Supports families through continuing healthcare assessments and appeals."},
	{"Provides financial ledgers, monthly reporting and annual accounts.",
		"Builds medium-term financial plans and tracks QIPP savings.",
		"Supplies interim finance managers and audit support."},
	{"Handles employee relations casework, recruitment and TUPE transfers.",
		"Runs organisational development for governing bodies and clinical leads.",
		"Advises on organisational change and staff consultation."},
	{"Prepares Data Security and Protection Toolkit submissions and data protection impact assessments.",
		"Supports GP IT, clinical systems and network security.",
		"Acts as outsourced data protection officer and drafts data-sharing agreements."},
	{"Runs public consultation on service change and patient engagement.",
		"Reaches seldom-heard groups through community organisations.",
		"Handles media, stakeholder briefings and CCG annual reports."},
	{"Supports governing bodies with constitutions, committee clerking and conflicts of interest registers.",
		"Maintains board assurance frameworks and corporate risk registers.",
		"Prepares CCGs for assurance and the audit of their statutory duties."},
}

var closings = []string{
	"Works on site and remotely, on call-off or fixed-price terms.",
	"Willing to bid in a consortium with providers from other sectors.",
	"All staff are trained in NHS information governance.",
	"References from current CCG clients are available.",
	"Offers a scoping meeting before quoting.",
}

func regionPhrase(keys []string) string {
	var b strings.Builder
	for j, k := range keys {
		switch {
		case j == 0:
		case j == len(keys)-1:
			b.WriteString(" and ")
		default:
			b.WriteString(", ")
		}
		reg, _ := market.RegionByKey(k)
		if reg.Key != "london" {
			b.WriteString("the ")
		}
		b.WriteString(reg.Name)
	}
	return b.String()
}

// summary writes two to four sentences: what the provider is and where, what
// it does for its first two capabilities, and sometimes how it works.
func summary(r *rand.Rand, kind sectorKind, caps uint16, regions []string) string {
	var b strings.Builder
	b.Grow(400)
	b.WriteString(pick(r, openings[kind]))
	b.WriteString(regionPhrase(regions))
	b.WriteString(".")
	n := 0
	for c := caps; c != 0 && n < 2; c &= c - 1 {
		b.WriteString(" ")
		b.WriteString(capPhrases[bits.TrailingZeros16(c)][r.IntN(3)])
		n++
	}
	if r.IntN(2) == 0 {
		b.WriteString(" ")
		b.WriteString(pick(r, closings))
	}
	return b.String()
}

// caseTitles names a piece of work for each capability, in
// market.Capabilities order.
var caseTitles = [12]string{
	"Activity and finance dashboards", "Risk stratification refresh", "Acute contract challenge",
	"Community services procurement", "Pathway redesign", "Prescribing QIPP scheme",
	"CHC assessment backlog", "Financial plan and annual accounts", "Organisational change programme",
	"Information governance review", "Public consultation", "Governance review",
}

func caseStudies(r *rand.Rand, caps uint16) []market.CaseStudy {
	n := 0
	switch x := r.IntN(10); {
	case x >= 8:
		n = 2
	case x >= 4:
		n = 1
	}
	if n == 0 {
		return nil
	}
	out := make([]market.CaseStudy, 0, n)
	c := caps
	for range n {
		j := bits.TrailingZeros16(c)
		out = append(out, market.CaseStudy{
			Title:   caseTitles[j],
			Client:  "NHS " + pick(r, places) + " CCG",
			Summary: capPhrases[j][r.IntN(3)],
		})
		if c&(c-1) != 0 {
			c &= c - 1
		}
	}
	return out
}

// phonePrefix gives each region (in market.Regions order) numbers from
// Ofcom's ranges reserved for drama, so no real line is named.
var phonePrefix = [7]string{
	"01632 960", // East of England: the fictional 01632 area
	"020 7946 0",
	"0121 496 0",
	"0113 496 0",
	"0161 496 0",
	"0118 496 0",
	"0117 496 0",
}

var councilKinds = []string{"County", "City", "Borough", "District"}

var charityForms = []string{
	"Carers' Centre", "Carers' Network", "Council for Voluntary Service", "Patient Voice",
	"Advocacy Trust", "Dementia Alliance", "Mental Health Forum", "Community Health Foundation",
	"Learning Disability Partnership", "Hospice at Home", "Older People's Forum", "Youth Health Project",
}

var enterpriseForms = []string{
	"Health Partnership CIC", "Wellbeing CIC", "Community Health Mutual CIC",
	"Social Prescribing CIC", "Pharmacy Outreach CIC", "Care Navigation CIC",
}

var firmForms = []string{
	"Analytics Ltd", "Health Intelligence Ltd", "Governance Ltd", "Procurement Services Ltd",
	"Data Services Ltd", "Care Assessment Ltd", "Transformation Ltd", "Digital Health Ltd",
	"Financial Services Ltd", "Communications Ltd", "HR Partners Ltd", "Clinical Systems Ltd",
}

// places are English river and dale names, which read as local without
// naming a real organisation.
var places = []string{
	"Alde", "Arun", "Avon Vale", "Axe Valley", "Blyth", "Brent", "Calder", "Cam", "Cherwell",
	"Colne", "Dearne", "Derwent", "Dove", "Eden", "Esk", "Exe", "Fal", "Frome", "Glaven",
	"Hamble", "Hodder", "Irwell", "Itchen", "Kennet", "Lark", "Lea Valley", "Loddon", "Lune",
	"Medlock", "Mole", "Nene", "Nidd", "Otter", "Ouse", "Pang", "Parrett", "Ribble", "Roding",
	"Rother", "Stour", "Swale", "Tamar", "Tees", "Test", "Torridge", "Ure", "Waveney", "Wear",
	"Wensum", "Wey", "Wharfe", "Windrush", "Witham", "Wye", "Yare", "Yeo", "Airedale",
	"Borrowdale", "Coverdale", "Dentdale", "Eskdale", "Kentdale", "Littondale", "Nidderdale",
	"Ryedale", "Swaledale", "Teesdale", "Wensleydale", "Weardale", "Tynedale", "Allendale",
	"Arkengarthdale", "Bowland", "Calderdale", "Cleveland Hills", "Craven", "Dane Valley",
	"Deben", "Dun Valley", "Ember", "Erewash", "Evenlode", "Fowey", "Gipping", "Hiz",
	"Holme Valley", "Idle", "Kym", "Leven", "Lugg", "Mease", "Mersey Vale", "Nar", "Ock",
	"Orwell", "Ouzel", "Piddle", "Quantock", "Rea Valley", "Sence", "Sheaf", "Skell", "Soar",
	"Sowe", "Stort", "Thame", "Tone", "Trent Vale", "Ver", "Wandle", "Welland", "Wissey",
	"Wreake", "Yarty", "Mendip", "Chiltern", "Cotswold", "Pennine", "Wolds", "Fenland",
	"Broadland", "Weald", "Marches", "Peak", "Furness", "Solway", "Cheviot", "Purbeck",
}

var surnames = []string{
	"Ainsworth", "Barraclough", "Beckett", "Blackwood", "Brearley", "Calloway", "Carrick",
	"Chadwick", "Dunmore", "Ellison", "Fairbairn", "Fenwick", "Garside", "Greenhalgh",
	"Haworth", "Holroyd", "Ingram", "Jowett", "Kershaw", "Lambert", "Lindley", "Marsden",
	"Midgley", "Nuttall", "Oldroyd", "Ormerod", "Pickles", "Priestley", "Rawnsley", "Redmayne",
	"Sowerby", "Stansfield", "Sutcliffe", "Thackray", "Tordoff", "Walmsley", "Whiteley",
	"Wilberforce", "Yeadon", "Ackroyd", "Bairstow", "Crabtree", "Duckworth", "Entwistle",
	"Fothergill", "Gaukroger", "Hepworth", "Illingworth", "Learoyd", "Mitchell", "Osei",
	"Patel", "Qureshi", "Rahman", "Singh", "Okafor", "Nwosu", "Kowalski", "Begum", "Chowdhury",
	"Armitage", "Binns", "Clegg", "Dawson", "Eastwood", "Firth", "Gledhill", "Hirst", "Jagger",
	"Kitson", "Lockwood", "Moorhouse", "Naylor", "Oates", "Pollard", "Rhodes", "Schofield",
	"Tattersall", "Uttley", "Varley", "Wadsworth", "Appleyard", "Broadbent", "Cockcroft",
	"Denison", "Emmott", "Farrar", "Greenwood", "Hainsworth", "Ibbotson", "Jennings", "Kaur",
	"Mahmood", "Nicholson", "Ogden", "Pearson", "Ramsden", "Shackleton", "Townend", "Whitaker",
}

var firstNames = []string{
	"Alison", "Amir", "Andrew", "Bethan", "Catherine", "Chidi", "Claire", "David", "Deborah",
	"Emma", "Farhan", "Fiona", "Gareth", "Grace", "Hannah", "Imran", "James", "Joanne",
	"Karen", "Kwame", "Laura", "Mark", "Michael", "Nadia", "Neil", "Nicola", "Olu", "Paul",
	"Priya", "Rachel", "Rebecca", "Richard", "Sajid", "Sarah", "Simon", "Sophie", "Stephen",
	"Susan", "Thomas", "Zara",
}

// demoNames are the demo's organisation names, which synthetic providers
// avoid so that a directory holding both never shows two of one name.
var demoNames = func() map[string]bool {
	m := map[string]bool{}
	providers, buyers := Demo()
	for _, p := range providers {
		m[p.Organisation.Name] = true
	}
	for _, b := range buyers {
		m[b.Name] = true
	}
	return m
}()

var qualifiers = []string{
	"North", "South", "East", "West", "North East", "North West", "South East", "South West",
	"Mid", "Upper", "Lower", "Central", "Greater", "High", "Vale of",
}

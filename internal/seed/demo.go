package seed

import (
	"slices"

	"github.com/csmarket/csmarket/internal/market"
)

// Region keys, short so that the demo table below stays readable.
const (
	eoe = "east_of_england"
	lon = "london"
	mid = "midlands"
	ney = "north_east_and_yorkshire"
	nw  = "north_west"
	se  = "south_east"
	sw  = "south_west"
)

// Capability keys, short for the same reason.
const (
	bi   = "business_intelligence"
	rs   = "risk_stratification"
	cm   = "contract_management"
	proc = "procurement"
	sr   = "service_redesign"
	mo   = "medicines_optimisation"
	chc  = "continuing_healthcare"
	fin  = "finance"
	hr   = "hr_od"
	ig   = "it_information_governance"
	comm = "communications_engagement"
	gov  = "corporate_governance"
)

// Accreditations as providers name them.
const (
	dspt    = "Data Security and Protection Toolkit: standards met"
	iso27   = "ISO 27001"
	iso9    = "ISO 9001"
	cep     = "Cyber Essentials Plus"
	ce      = "Cyber Essentials"
	iip     = "Investors in People"
	psn     = "Public Services Network compliance"
	cips    = "CIPS Corporate Ethics Mark"
	sem     = "Social Enterprise Mark"
	trusted = "Trusted Charity Mark"
	qpm     = "Advocacy Quality Performance Mark"
)

var allRegions = []string{eoe, lon, mid, ney, nw, se, sw}

// entry is one demo provider as written down: the organisation's fields and
// its listing, with day rates in pounds.
type entry struct {
	name    string
	sector  market.Sector
	id      market.Identifier
	size    market.Size
	regions []string
	caps    []string
	accr    []string
	rate    [2]int64 // pounds a day, min and max
	summary string
	cases   []market.CaseStudy
	contact market.Contact
}

func ods(code string) market.Identifier { return market.Identifier{Scheme: market.SchemeNHS, ID: code} }
func company(num string) market.Identifier {
	return market.Identifier{Scheme: market.SchemeCOH, ID: num}
}
func charity(num string) market.Identifier {
	return market.Identifier{Scheme: market.SchemeCharity, ID: num}
}
func council(code string) market.Identifier {
	return market.Identifier{Scheme: market.SchemeLAE, ID: code}
}

func cs(title, client, summary string) market.CaseStudy {
	return market.CaseStudy{Title: title, Client: client, Summary: summary}
}

func contact(name, email, phone, website string) market.Contact {
	return market.Contact{Name: name, Email: email, Phone: phone, Website: website}
}

func list(xs ...string) []string { return xs }

// Demo returns the demo directory: providers from all four sectors and the
// CCGs that buy from them. Every call returns fresh values, so callers may
// change them. The identifiers are fictional and kept apart from Synthetic's:
// ODS codes 0Z?, RZ? and 9Z?, company numbers 18xxxxxx, 19xxxxxx and OC9xxxxx,
// seven-digit charity numbers and council codes starting with Q.
func Demo() (providers []market.Provider, buyers []market.Organisation) {
	entries := demoEntries()
	providers = make([]market.Provider, len(entries))
	for i, e := range entries {
		providers[i] = e.provider()
	}
	return providers, demoBuyers()
}

func (e entry) provider() market.Provider {
	return market.Provider{
		Organisation: market.Organisation{
			Kind:        market.KindSupplier,
			Name:        e.name,
			Status:      market.StatusActive,
			Sector:      e.sector,
			Identifiers: []market.Identifier{e.id},
			Regions:     slices.Clone(e.regions),
		},
		Listing: market.Listing{
			Summary:         e.summary,
			Capabilities:    slices.Clone(e.caps),
			Regions:         slices.Clone(e.regions),
			Size:            e.size,
			Accreditations:  slices.Clone(e.accr),
			DayRateMinPence: e.rate[0] * 100,
			DayRateMaxPence: e.rate[1] * 100,
			CaseStudies:     slices.Clone(e.cases),
			Contact:         e.contact,
		},
	}
}

func ccg(name, code, region string, population, rcaPence int64) market.Organisation {
	return market.Organisation{
		Kind:                             market.KindBuyer,
		Name:                             name,
		Status:                           market.StatusActive,
		Identifiers:                      []market.Identifier{ods(code)},
		Regions:                          []string{region},
		Population:                       population,
		RunningCostAllowancePerHeadPence: rcaPence,
	}
}

func demoBuyers() []market.Organisation {
	return []market.Organisation{
		ccg("NHS Leeds North CCG", "9ZA", ney, 199_400, 2_480),
		ccg("NHS Newcastle North and East CCG", "9ZB", ney, 141_200, 2_495),
		ccg("NHS Central Manchester CCG", "9ZC", nw, 212_600, 2_450),
		ccg("NHS Birmingham CrossCity CCG", "9ZD", mid, 716_300, 2_280),
		ccg("NHS Coventry and Rugby CCG", "9ZE", mid, 462_100, 2_310),
		ccg("NHS Tower Hamlets CCG", "9ZF", lon, 302_800, 2_420),
		ccg("NHS Cambridgeshire and Peterborough CCG", "9ZG", eoe, 883_500, 2_210),
		ccg("NHS West Kent CCG", "9ZH", se, 476_900, 2_330),
		ccg("NHS Brighton and Hove CCG", "9ZJ", se, 305_400, 2_440),
		ccg("NHS Kernow CCG", "9ZK", sw, 552_700, 2_260),
	}
}

func demoEntries() []entry {
	nhs, la, third, ind := market.SectorNHS, market.SectorLocalAuthority, market.SectorThirdSector, market.SectorIndependent
	micro, small, medium, large := market.SizeMicro, market.SizeSmall, market.SizeMedium, market.SizeLarge
	return []entry{
		// NHS: commissioning support units and trusts selling support services.
		{
			name: "Arden Commissioning Support Unit", sector: nhs, id: ods("0ZA"), size: large,
			regions: list(mid), caps: list(bi, rs, cm, fin, ig), accr: list(dspt, iso27, cep), rate: [2]int64{550, 950},
			summary: "Hosted NHS commissioning support unit serving CCGs across Warwickshire, Coventry and Solihull. " +
				"Processes secondary uses service (SUS) data, reconciles month-end activity and raises contract challenges against acute providers. " +
				"Maintains a risk stratification tool refreshed monthly from GP and hospital data, and provides ledger, budget reporting and QIPP tracking under a service level agreement.",
			cases: []market.CaseStudy{
				cs("Acute contract challenge programme", "NHS Coventry and Rugby CCG",
					"Reviewed coding and counting at two acute trusts, challenging unbundled outpatient procedures and duplicate critical care days; £1.9m recovered in one year."),
				cs("Monthly risk stratification refresh", "NHS South Warwickshire CCG",
					"Combined primary care, SUS and social care data to rank patients by risk of emergency admission, feeding multidisciplinary team meetings in 34 practices."),
			},
			contact: contact("Helen Marsh", "csu.enquiries@arden.example.nhs.uk", "0121 496 0142", "https://www.arden.example.nhs.uk"),
		},
		{
			name: "North East Commissioning Support Unit", sector: nhs, id: ods("0ZB"), size: large,
			regions: list(ney), caps: list(bi, cm, mo, chc, gov), accr: list(dspt, iso9, iip), rate: [2]int64{500, 900},
			summary: "Commissioning support unit for CCGs between the Tees and the Scottish border. " +
				"Manages acute, community and mental health contracts, and runs a continuing healthcare team handling checklists, full assessments and retrospective claims. " +
				"Its pharmacists and technicians work in practices on prescribing QIPP schemes, and it provides governing body secretariat and the assurance framework for several CCGs.",
			cases: []market.CaseStudy{
				cs("Continuing healthcare backlog clearance", "NHS Newcastle North and East CCG",
					"Cleared 310 outstanding retrospective CHC claims in nine months and brought new assessments within the 28-day standard."),
				cs("Prescribing QIPP scheme", "NHS Sunderland CCG",
					"Practice-level switches for lipid-lowering drugs and proton pump inhibitors saved £640,000 against a £500,000 target."),
			},
			contact: contact("Graham Ridley", "commissioning@necsu.example.nhs.uk", "0191 498 0217", "https://www.necsu.example.nhs.uk"),
		},
		{
			name: "Greater Manchester Commissioning Support Unit", sector: nhs, id: ods("0ZC"), size: large,
			regions: list(nw), caps: list(bi, rs, proc, sr, comm), accr: list(dspt, cep), rate: [2]int64{550, 950},
			summary: "Commissioning support for the Greater Manchester CCGs and their associates. " +
				"Analysts build SUS-based dashboards, run the shared risk stratification model used by neighbourhood teams and model the activity effect of QIPP schemes. " +
				"Its redesign and procurement teams have run any-qualified-provider procurements for musculoskeletal, audiology and diagnostic services, with patient engagement in each.",
			cases: []market.CaseStudy{
				cs("Any qualified provider for adult hearing loss", "NHS Central Manchester CCG",
					"Wrote the specification, ran the qualification process and accredited five providers; waits fell from 14 to 4 weeks."),
				cs("Urgent care pathway redesign", "NHS Bolton CCG",
					"Mapped urgent care flows, heard from 600 residents and designed a single point of access, reducing minor attendances at A&E by 9%."),
			},
			contact: contact("Farah Qureshi", "enquiries@gmcsu.example.nhs.uk", "0161 496 0381", "https://www.gmcsu.example.nhs.uk"),
		},
		{
			name: "North and East London Commissioning Support Unit", sector: nhs, id: ods("0ZD"), size: large,
			regions: list(lon, eoe), caps: list(bi, cm, fin, hr, ig), accr: list(dspt, iso27, cep, iip), rate: [2]int64{600, 1000},
			summary: "Commissioning support unit for CCGs in north and east London and south-west Essex. " +
				"Manages the large acute contracts for its clients, including activity queries, data quality improvement plans and contract performance notices, and produces the monthly finance and activity pack for governing bodies. " +
				"Also provides HR, GP IT support and the CCG's information governance toolkit submission.",
			cases: []market.CaseStudy{
				cs("Data quality challenges at a teaching hospital", "NHS Tower Hamlets CCG",
					"Queried non-elective short stays and follow-up ratios, agreeing a £2.3m year-end settlement."),
				cs("Information governance toolkit level 2 for a new CCG", "NHS Barking and Dagenham CCG",
					"Wrote policies, trained staff and evidenced every requirement so that the CCG reached level 2 in its first year."),
			},
			contact: contact("Daniel Okafor", "support@nelcsu.example.nhs.uk", "020 7946 0518", "https://www.nelcsu.example.nhs.uk"),
		},
		{
			name: "Central Southern Commissioning Support Unit", sector: nhs, id: ods("0ZE"), size: large,
			regions: list(se, sw), caps: list(cm, proc, sr, chc, gov), accr: list(dspt, iso9), rate: [2]int64{550, 900},
			summary: "Serves CCGs in Berkshire, Buckinghamshire, Oxfordshire, Hampshire and Wiltshire. " +
				"Its procurement team runs OJEU and light-touch procurements end to end, and its transformation team manages programmes such as community services redesign and elective referral management. " +
				"Also runs a continuing healthcare service covering eligibility decisions, case management and personal health budgets, and company secretary support for governing bodies.",
			cases: []market.CaseStudy{
				cs("Community services re-procurement", "NHS Oxfordshire CCG",
					"Ran a competitive dialogue for adult community services worth £90m over five years, from market engagement to contract award."),
				cs("Personal health budgets in continuing healthcare", "NHS West Hampshire CCG",
					"Set up support planning and direct payments; 120 CHC patients took a personal health budget in the first year."),
			},
			contact: contact("Sarah Pennington", "info@cscsu.example.nhs.uk", "0118 496 0633", "https://www.cscsu.example.nhs.uk"),
		},
		{
			name: "Anglia Commissioning Support Unit", sector: nhs, id: ods("0ZF"), size: medium,
			regions: list(eoe), caps: list(bi, cm, mo, chc), accr: list(dspt, iip), rate: [2]int64{500, 850},
			summary: "Commissioning support unit covering Norfolk, Suffolk and Cambridgeshire, best known for prescribing support: ePACT analysis, formulary management for the area prescribing committee and a team of practice pharmacists. " +
				"Also carries out CHC assessments for three CCGs and monitors the contracts of independent-sector treatment centres.",
			cases: []market.CaseStudy{
				cs("Care home medication reviews", "NHS Ipswich and East Suffolk CCG",
					"Pharmacists reviewed 1,400 care home residents, stopping 2,900 medicines and reducing falls-related admissions."),
				cs("Treatment centre contract monitoring", "NHS Cambridgeshire and Peterborough CCG",
					"Monthly reconciliation of treatment centre activity against referrals found £280,000 of activity outside the agreed thresholds."),
			},
			contact: contact("Joanna Pryke", "contact@angliacsu.example.nhs.uk", "01632 960412", "https://www.angliacsu.example.nhs.uk"),
		},
		{
			name: "South West Commissioning Support Unit", sector: nhs, id: ods("0ZG"), size: large,
			regions: list(sw), caps: list(bi, rs, cm, ig, comm), accr: list(dspt, iso27, cep), rate: [2]int64{500, 900},
			summary: "NHS commissioning support for CCGs in Devon, Cornwall, Somerset and Gloucestershire. " +
				"Hosts a data services for commissioners regional office that processes SUS and local data flows, a risk stratification service with practice-level reporting, and GP IT services including clinical system support and network security. " +
				"Its communications team handles media, public consultation on service change and CCG annual reports.",
			cases: []market.CaseStudy{
				cs("Linked pseudonymised data set", "NHS Kernow CCG",
					"Linked hospital, community and GP data under section 251 approval, so that the CCG can follow frail patients across settings without identifying them."),
				cs("Community hospital consultation", "NHS Somerset CCG",
					"Ran a 12-week consultation on two community hospital wards, with 23 public meetings and an independent analysis of 3,100 responses."),
			},
			contact: contact("Tom Trelawny", "hello@swcsu.example.nhs.uk", "0117 496 0784", "https://www.swcsu.example.nhs.uk"),
		},
		{
			name: "Kent and Medway Commissioning Support Unit", sector: nhs, id: ods("0ZH"), size: medium,
			regions: list(se), caps: list(cm, fin, hr, gov), accr: list(dspt, iso9), rate: [2]int64{450, 800},
			summary: "Provides the back-office functions that smaller CCGs in Kent and Medway chose not to run in house. " +
				"Finance covers ledgers, monthly reporting, annual accounts and audit liaison; HR covers recruitment, employee relations and development for governing bodies. " +
				"Contract managers run quarterly performance meetings with community and mental health providers.",
			cases: []market.CaseStudy{
				cs("First annual accounts", "NHS West Kent CCG",
					"Produced the CCG's first annual accounts and governance statement, with an unqualified audit opinion."),
				cs("Governing body development", "NHS Swale CCG",
					"A development programme on conflicts of interest, clinical leadership and committee effectiveness."),
			},
			contact: contact("Linda Castle", "business@kmcsu.example.nhs.uk", "01632 960587", ""),
		},
		{
			name: "Calder Valley Health Informatics Service", sector: nhs, id: ods("RZ1"), size: small,
			regions: list(ney), caps: list(bi, ig), accr: list(dspt, iso27, cep), rate: [2]int64{400, 700},
			summary: "NHS informatics service hosted by a community trust in West Yorkshire, providing GP IT to 60 practices and clinical system support to CCGs. " +
				"Handles information governance work: data protection impact assessments, IG toolkit evidence, Caldicott guardian support and subject access requests. " +
				"Extracts GP data for local risk stratification and clinical audit under agreed data-sharing agreements.",
			cases: []market.CaseStudy{
				cs("Practice clinical system migration", "NHS Calderdale CCG",
					"Migrated 26 practices to a new clinical system, with data quality checks before and after cut-over and no loss of records."),
				cs("Information governance audit", "NHS Greater Huddersfield CCG",
					"Audited information flows and data-sharing agreements, closing 14 findings before the toolkit submission."),
			},
			contact: contact("Martin Sutcliffe", "servicedesk@caldervalleyhis.example.nhs.uk", "0113 496 0295", ""),
		},
		{
			name: "Marches Community Health NHS Trust", sector: nhs, id: ods("RZ2"), size: large,
			regions: list(mid), caps: list(sr, mo, chc), accr: list(iip, iso9), rate: [2]int64{450, 750},
			summary: "Community trust in Shropshire and Herefordshire that offers its clinical expertise to commissioners. " +
				"Its CHC nurse assessors complete checklists, decision support tool assessments and reviews, and its medicines management team runs repeat prescribing audits and care home reviews. " +
				"Has redesigned community nursing and intermediate care with CCGs and social care.",
			cases: []market.CaseStudy{
				cs("Intermediate care redesign", "NHS Shropshire CCG",
					"Turned step-up and step-down beds into a single discharge-to-assess service, cutting delayed transfers of care by a third."),
				cs("CHC review backlog", "NHS Herefordshire CCG",
					"Completed 450 overdue three-month and annual CHC reviews within six months."),
			},
			contact: contact("Rachel Pugh", "commissioner.services@marches.example.nhs.uk", "0121 496 0418", "https://www.marches.example.nhs.uk"),
		},
		{
			name: "Pennine NHS Shared Financial Services", sector: nhs, id: ods("RZ3"), size: medium,
			regions: list(nw, ney), caps: list(proc, fin, hr), accr: list(iso9, ce), rate: [2]int64{400, 700},
			summary: "NHS shared service hosted by a foundation trust, providing accounts payable and receivable, payroll and expenses to CCGs and trusts in the north of England. " +
				"Also offers management accounting support, QIPP savings tracking and purchasing of non-clinical goods and services through framework agreements.",
			cases: []market.CaseStudy{
				cs("Payroll and ledger transfer", "NHS Blackburn with Darwen CCG",
					"Moved payroll, ledger and expenses from the primary care trust without a missed payment run."),
			},
			contact: contact("Ian Whitworth", "sfs@pennine.example.nhs.uk", "0161 496 0724", ""),
		},
		{
			name: "Thames NHS Procurement Partnership", sector: nhs, id: ods("RZ4"), size: medium,
			regions: list(lon, se, eoe), caps: list(cm, proc), accr: list(iso9, cips), rate: [2]int64{500, 850},
			summary: "NHS procurement hub owned by its member trusts and CCGs, running procurements of clinical services under the NHS procurement regulations. " +
				"Prepares specifications, evaluation models and NHS standard contracts, and advises on when a service may be awarded without competition. " +
				"Keeps framework agreements that CCGs can call off without running their own tender.",
			cases: []market.CaseStudy{
				cs("Diagnostics call-off", "NHS Brighton and Hove CCG",
					"Awarded a direct-access MRI and ultrasound contract from a framework in seven weeks."),
				cs("NHS 111 joint procurement", "NHS Hillingdon CCG",
					"Joint procurement for five CCGs, with evaluation panels of clinicians and lay members."),
			},
			contact: contact("Grace Adeyemi", "tenders@thamespp.example.nhs.uk", "020 7946 0836", "https://www.thamespp.example.nhs.uk"),
		},

		// Local authorities: public health, intelligence and shared services.
		{
			name: "Leeds City Council Public Health Intelligence", sector: la, id: council("QLDS"), size: large,
			regions: list(ney), caps: list(bi, rs, sr), accr: list(psn, dspt), rate: [2]int64{400, 650},
			summary: "Public health intelligence team of Leeds City Council, producing the joint strategic needs assessment and ward-level health profiles. " +
				"Works with CCG analysts on a shared risk stratification model that adds social care and housing data to GP records, and evaluates service changes against matched comparison groups.",
			cases: []market.CaseStudy{
				cs("Joint strategic needs assessment", "NHS Leeds North CCG",
					"Ward-level analysis of long-term conditions, deprivation and unplanned admissions that set the CCG's commissioning priorities."),
				cs("Integrated risk stratification", "NHS Leeds South and East CCG",
					"Linked adult social care records to the GP risk tool so that integrated neighbourhood teams see both."),
			},
			contact: contact("Amina Hussain", "phi@leedscc.example.org", "0113 496 0471", "https://www.leedscc.example.org"),
		},
		{
			name: "Birmingham City Council Business Intelligence Service", sector: la, id: council("QBIR"), size: large,
			regions: list(mid), caps: list(bi, cm, proc), accr: list(psn, ce), rate: [2]int64{400, 700},
			summary: "Corporate business intelligence team offering its data warehouse and reporting skills to CCGs in Birmingham and Solihull. " +
				"Builds joint health and social care dashboards for the better care fund, reports on delayed transfers of care and care home placements, and supports joint commissioning of social care and community health contracts.",
			cases: []market.CaseStudy{
				cs("Better care fund dashboard", "NHS Birmingham CrossCity CCG",
					"Monthly dashboard of non-elective admissions, delayed transfers and reablement outcomes for the health and wellbeing board."),
				cs("Joint nursing home contract", "NHS Birmingham South and Central CCG",
					"Set up a joint contract and monitoring regime for nursing homes with the council's adult social care commissioners."),
			},
			contact: contact("Paul Dhillon", "bi.service@birminghamcc.example.org", "0121 496 0563", ""),
		},
		{
			name: "Essex County Council Commissioning Support Team", sector: la, id: council("QESX"), size: large,
			regions: list(eoe), caps: list(cm, proc, sr), accr: list(iso9, ce), rate: [2]int64{450, 750},
			summary: "County council commissioning team that has run joint procurements with Essex CCGs for reablement, carers' services and community equipment. " +
				"Offers market shaping and provider engagement, procurement under council and NHS rules, and contract management with quarterly performance reviews.",
			cases: []market.CaseStudy{
				cs("Integrated community equipment service", "NHS Mid Essex CCG",
					"Joint procurement of a pooled-budget equipment service for the county and five CCGs."),
				cs("Carers' support re-procurement", "NHS North East Essex CCG",
					"Wrote the specification with carers and awarded a county-wide contract to a voluntary-sector consortium."),
			},
			contact: contact("Claire Beckwith", "commissioning.support@essexcc.example.org", "01632 960239", "https://www.essexcc.example.org"),
		},
		{
			name: "Manchester City Council Public Health Team", sector: la, id: council("QMAN"), size: large,
			regions: list(nw), caps: list(bi, sr, comm), accr: list(psn), rate: [2]int64{400, 650},
			summary: "The council's public health team, offering CCGs epidemiological analysis, health needs assessments and evaluation of prevention programmes. " +
				"Leads community engagement through neighbourhood health and wellbeing networks, and has designed stop-smoking, NHS health check and alcohol services with primary care.",
			cases: []market.CaseStudy{
				cs("Alcohol care pathway", "NHS North Manchester CCG",
					"Needs assessment and redesign of alcohol liaison and community detoxification, agreed jointly with the hospital trust."),
				cs("Health check uptake", "NHS Central Manchester CCG",
					"Targeted invitations and outreach in four wards raised health check uptake from 38% to 57%."),
			},
			contact: contact("Kevin Doyle", "publichealth@manchestercc.example.org", "0161 496 0647", ""),
		},
		{
			name: "Hampshire County Council Shared Services", sector: la, id: council("QHAM"), size: large,
			regions: list(se, sw), caps: list(proc, fin, hr, ig), accr: list(iso27, iso9, cep), rate: [2]int64{450, 750},
			summary: "Public-sector shared service run by the county council, already providing finance, HR, payroll and procurement to councils, police and fire services. " +
				"Offers CCGs an integrated business centre on one ERP system: accounts payable, payroll, recruitment administration, purchasing and management reporting, with monthly performance reports against a service level agreement.",
			cases: []market.CaseStudy{
				cs("Transactional services for two CCGs", "NHS North Hampshire CCG",
					"Moved payroll and purchase-to-pay onto the shared platform, cutting the cost per invoice processed by 40%."),
			},
			contact: contact("Ruth Hollins", "sharedservices@hampshirecc.example.org", "0118 496 0459", "https://www.hampshirecc.example.org"),
		},
		{
			name: "Cornwall Council Public Health Intelligence", sector: la, id: council("QCON"), size: medium,
			regions: list(sw), caps: list(bi, rs, comm), accr: list(psn), rate: [2]int64{350, 600},
			summary: "Public health intelligence team for Cornwall and the Isles of Scilly, analysing the health of a dispersed rural population with high seasonal demand. " +
				"Keeps a risk stratification of frail older people with the CCG and community services, and runs surveys and engagement with seldom-heard groups, including Gypsy and Traveller communities.",
			cases: []market.CaseStudy{
				cs("Shared frailty register", "NHS Kernow CCG",
					"Combined GP frailty scores with social care data to build a register used by locality teams."),
				cs("Seasonal demand analysis", "NHS Kernow CCG",
					"Modelled summer visitor demand on minor injury units and A&E to plan urgent care capacity."),
			},
			contact: contact("Morwenna Pascoe", "phi@cornwallcouncil.example.org", "0117 496 0852", ""),
		},
		{
			name: "London Borough of Tower Hamlets Public Health Team", sector: la, id: council("QTWH"), size: medium,
			regions: list(lon), caps: list(bi, sr, comm), accr: list(psn), rate: [2]int64{400, 650},
			summary: "Borough public health team with a record on diabetes and cardiovascular disease in a young, diverse and deprived population. " +
				"Offers CCGs needs assessment, programme evaluation and engagement through Bengali and Somali community organisations, and designs services with GP networks.",
			cases: []market.CaseStudy{
				cs("Network diabetes care packages", "NHS Tower Hamlets CCG",
					"Helped design the network-based diabetes package and evaluated its effect on HbA1c control across 36 practices."),
			},
			contact: contact("Shirin Begum", "publichealth@towerhamlets.example.org", "020 7946 0371", ""),
		},
		{
			name: "Nottinghamshire County Council Adult Social Care Commissioning", sector: la, id: council("QNTT"), size: large,
			regions: list(mid), caps: list(cm, proc, chc), accr: list(psn, iso9), rate: [2]int64{400, 650},
			summary: "Adult social care commissioning team working with Nottinghamshire CCGs on joint packages of care. " +
				"Shares the brokerage and care home contract monitoring it already runs, supports continuing healthcare and joint funding decisions, and procures home care for the council and CCGs together.",
			cases: []market.CaseStudy{
				cs("Joint brokerage of CHC packages", "NHS Mansfield and Ashfield CCG",
					"The council's brokerage team placed CHC home care packages, cutting the average time to start care from 12 to 5 days."),
				cs("Home care framework", "NHS Nottingham North and East CCG",
					"A joint framework of 14 home care providers with common rates and quality standards."),
			},
			contact: contact("Steven Wragg", "asc.commissioning@nottscc.example.org", "0115 496 0193", ""),
		},
		{
			name: "Norfolk County Council Information Management Service", sector: la, id: council("QNFC"), size: medium,
			regions: list(eoe), caps: list(bi, ig, gov), accr: list(iso27, psn, cep), rate: [2]int64{400, 700},
			summary: "Council information management and governance team that supports CCGs sharing data with social care. " +
				"Drafts information-sharing agreements and privacy notices, runs data protection impact assessments and acts as data protection officer for smaller partners. " +
				"Hosts a secure reporting environment for joint health and social care analysis.",
			cases: []market.CaseStudy{
				cs("Information-sharing framework", "NHS Norwich CCG",
					"One information-sharing framework for health and social care partners, now used by 11 organisations."),
			},
			contact: contact("Neil Armes", "ig@norfolkcc.example.org", "01632 960658", ""),
		},
		{
			name: "Liverpool City Region Councils' Procurement Hub", sector: la, id: council("QLCR"), size: small,
			regions: list(nw), caps: list(cm, proc), accr: list(cips), rate: [2]int64{350, 600},
			summary: "Procurement team shared by councils in the Liverpool City Region, offering CCGs procurement advice, tender management on its e-tendering portal and contract management for community services. " +
				"Experienced in evaluating social value and in lotting contracts so that local voluntary organisations can bid.",
			cases: []market.CaseStudy{
				cs("Lotted health improvement tender", "NHS Liverpool CCG",
					"Split a health improvement contract into six lots, four of them won by local voluntary organisations."),
			},
			contact: contact("Janet McCall", "procurement.hub@lcrcouncils.example.org", "0151 496 0282", ""),
		},
		{
			name: "Gateshead Council Legal and Democratic Services", sector: la, id: council("QGTD"), size: small,
			regions: list(ney), caps: list(hr, gov), rate: [2]int64{350, 550},
			summary: "Council legal and democratic services team offering CCGs governance support: constitutions, standing orders, conflicts of interest registers, committee clerking and freedom of information requests. " +
				"Its HR advisers give employment law advice and support disciplinary and grievance cases for small CCGs.",
			cases: []market.CaseStudy{
				cs("Constitution and scheme of delegation", "NHS Gateshead CCG",
					"Reviewed the constitution and scheme of delegation after localities merged, and clerked the governing body for its first year."),
			},
			contact: contact("Alan Robson", "democratic.services@gatesheadcc.example.org", "0191 498 0536", ""),
		},
		{
			name: "Bristol City Council Consultation and Engagement Team", sector: la, id: council("QBRS"), size: medium,
			regions: list(sw), caps: list(sr, comm), rate: [2]int64{350, 600},
			summary: "Council consultation team offering CCGs public consultation on service change, equality impact assessments and surveys through a citizens' panel of 1,200 residents. " +
				"Has run joint consultations with CCGs on community health services and mental health day services, including independent analysis of the responses.",
			cases: []market.CaseStudy{
				cs("Mental health day services consultation", "NHS Bristol CCG",
					"A 12-week consultation with service users and carers, with an equality impact assessment and a report to the joint health scrutiny committee."),
			},
			contact: contact("Lucy Tovey", "consultation@bristolcc.example.org", "0117 496 0913", "https://www.bristolcc.example.org"),
		},

		// Third sector: charities and social enterprises.
		{
			name: "Calderbrook Carers' Alliance", sector: third, id: charity("1145203"), size: small,
			regions: list(ney), caps: list(chc, comm), accr: list(iip, trusted), rate: [2]int64{350, 500},
			summary: "Charity supporting 4,000 registered unpaid carers in Calderdale and Kirklees. " +
				"Offers CCGs carers' engagement, carers' assessments on the council's behalf and support for families going through continuing healthcare assessments. " +
				"Its carers' reference group reviews proposed service changes before they go to consultation.",
			cases: []market.CaseStudy{
				cs("Carers' reference group", "NHS Calderdale CCG",
					"Carers reviewed the CCG's discharge and respite proposals, changing how carers are told about a discharge."),
				cs("Family support in CHC assessments", "NHS Greater Huddersfield CCG",
					"Support workers explained the decision support tool to 90 families and attended their assessments."),
			},
			contact: contact("Julie Barraclough", "info@calderbrookcarers.example.org", "0113 496 0317", "https://www.calderbrookcarers.example.org"),
		},
		{
			name: "Continuing Care Advocacy Network", sector: third, id: charity("1152874"), size: small,
			regions: list(lon, se, eoe, mid), caps: list(chc, comm), accr: list(qpm), rate: [2]int64{350, 550},
			summary: "Independent advocacy charity for people going through NHS continuing healthcare assessments and appeals. " +
				"CCGs commission it to support patients and families at multidisciplinary team meetings, help with retrospective claims and local resolution, and report where assessments fall short of the national framework.",
			cases: []market.CaseStudy{
				cs("Independent CHC advocacy", "NHS Hillingdon CCG",
					"Supported 140 people through assessments in a year, with quarterly reports on themes such as late notice of MDT meetings."),
				cs("Retrospective claims support", "NHS Coventry and Rugby CCG",
					"Helped families prepare evidence for 60 previously unassessed periods of care."),
			},
			contact: contact("Margaret Ellery", "advocacy@ccan.example.org", "020 7946 0264", "https://www.ccan.example.org"),
		},
		{
			name: "Patient Voice Partnership North West", sector: third, id: charity("1160498"), size: micro,
			regions: list(nw), caps: list(comm), rate: [2]int64{350, 450},
			summary: "Small charity that recruits and trains lay people for patient participation groups, CCG patient reference groups and procurement evaluation panels. " +
				"Reaches seldom-heard groups through partners working with homeless people, asylum seekers and young carers, and writes up engagement in a form fit for governing body papers.",
			cases: []market.CaseStudy{
				cs("Lay members on evaluation panels", "NHS Central Manchester CCG",
					"Trained eight patient representatives to score quality questions in a community services tender."),
			},
			contact: contact("Derek Holt", "hello@pvpnw.example.org", "0161 496 0128", ""),
		},
		{
			name: "Brightwater Community Health CIC", sector: third, id: company("18304571"), size: medium,
			regions: list(sw), caps: list(rs, sr, comm), accr: list(sem, iso9, dspt), rate: [2]int64{400, 650},
			summary: "Community interest company, spun out of a primary care trust, running social prescribing and community navigator services across Devon. " +
				"Works with CCGs to find patients at high risk of admission on the practice risk register, link them to voluntary-sector support and measure the effect on GP and A&E use.",
			cases: []market.CaseStudy{
				cs("Social prescribing for frequent attenders", "NHS Northern, Eastern and Western Devon CCG",
					"Navigators worked with 800 frequent attenders; GP appointments for the group fell by a quarter over a year."),
			},
			contact: contact("Anna Cole", "enquiries@brightwater.example.org", "0117 496 0406", "https://www.brightwater.example.org"),
		},
		{
			name: "Mercia Mental Health Alliance", sector: third, id: charity("1139652"), size: medium,
			regions: list(mid), caps: list(cm, sr, comm), accr: list(iip, trusted), rate: [2]int64{350, 600},
			summary: "Alliance of 19 voluntary mental health organisations in the West Midlands, holding contracts as lead provider with subcontracts to its members. " +
				"Offers CCGs peer research and service-user engagement for mental health redesign, and monitors the quality of voluntary-sector mental health contracts on their behalf.",
			cases: []market.CaseStudy{
				cs("Crisis care engagement", "NHS Birmingham CrossCity CCG",
					"Peer researchers interviewed 200 people who had used crisis services, shaping the crisis house specification."),
				cs("Voluntary-sector contract monitoring", "NHS Wolverhampton CCG",
					"Quarterly outcome monitoring of nine grant-funded mental health services, recommending that six be recommissioned."),
			},
			contact: contact("Beverley Osei", "alliance@merciamh.example.org", "0121 496 0775", ""),
		},
		{
			name: "Fenland Rural Health Forum", sector: third, id: charity("1148830"), size: micro,
			regions: list(eoe), caps: list(comm), rate: [2]int64{350, 450},
			summary: "Small rural charity linking village groups, parish councils and patient groups in the Fens. " +
				"CCGs use it for engagement where public meetings draw few people: it runs drop-ins at markets and village halls, and reports views on hospital transport, GP access and community services.",
			cases: []market.CaseStudy{
				cs("Patient transport engagement", "NHS Cambridgeshire and Peterborough CCG",
					"Gathered the views of 450 rural residents on non-emergency patient transport before its re-procurement."),
			},
			contact: contact("Susan Ward", "forum@fenlandhealth.example.org", "01632 960771", ""),
		},
		{
			name: "Eastgate Migrant Health Project", sector: third, id: charity("1157319"), size: small,
			regions: list(lon), caps: list(sr, comm), rate: [2]int64{350, 550},
			summary: "Charity helping refugees, asylum seekers and other migrants in east London to register with GPs and use NHS services. " +
				"Provides CCGs with community engagement in 14 languages, advice on interpreting and health needs assessments for new communities.",
			cases: []market.CaseStudy{
				cs("GP registration audit", "NHS Newham CCG",
					"Mystery-shopper audit of registration without proof of address at 40 practices, followed by training for reception staff."),
			},
			contact: contact("Yusuf Farah", "info@eastgatemhp.example.org", "020 7946 0693", ""),
		},
		{
			name: "Medwise Community Interest Company", sector: third, id: company("18417732"), size: small,
			regions: list(mid, nw), caps: list(mo), accr: list(dspt, ce), rate: [2]int64{450, 700},
			summary: "Social enterprise of pharmacists and pharmacy technicians working in care homes and GP practices. " +
				"CCGs commission it for structured medication reviews, anticipatory medicines at the end of life and repeat prescribing audits; surpluses pay for training care home staff.",
			cases: []market.CaseStudy{
				cs("Care home medicines waste", "NHS Stoke on Trent CCG",
					"Reviewed ordering in 31 care homes, reducing medicines waste by an estimated £210,000 a year."),
				cs("Antibiotic prescribing audit", "NHS Wirral CCG",
					"Practice audits and feedback that brought broad-spectrum antibiotic prescribing under the national target."),
			},
			contact: contact("Priya Natarajan", "team@medwise.example.org", "0121 496 0910", "https://www.medwise.example.org"),
		},
		{
			name: "Severn Vale Council for Voluntary Service", sector: third, id: charity("1132560"), size: small,
			regions: list(mid, sw), caps: list(proc, sr, comm), rate: [2]int64{350, 500},
			summary: "Umbrella body for 600 voluntary and community groups in Gloucestershire and Worcestershire. " +
				"Helps CCGs reach the voluntary sector: market engagement events before tenders, support so that small groups can bid, and a directory of community services for social prescribing.",
			cases: []market.CaseStudy{
				cs("Market engagement for a prevention tender", "NHS Gloucestershire CCG",
					"Three provider events and bid-writing workshops; 11 voluntary groups bid, against 2 in the previous round."),
			},
			contact: contact("Owen Bright", "cvs@severnvale.example.org", "0117 496 0528", ""),
		},
		{
			name: "Tynedale Dementia Alliance", sector: third, id: charity("1141187"), size: small,
			regions: list(ney), caps: list(sr, chc, comm), rate: [2]int64{350, 550},
			summary: "Charity supporting people with dementia and their families in Northumberland and North Tyneside through memory cafés, dementia advisers and carers' courses. " +
				"Works with CCGs on the pathway after diagnosis, and supports families through CHC assessments when needs become complex.",
			cases: []market.CaseStudy{
				cs("Post-diagnosis support pathway", "NHS North Tyneside CCG",
					"Designed a dementia adviser service with the memory clinic so that everyone diagnosed is offered support within four weeks."),
			},
			contact: contact("Eileen Charlton", "hello@tynedaledementia.example.org", "0191 498 0647", ""),
		},
		{
			name: "Weald Palliative Care Network", sector: third, id: charity("1127406"), size: medium,
			regions: list(se), caps: list(sr, chc), accr: list(iip), rate: [2]int64{400, 650},
			summary: "Hospice charity providing end-of-life care at home across Kent and East Sussex, including fast-track CHC packages. " +
				"Helps CCGs redesign end-of-life pathways, set up shared palliative care records and run fast-track brokerage so that people can die in their preferred place.",
			cases: []market.CaseStudy{
				cs("Fast-track CHC at home", "NHS West Kent CCG",
					"Took over fast-track brokerage, starting care within 24 hours for 85% of referrals."),
				cs("Shared palliative care record", "NHS Hastings and Rother CCG",
					"Supported practices to use a shared record; deaths in the preferred place rose from 52% to 71%."),
			},
			contact: contact("Catherine Ashdown", "referrals@wealdpalliative.example.org", "01632 960345", "https://www.wealdpalliative.example.org"),
		},
		{
			name: "Social Value Works CIC", sector: third, id: company("18552094"), size: micro,
			regions: list(lon, se, eoe), caps: list(proc, comm, gov), accr: list(sem), rate: [2]int64{400, 600},
			summary: "Community interest company of two former NHS procurement managers, advising CCGs on social value: writing questions and weightings, evaluating responses and monitoring delivery through the contract. " +
				"Also trains governing bodies on their duties under the Public Services (Social Value) Act.",
			cases: []market.CaseStudy{
				cs("Social value in a community services tender", "NHS Brighton and Hove CCG",
					"Wrote a 10% social value criterion and monitored the winning bidder's local employment commitments."),
			},
			contact: contact("Mark Ibbotson", "info@socialvalueworks.example.org", "020 7946 0147", ""),
		},
		{
			name: "Irwell Community Health Mutual CIC", sector: third, id: company("18629915"), size: medium,
			regions: list(nw), caps: list(rs, sr, mo), accr: list(iso9, dspt, sem), rate: [2]int64{450, 700},
			summary: "Employee-owned social enterprise that left the NHS under the right to request, running community nursing, intermediate care and a medicines management team. " +
				"Offers CCGs case management of patients found through risk stratification, virtual ward rounds with GPs and redesign of long-term conditions services.",
			cases: []market.CaseStudy{
				cs("Virtual ward", "NHS Salford CCG",
					"Case managers followed 1,100 high-risk patients on a virtual ward; emergency admissions for the group fell by 14%."),
			},
			contact: contact("Gareth Lowe", "enquiries@irwellmutual.example.org", "0161 496 0902", ""),
		},
		{
			name: "Kennet Valley Learning Disability Partnership", sector: third, id: charity("1163348"), size: small,
			regions: list(se, sw), caps: list(cm, chc, comm), rate: [2]int64{350, 500},
			summary: "Charity run with and by people with learning disabilities in Berkshire and Wiltshire. " +
				"Trains experts by experience who join CCG quality visits to care providers, review easy-read information and take part in CHC reviews and care and treatment reviews of people in hospital placements.",
			cases: []market.CaseStudy{
				cs("Care and treatment reviews", "NHS Wiltshire CCG",
					"Experts by experience took part in 30 reviews of people in specialist hospital placements; nine have since moved back to the community."),
			},
			contact: contact("Helen Baverstock", "office@kennetld.example.org", "0118 496 0714", ""),
		},

		// Independent sector: consultancies, analytics, IT and governance firms.
		{
			name: "Hartwell Analytics Ltd", sector: ind, id: company("18107436"), size: small,
			regions: list(ney, nw, mid), caps: list(bi, rs), accr: list(dspt, iso27, cep), rate: [2]int64{550, 850},
			summary: "Analytics firm of 22 staff working on pseudonymised SUS and GP data for CCGs. " +
				"Builds activity and finance dashboards, HRG and tariff validation checks that support contract challenges, and a risk stratification model validated against local emergency admissions.",
			cases: []market.CaseStudy{
				cs("Tariff validation", "NHS Leeds North CCG",
					"Automated checks on payment-by-results coding found £740,000 of challengeable activity in a year."),
				cs("Risk model comparison", "NHS Wakefield CCG",
					"Compared three risk tools against two years of admissions and recommended one for neighbourhood teams."),
			},
			contact: contact("Stuart Hartwell", "stuart.hartwell@hartwellanalytics.example.com", "0113 496 0663", "https://www.hartwellanalytics.example.com"),
		},
		{
			name: "Ashcombe Partners LLP", sector: ind, id: company("OC912345"), size: large,
			regions: allRegions, caps: list(cm, proc, sr, fin, gov), accr: list(iso9, iso27, cep), rate: [2]int64{900, 1400},
			summary: "National management consultancy with a health practice of 150 consultants. " +
				"Supports CCGs with medium-term financial plans and QIPP programmes, financial recovery under legal directions, capability reviews for authorisation and assurance, and large procurements such as outcomes-based contracts.",
			cases: []market.CaseStudy{
				cs("Financial recovery plan", "NHS Cambridgeshire and Peterborough CCG",
					"A three-year recovery plan with a £32m QIPP programme and a programme management office to deliver it."),
				cs("Outcomes-based musculoskeletal contract", "NHS Bedfordshire CCG",
					"Advised on the design and procurement of a five-year outcomes-based contract for musculoskeletal services."),
			},
			contact: contact("Victoria Lambert", "health@ashcombepartners.example.com", "020 7946 0925", "https://www.ashcombepartners.example.com"),
		},
		{
			name: "Quillfield Information Governance Ltd", sector: ind, id: company("18275518"), size: micro,
			regions: list(lon, se), caps: list(ig, gov), accr: list(cep, dspt), rate: [2]int64{450, 750},
			summary: "Two-person information governance consultancy acting as outsourced data protection officer for CCGs and GP federations. " +
				"Prepares Data Security and Protection Toolkit submissions, writes data protection impact assessments for risk stratification and population health projects, and trains Caldicott guardians and SIROs.",
			cases: []market.CaseStudy{
				cs("Outsourced data protection officer", "NHS Brighton and Hove CCG",
					"Data protection officer for three years, including the investigation of two reportable incidents."),
			},
			contact: contact("Eleanor Quill", "eleanor@quillfield.example.com", "0118 496 0186", ""),
		},
		{
			name: "Northlight Predictive Health Ltd", sector: ind, id: company("18390067"), size: medium,
			regions: list(ney, nw, mid, eoe, sw), caps: list(bi, rs), accr: list(dspt, iso27, cep), rate: [2]int64{650, 1000},
			summary: "Licenses a risk stratification and population health management tool, with analysts who help CCGs use it. " +
				"The tool scores every registered patient monthly for risk of emergency admission from GP, SUS and community data received through an accredited data processor, and produces practice lists for case finding.",
			cases: []market.CaseStudy{
				cs("Case finding for integrated teams", "NHS Birmingham CrossCity CCG",
					"Deployed the tool to 105 practices, with training for practice staff and a monthly case-finding list."),
				cs("Population segmentation", "NHS Doncaster CCG",
					"Divided the population into eight segments by need to set the budget for a new model of care."),
			},
			contact: contact("Andrew Fenwick", "sales@northlightph.example.com", "0191 498 0805", "https://www.northlightph.example.com"),
		},
		{
			name: "Ledgerline Contract Assurance Ltd", sector: ind, id: company("18461283"), size: small,
			regions: list(mid, eoe, lon), caps: list(cm, fin), accr: list(iso9), rate: [2]int64{600, 900},
			summary: "Small firm of former acute-trust information and finance managers that reviews provider contracts for CCGs: counting and coding audits, challenges to local prices and penalties, activity plans and year-end settlements. " +
				"Works for a fixed fee or a share of the sums recovered.",
			cases: []market.CaseStudy{
				cs("Year-end settlement", "NHS Nene CCG",
					"Prepared the evidence and led negotiation on disputed over-performance, settling £3.1m below the provider's claim."),
				cs("Short-stay coding audit", "NHS Luton CCG",
					"A clinical coding audit of short-stay admissions that reclassified 1,800 spells."),
			},
			contact: contact("Rajesh Mistry", "info@ledgerline.example.com", "0116 496 0532", ""),
		},
		{
			name: "Pennant Procurement Services Ltd", sector: ind, id: company("18512940"), size: small,
			regions: list(sw, se), caps: list(cm, proc), accr: list(cips, ce), rate: [2]int64{500, 800},
			summary: "Procurement consultancy for health commissioners. " +
				"Runs tenders under the NHS procurement regulations and the public contracts regulations, from procurement strategy and prior information notice to standstill and award, and sets up the contract management that follows.",
			cases: []market.CaseStudy{
				cs("Community dermatology tender", "NHS Somerset CCG",
					"An open procedure with four bidders, completed in 16 weeks with no challenge during standstill."),
			},
			contact: contact("Sian Pennant", "tenders@pennantprocurement.example.com", "0117 496 0691", ""),
		},
		{
			name: "Fairhaven HR Partners Ltd", sector: ind, id: company("18638807"), size: small,
			regions: list(nw, ney), caps: list(hr), accr: list(iip), rate: [2]int64{450, 700},
			summary: "HR consultancy for small NHS organisations. " +
				"Provides CCGs with employee relations casework, TUPE transfers when services move between providers, consultations on organisational change, and development programmes for governing body members and clinical leads.",
			cases: []market.CaseStudy{
				cs("TUPE transfer of a commissioning team", "NHS Blackpool CCG",
					"Managed the transfer of 18 staff into the CCG from a commissioning support unit, including consultation with trade unions."),
			},
			contact: contact("Nicola Fairhurst", "hello@fairhavenhr.example.com", "0151 496 0379", ""),
		},
		{
			name: "Kestrel Digital Health Ltd", sector: ind, id: company("18704625"), size: medium,
			regions: list(lon, se, eoe, mid), caps: list(bi, ig), accr: list(iso27, cep, dspt, iso9), rate: [2]int64{600, 950},
			summary: "IT services firm supporting GP practices and CCGs: service desk, network and device management, migration to NHS-approved cloud services and cyber security assessments. " +
				"Its data team builds primary care reporting from GP systems for quality and outcomes framework and local enhanced service payments.",
			cases: []market.CaseStudy{
				cs("Primary care cyber security", "NHS Barnet CCG",
					"Assessed 62 practices against Cyber Essentials, replaced unsupported systems and set up monitoring."),
				cs("Enhanced service payments", "NHS West Essex CCG",
					"Automated GP system searches that replaced manual claims for 11 local enhanced services."),
			},
			contact: contact("Oliver Bancroft", "enquiries@kestreldigital.example.com", "020 7946 0462", "https://www.kestreldigital.example.com"),
		},
		{
			name: "Orchard Lane Governance Ltd", sector: ind, id: company("18776150"), size: micro,
			regions: list(eoe, lon), caps: list(gov), rate: [2]int64{500, 800},
			summary: "Governance adviser to CCG governing bodies, run by a former NHS board secretary. " +
				"Writes and reviews constitutions, standing financial instructions, conflicts of interest policies and board assurance frameworks, and reviews committee effectiveness ahead of audit.",
			cases: []market.CaseStudy{
				cs("Board assurance framework", "NHS Ipswich and East Suffolk CCG",
					"Rebuilt the board assurance framework and corporate risk register around the CCG's strategic objectives."),
			},
			contact: contact("Philippa Orchard", "philippa@orchardlane.example.com", "01632 960853", ""),
		},
		{
			name: "Tillbrook Pharmacy Services Ltd", sector: ind, id: company("18820394"), size: small,
			regions: list(mid, eoe), caps: list(mo), accr: list(dspt), rate: [2]int64{450, 750},
			summary: "Employs independent prescribing pharmacists who work sessions in GP practices for CCGs. " +
				"Delivers prescribing QIPP switches, polypharmacy reviews for frail patients, audits against NICE guidance and support for practices with high prescribing costs.",
			cases: []market.CaseStudy{
				cs("Prescribing QIPP delivery", "NHS Corby CCG",
					"£410,000 of savings through switches and reviews, with every change agreed by the patient's GP."),
			},
			contact: contact("Harpreet Sandhu", "bookings@tillbrook.example.com", "0115 496 0267", ""),
		},
		{
			name: "Castlegate Care Assessment Ltd", sector: ind, id: company("18895501"), size: small,
			regions: list(ney, nw, mid), caps: list(chc), accr: list(iso9, dspt), rate: [2]int64{450, 650},
			summary: "Team of registered nurses doing NHS continuing healthcare work for CCGs: checklists, decision support tool assessments, reviews and retrospective claims. " +
				"Takes on backlogs at short notice and prepares cases for independent review panels.",
			cases: []market.CaseStudy{
				cs("Retrospective claims backlog", "NHS Bradford City CCG",
					"Cleared 220 claims for previously unassessed periods of care in seven months; all but three decisions were upheld on appeal."),
			},
			contact: contact("Lorraine Kay", "referrals@castlegatecare.example.com", "0113 496 0832", ""),
		},
		{
			name: "Brookmead Communications Ltd", sector: ind, id: company("18940216"), size: micro,
			regions: list(sw, se), caps: list(comm), rate: [2]int64{400, 650},
			summary: "Public relations and engagement agency for health commissioners. " +
				"Plans and runs public consultations on service change under the duty to involve, prepares evidence for NHS England's service change assurance and handles media during contentious changes.",
			cases: []market.CaseStudy{
				cs("Stroke services consultation", "NHS Dorset CCG",
					"Consultation plan and media handling for the reconfiguration of hyper-acute stroke services, with 2,700 responses."),
			},
			contact: contact("Fiona Brookes", "office@brookmead.example.com", "0117 496 0148", ""),
		},
		{
			name: "Kingsmoor Financial Services Ltd", sector: ind, id: company("19015772"), size: medium,
			regions: list(nw, mid), caps: list(cm, fin), accr: list(iso9, ce), rate: [2]int64{550, 850},
			summary: "Accountancy firm whose public-sector team runs CCG finance functions: budget setting, monthly reporting, QIPP savings tracking, annual accounts and agreement of balances with NHS counterparties. " +
				"Also provides interim chief finance officers.",
			cases: []market.CaseStudy{
				cs("Interim chief finance officer", "NHS Warrington CCG",
					"Interim chief finance officer for nine months, covering the financial plan and the annual accounts."),
			},
			contact: contact("Hugh Kingsley", "publicsector@kingsmoor.example.com", "0161 496 0546", "https://www.kingsmoor.example.com"),
		},
		{
			name: "Corvalis Health Technology plc", sector: ind, id: company("19087143"), size: large,
			regions: allRegions, caps: list(bi, rs, ig), accr: list(iso27, iso9, cep, dspt), rate: [2]int64{750, 1250},
			summary: "Health technology company hosting data warehouses and reporting for commissioners. " +
				"Its managed data service receives SUS, community and mental health data sets, pseudonymises them and feeds dashboards and risk stratification for CCGs, with round-the-clock service support.",
			cases: []market.CaseStudy{
				cs("Managed data warehouse", "NHS Sheffield CCG",
					"Replaced an ageing in-house warehouse with a managed service, with daily A&E data and monthly SUS refreshes."),
			},
			contact: contact("Jonathan Pryor", "health.commissioning@corvalis.example.com", "020 7946 0794", "https://www.corvalis.example.com"),
		},
		{
			name: "Redfern Transformation Ltd", sector: ind, id: company("19146058"), size: medium,
			regions: list(lon, se, eoe), caps: list(cm, sr, comm), accr: list(iso9), rate: [2]int64{700, 1100},
			summary: "Transformation consultancy that redesigns clinical pathways with CCGs and providers. " +
				"Uses activity and cost data to build the case for change, runs clinical design workshops and manages programmes through to new contracts, mostly in outpatients, musculoskeletal and urgent care.",
			cases: []market.CaseStudy{
				cs("Outpatient redesign", "NHS Brighton and Hove CCG",
					"Redesigned dermatology and ENT outpatients around advice and guidance, reducing first appointments by 18%."),
				cs("Musculoskeletal triage", "NHS West Essex CCG",
					"Set up a single musculoskeletal triage service, its contract monitored through shared performance indicators."),
			},
			contact: contact("Imogen Redfern", "info@redferntransformation.example.com", "020 7946 0218", "https://www.redferntransformation.example.com"),
		},
	}
}

package market

// Capability is a kind of commissioning support a provider offers and a
// tender seeks, with the Common Procurement Vocabulary code used when the
// tender is published as open data.
type Capability struct {
	Key         string
	Name        string
	CPV         string
	Description string
}

// Capabilities lists every capability in display order.
var Capabilities = []Capability{
	{"business_intelligence", "Business intelligence and analytics", "72316000-3", "Data warehousing, dashboards, activity and finance analysis, benchmarking."},
	{"risk_stratification", "Risk stratification", "72322000-8", "Identifying patients at risk of admission so that care can be planned ahead."},
	{"contract_management", "Contract management", "79410000-1", "Managing provider contracts: activity, quality and performance monitoring, challenges."},
	{"procurement", "Procurement and market management", "79418000-7", "Running compliant procurements and shaping local provider markets."},
	{"service_redesign", "Service redesign and transformation", "79411000-8", "Pathway redesign, service reviews and programme management of change."},
	{"medicines_optimisation", "Medicines optimisation", "85149000-5", "Prescribing analysis, formulary management and practice pharmacist support."},
	{"continuing_healthcare", "Continuing healthcare", "85320000-8", "NHS continuing healthcare assessment, review and case management."},
	{"finance", "Finance", "79412000-5", "Financial management, planning, ledger services and financial reporting."},
	{"hr_od", "HR and organisational development", "79414000-9", "Recruitment, payroll advice, employee relations and organisational development."},
	{"it_information_governance", "IT and information governance", "72222300-0", "IT infrastructure and support, data protection and information governance."},
	{"communications_engagement", "Communications and engagement", "79416000-3", "Public and patient engagement, consultation, media and stakeholder relations."},
	{"corporate_governance", "Corporate governance", "79420000-4", "Board secretariat, assurance frameworks, risk registers and statutory duties."},
}

// Region is one of the seven NHS England regions, with its ODS code.
type Region struct {
	Key  string
	Name string
	Code string
}

// Regions lists the seven NHS England regions.
var Regions = []Region{
	{"east_of_england", "East of England", "Y61"},
	{"london", "London", "Y56"},
	{"midlands", "Midlands", "Y60"},
	{"north_east_and_yorkshire", "North East and Yorkshire", "Y63"},
	{"north_west", "North West", "Y62"},
	{"south_east", "South East", "Y59"},
	{"south_west", "South West", "Y58"},
}

// Sector is where a supplier comes from: the four sectors a CCG can buy from.
type Sector string

const (
	SectorNHS            Sector = "nhs"
	SectorLocalAuthority Sector = "local_authority"
	SectorThirdSector    Sector = "third_sector"
	SectorIndependent    Sector = "independent"
)

// Sectors lists the four sectors.
var Sectors = []Sector{SectorNHS, SectorLocalAuthority, SectorThirdSector, SectorIndependent}

// Size is a supplier organisation's size band.
type Size string

const (
	SizeMicro  Size = "micro"
	SizeSmall  Size = "small"
	SizeMedium Size = "medium"
	SizeLarge  Size = "large"
)

// Sizes lists the size bands from smallest to largest.
var Sizes = []Size{SizeMicro, SizeSmall, SizeMedium, SizeLarge}

// CapabilityByKey returns the capability with the given key.
func CapabilityByKey(key string) (Capability, bool) {
	for _, c := range Capabilities {
		if c.Key == key {
			return c, true
		}
	}
	return Capability{}, false
}

// RegionByKey returns the region with the given key.
func RegionByKey(key string) (Region, bool) {
	for _, r := range Regions {
		if r.Key == key {
			return r, true
		}
	}
	return Region{}, false
}

// Valid reports whether s is one of the four sectors.
func (s Sector) Valid() bool {
	for _, v := range Sectors {
		if s == v {
			return true
		}
	}
	return false
}

// Valid reports whether s is one of the size bands.
func (s Size) Valid() bool {
	for _, v := range Sizes {
		if s == v {
			return true
		}
	}
	return false
}

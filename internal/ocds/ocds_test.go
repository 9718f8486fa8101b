package ocds_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/ocds"
)

// The schemas' own IDs. The package schema refers to the release schema by
// its absolute URL; both are registered under their URLs from testdata, so
// validation never goes to the network.
const (
	packageSchemaURL = "https://standard.open-contracting.org/schema/1__1__5/release-package-schema.json"
	releaseSchemaURL = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"
)

var (
	schemaOnce sync.Once
	pkgSchema  *jsonschema.Schema
	schemaErr  error
)

// MustPackageSchema compiles OCDS 1.1.5's release package schema, with its
// releases' items validated against the release schema, formats asserted.
func MustPackageSchema(tb testing.TB) *jsonschema.Schema {
	tb.Helper()
	schemaOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		for url, file := range map[string]string{packageSchemaURL: "release-package-schema.json", releaseSchemaURL: "release-schema.json"} {
			f, err := os.Open(filepath.Join("testdata", file))
			if err != nil {
				schemaErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(f)
			f.Close()
			if err != nil {
				schemaErr = err
				return
			}
			if err := c.AddResource(url, doc); err != nil {
				schemaErr = err
				return
			}
		}
		pkgSchema, schemaErr = c.Compile(packageSchemaURL)
	})
	if schemaErr != nil {
		tb.Fatalf("compile the OCDS schema: %v", schemaErr)
	}
	return pkgSchema
}

func validate(tb testing.TB, b []byte) error {
	tb.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("not JSON: %v\n%s", err, b)
	}
	return MustPackageSchema(tb).Validate(doc)
}

var (
	published = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	clarify   = published.Add(10 * 24 * time.Hour)
	deadline  = published.Add(21 * 24 * time.Hour)
	decided   = deadline.Add(5 * 24 * time.Hour)
	confirmed = decided.Add(10 * 24 * time.Hour)
)

// Distinct figures, so that each can be looked for in the bytes.
const (
	budgetPence   = 50_000_000
	baselinePence = 46_123_400
	losingPence   = 43_987_600
	winningPence  = 42_000_050
)

func buyer() market.Organisation {
	return market.Organisation{ID: "org-ccg-1", Kind: market.KindBuyer, Name: "NHS Dudley CCG",
		Identifiers: []market.Identifier{{Scheme: market.SchemeNHS, ID: "05C"}}, Population: 320_000, RunningCostAllowancePerHeadPence: 2_300}
}

func joint() []market.Organisation {
	return []market.Organisation{
		{ID: "org-ccg-2", Kind: market.KindBuyer, Name: "NHS Walsall CCG", Identifiers: []market.Identifier{{Scheme: market.SchemeNHS, ID: "05Y"}}},
		{ID: "org-ccg-3", Kind: market.KindBuyer, Name: "NHS Wolverhampton CCG", Identifiers: []market.Identifier{{Scheme: market.SchemeNHS, ID: "06A"}}},
	}
}

var (
	winner = market.Organisation{ID: "org-sup-1", Kind: market.KindSupplier, Name: "Midlands Analytics Ltd", Sector: market.SectorIndependent,
		Identifiers: []market.Identifier{{Scheme: market.SchemeCOH, ID: "09506232"}}}
	loser = market.Organisation{ID: "org-sup-2", Kind: market.KindSupplier, Name: "Black Country Health Data", Sector: market.SectorThirdSector,
		Identifiers: []market.Identifier{{Scheme: market.SchemeCharity, ID: "1123456"}, {Scheme: market.SchemeCOH, ID: "06123456"}}}
	council = market.Organisation{ID: "org-sup-3", Kind: market.KindSupplier, Name: "Dudley Council Public Health", Sector: market.SectorLocalAuthority,
		Identifiers: []market.Identifier{{Scheme: market.SchemeLAE, ID: "DUD"}}}
)

func tenderAt() market.Tender {
	return market.Tender{
		ID: "tnd-0001", BuyerID: "org-ccg-1", Title: "Risk stratification for the Black Country",
		Description:  "Monthly risk stratification from GP and SUS data.",
		Capabilities: []string{"risk_stratification", "business_intelligence"}, Regions: []string{"midlands"},
		ContractMonths: 24, BudgetPence: budgetPence,
		ClarificationDeadline: clarify, BidDeadline: deadline,
		Criteria: []market.Criterion{
			{Key: "price", Name: "Price", Kind: market.CriterionPrice, Weight: 40},
			{Key: "approach", Name: "Approach", Kind: market.CriterionQuality, Weight: 35},
			{Key: "social_value", Name: "Social value", Kind: market.CriterionQuality, Weight: 25},
		},
		Baseline:    &market.Baseline{PricePence: baselinePence, Scores: map[string]int{"approach": 2, "social_value": 3}},
		PublishedAt: published,
	}
}

func opts() ocds.Options {
	return ocds.Options{Prefix: "ocds-csmkt", PublisherName: "csmarket", PublisherURI: "https://csmarket.example/", BaseURI: "https://csmarket.example/"}
}

// pkg is the part of a package the tests read.
type pkg struct {
	URI           string `json:"uri"`
	Version       string `json:"version"`
	PublishedDate string `json:"publishedDate"`
	Releases      []struct {
		OCID    string   `json:"ocid"`
		ID      string   `json:"id"`
		Date    string   `json:"date"`
		Tag     []string `json:"tag"`
		Parties []struct {
			ID         string `json:"id"`
			Name       string `json:"name"`
			Identifier struct {
				Scheme, ID string
			} `json:"identifier"`
			AdditionalIdentifiers []struct{ Scheme, ID string } `json:"additionalIdentifiers"`
			Roles                 []string                      `json:"roles"`
		} `json:"parties"`
		Buyer  *struct{ ID, Name string } `json:"buyer"`
		Tender *struct {
			ID                string
			Status            string
			Value             *struct{ Amount json.Number }
			Items             []struct{ Classification struct{ Scheme, ID string } }
			TenderPeriod      struct{ StartDate, EndDate string } `json:"tenderPeriod"`
			EnquiryPeriod     struct{ EndDate string }            `json:"enquiryPeriod"`
			NumberOfTenderers *int                                `json:"numberOfTenderers"`
			Tenderers         []struct{ ID, Name string }
			AwardCriteria     string `json:"awardCriteria"`
			AwardDetails      string `json:"awardCriteriaDetails"`
		} `json:"tender"`
		Awards []struct {
			ID, Status, Date string
			Value            struct {
				Amount   json.Number
				Currency string
			}
			Suppliers []struct{ ID, Name string }
		} `json:"awards"`
	} `json:"releases"`
}

func TestBuildValidates(t *testing.T) {
	type want struct {
		tags         []string // of each release
		tenderStatus string
		tenderers    int // -1: none published
		awardStatus  string
		buyers       int
	}
	cases := []struct {
		name string
		in   func() ocds.Input
		want want
	}{
		{"PublishedOpen", func() ocds.Input {
			// Bidders passed in before the deadline must not appear: not
			// even their number is public yet.
			return ocds.Input{Tender: tenderAt(), Buyer: buyer(), Tenderers: []market.Organisation{winner, loser}, PublishedAt: published.Add(time.Hour)}
		}, want{[]string{"tender"}, "active", -1, "", 1}},
		{"Closed", func() ocds.Input {
			return ocds.Input{Tender: tenderAt(), Buyer: buyer(), Tenderers: []market.Organisation{winner, loser, council}, PublishedAt: deadline.Add(time.Second)}
		}, want{[]string{"tenderUpdate"}, "active", 3, "", 1}},
		{"ClosedWithoutBids", func() ocds.Input {
			return ocds.Input{Tender: tenderAt(), Buyer: buyer(), PublishedAt: deadline}
		}, want{[]string{"tenderUpdate"}, "active", 0, "", 1}},
		{"PendingAward", func() ocds.Input {
			tn := tenderAt()
			tn.AwardedAt, tn.AwardBidID, tn.StandstillEndsAt = decided, "bid-1", confirmed
			return ocds.Input{Tender: tn, Buyer: buyer(), Tenderers: []market.Organisation{winner, loser},
				Award: &ocds.Award{Supplier: winner, ValuePence: winningPence, Date: decided}, PublishedAt: decided.Add(time.Hour)}
		}, want{[]string{"tenderUpdate", "award"}, "active", 2, "pending", 1}},
		{"FinalAward", func() ocds.Input {
			tn := tenderAt()
			tn.AwardedAt, tn.AwardBidID, tn.StandstillEndsAt, tn.AwardConfirmedAt = decided, "bid-1", confirmed, confirmed
			return ocds.Input{Tender: tn, Buyer: buyer(), Tenderers: []market.Organisation{loser, winner},
				Award: &ocds.Award{Supplier: winner, ValuePence: winningPence, Date: decided, Final: true}, PublishedAt: confirmed.Add(time.Hour)}
		}, want{[]string{"tenderUpdate", "award"}, "complete", 2, "active", 1}},
		{"Cancelled", func() ocds.Input {
			tn := tenderAt()
			tn.CancelledAt, tn.CancelReason = published.Add(48*time.Hour), "The service is being brought in house."
			return ocds.Input{Tender: tn, Buyer: buyer(), PublishedAt: published.Add(72 * time.Hour)}
		}, want{[]string{"tenderCancellation"}, "cancelled", -1, "", 1}},
		{"Unsuccessful", func() ocds.Input {
			tn := tenderAt()
			tn.UnsuccessfulAt, tn.UnsuccessfulNote = decided, "No bid met the quality threshold."
			return ocds.Input{Tender: tn, Buyer: buyer(), Tenderers: []market.Organisation{loser}, PublishedAt: decided.Add(time.Hour)}
		}, want{[]string{"tenderUpdate"}, "unsuccessful", 1, "", 1}},
		{"JointFinalAward", func() ocds.Input {
			tn := tenderAt()
			tn.JointCommissioners = []string{"org-ccg-2", "org-ccg-3"}
			tn.AwardedAt, tn.AwardBidID, tn.StandstillEndsAt, tn.AwardConfirmedAt = decided, "bid-1", confirmed, confirmed
			return ocds.Input{Tender: tn, Buyer: buyer(), JointCommissioners: joint(), Tenderers: []market.Organisation{winner, loser, council},
				Award: &ocds.Award{Supplier: winner, ValuePence: winningPence, Date: decided, Final: true}, PublishedAt: confirmed}
		}, want{[]string{"tenderUpdate", "award"}, "complete", 3, "active", 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in()
			b, err := ocds.Build(opts(), in)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(t, b); err != nil {
				t.Fatalf("invalid OCDS: %v\n%s", err, b)
			}
			for _, leak := range []string{"461234", "46123400", "439876", "43987600", "bid-1"} {
				if bytes.Contains(b, []byte(leak)) {
					t.Errorf("the package carries %q (a baseline, a losing price or a bid ID):\n%s", leak, b)
				}
			}
			var p pkg
			if err := json.Unmarshal(b, &p); err != nil {
				t.Fatal(err)
			}
			if p.Version != "1.1" || p.URI != "https://csmarket.example/api/v1/tenders/tnd-0001/ocds" {
				t.Errorf("version %q uri %q", p.Version, p.URI)
			}
			if len(p.Releases) != len(tc.want.tags) {
				t.Fatalf("want %d releases, got %d:\n%s", len(tc.want.tags), len(p.Releases), b)
			}
			ids := map[string]bool{}
			latest := ""
			for i, r := range p.Releases {
				if r.OCID != "ocds-csmkt-tnd-0001" {
					t.Errorf("release %d ocid %q", i, r.OCID)
				}
				if ids[r.ID] {
					t.Errorf("release id %q given twice", r.ID)
				}
				ids[r.ID] = true
				if strings.Join(r.Tag, ",") != tc.want.tags[i] {
					t.Errorf("release %d tag %v, want %s", i, r.Tag, tc.want.tags[i])
				}
				if r.Buyer == nil || r.Buyer.ID != "GB-NHS-05C" {
					t.Errorf("release %d buyer %+v", i, r.Buyer)
				}
				latest = max(latest, r.Date)
			}
			if p.PublishedDate != latest {
				t.Errorf("publishedDate %s, want the latest release's date %s", p.PublishedDate, latest)
			}

			tr := p.Releases[0].Tender
			if tr.Status != tc.want.tenderStatus {
				t.Errorf("tender status %q, want %q", tr.Status, tc.want.tenderStatus)
			}
			if tr.Value == nil || tr.Value.Amount != "500000" {
				t.Errorf("tender value %+v, want the budget in pounds", tr.Value)
			}
			if len(tr.Items) != 2 || tr.Items[0].Classification != (struct{ Scheme, ID string }{"CPV", "72322000"}) {
				t.Errorf("items %+v, want CPV codes of the capabilities", tr.Items)
			}
			if tr.TenderPeriod.StartDate != "2025-03-03T09:00:00Z" || tr.TenderPeriod.EndDate != "2025-03-24T09:00:00Z" || tr.EnquiryPeriod.EndDate != "2025-03-13T09:00:00Z" {
				t.Errorf("periods %+v %+v", tr.TenderPeriod, tr.EnquiryPeriod)
			}
			if tr.AwardCriteria != "ratedCriteria" || !strings.Contains(tr.AwardDetails, "Price (price) 40%") || !strings.Contains(tr.AwardDetails, "Social value (quality) 25%") {
				t.Errorf("award criteria %q: %q", tr.AwardCriteria, tr.AwardDetails)
			}
			switch {
			case tc.want.tenderers < 0 && (tr.NumberOfTenderers != nil || len(tr.Tenderers) > 0 || bytes.Contains(b, []byte(winner.Name)) || bytes.Contains(b, []byte("tenderer"))):
				t.Errorf("bidders published before the deadline:\n%s", b)
			case tc.want.tenderers >= 0 && (tr.NumberOfTenderers == nil || *tr.NumberOfTenderers != tc.want.tenderers || len(tr.Tenderers) != tc.want.tenderers):
				t.Errorf("numberOfTenderers %v, tenderers %+v, want %d", tr.NumberOfTenderers, tr.Tenderers, tc.want.tenderers)
			}

			roles := map[string]string{}
			buyers := 0
			for _, pt := range p.Releases[0].Parties {
				roles[pt.ID] = strings.Join(pt.Roles, ",")
				if strings.Contains(roles[pt.ID], "buyer") {
					buyers++
				}
				if pt.Identifier.Scheme+"-"+pt.Identifier.ID != pt.ID {
					t.Errorf("party %s has identifier %+v", pt.ID, pt.Identifier)
				}
				if pt.ID == "GB-CHC-1123456" && (len(pt.AdditionalIdentifiers) != 1 || pt.AdditionalIdentifiers[0] != (struct{ Scheme, ID string }{"GB-COH", "06123456"})) {
					t.Errorf("a charity's company number is not kept: %+v", pt.AdditionalIdentifiers)
				}
			}
			if roles["GB-NHS-05C"] != "buyer,procuringEntity" || buyers != tc.want.buyers {
				t.Errorf("commissioners' roles %v, want the lead as buyer and procuring entity and %d buyers", roles, tc.want.buyers)
			}
			if tc.want.buyers == 3 && (roles["GB-NHS-05Y"] != "buyer" || roles["GB-NHS-06A"] != "buyer") {
				t.Errorf("joint commissioners' roles %v", roles)
			}
			if tc.want.tenderers > 0 && roles["GB-COH-09506232"] != "tenderer" && roles["GB-CHC-1123456"] != "tenderer" {
				t.Errorf("tenderers' roles %v", roles)
			}
			if tc.want.tenderers == 3 && roles["GB-LAE-DUD"] != "tenderer" {
				t.Errorf("a council's party %v", roles)
			}

			if tc.want.awardStatus == "" {
				if bytes.Contains(b, []byte(`"awards"`)) || bytes.Contains(b, []byte("42000")) {
					t.Errorf("an award without a decision:\n%s", b)
				}
				return
			}
			ar := p.Releases[1]
			if len(ar.Awards) != 1 {
				t.Fatalf("awards %+v", ar.Awards)
			}
			a := ar.Awards[0]
			if a.Status != tc.want.awardStatus || a.Date != "2025-03-29T09:00:00Z" || a.Value.Amount != "420000.50" || a.Value.Currency != "GBP" ||
				len(a.Suppliers) != 1 || a.Suppliers[0].ID != "GB-COH-09506232" || a.Suppliers[0].Name != winner.Name {
				t.Errorf("award %+v", a)
			}
			var winnerRoles string
			for _, pt := range ar.Parties {
				if pt.ID == "GB-COH-09506232" {
					winnerRoles = strings.Join(pt.Roles, ",")
				}
				if pt.ID == "GB-CHC-1123456" {
					t.Errorf("the award release names a losing bidder")
				}
			}
			if winnerRoles != "tenderer,supplier" {
				t.Errorf("the winner's roles in the award release: %q", winnerRoles)
			}
		})
	}
}

// The test above must be able to fail: a package that breaks the schema is
// caught.
func TestSchemaCatchesInvalid(t *testing.T) {
	b, err := ocds.Build(opts(), ocds.Input{Tender: tenderAt(), Buyer: buyer(), PublishedAt: published})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(rel map[string]any){
		"TenderStatusOpen": func(rel map[string]any) { rel["tender"].(map[string]any)["status"] = "open" },
		"NoInitiationType": func(rel map[string]any) { delete(rel, "initiationType") },
		"DateNotADate":     func(rel map[string]any) { rel["date"] = "3 March 2025" },
		"CurrencyPounds": func(rel map[string]any) {
			rel["tender"].(map[string]any)["value"].(map[string]any)["currency"] = "POUNDS"
		},
		"AmountAsAString": func(rel map[string]any) {
			rel["tender"].(map[string]any)["value"].(map[string]any)["amount"] = "500000"
		},
		"MethodCompetitive": func(rel map[string]any) { rel["tender"].(map[string]any)["procurementMethod"] = "competitive" },
	}
	for name, spoil := range cases {
		t.Run(name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			spoil(doc["releases"].([]any)[0].(map[string]any))
			bad, _ := json.Marshal(doc)
			if validate(t, bad) == nil {
				t.Fatalf("the schema accepted %s", bad)
			}
		})
	}
}

func TestBuildPrefix(t *testing.T) {
	o := opts()
	o.Prefix = "ocds-a1b2c3"
	b, err := ocds.Build(o, ocds.Input{Tender: tenderAt(), Buyer: buyer(), PublishedAt: published})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"ocid": "ocds-a1b2c3-tnd-0001"`)) || bytes.Contains(b, []byte("ocds-csmkt")) {
		t.Fatalf("the ocid prefix is not the configured one:\n%s", b)
	}
}

// A tender's state always gives the same bytes, so a package can be cached
// and compared.
func TestBuildStable(t *testing.T) {
	in := ocds.Input{Tender: tenderAt(), Buyer: buyer(), Tenderers: []market.Organisation{council, winner, loser}, PublishedAt: deadline.Add(time.Hour)}
	a, err := ocds.Build(opts(), in)
	if err != nil {
		t.Fatal(err)
	}
	in.PublishedAt = deadline.Add(5 * time.Hour)
	in.Tenderers = []market.Organisation{loser, council, winner}
	b, err := ocds.Build(opts(), in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("the same state gave different packages:\n%s\n%s", a, b)
	}
}

func TestBuildRefuses(t *testing.T) {
	draft := tenderAt()
	draft.PublishedAt = time.Time{}
	t.Run("Draft", func(t *testing.T) {
		_, err := ocds.Build(opts(), ocds.Input{Tender: draft, Buyer: buyer(), PublishedAt: published})
		if market.ErrorCode(err) != market.ENOTFOUND {
			t.Fatalf("a draft: %v", err)
		}
	})
	cases := map[string]func(*ocds.Options, *ocds.Input){
		"NoPrefix":        func(o *ocds.Options, _ *ocds.Input) { o.Prefix = "" },
		"NoPublisher":     func(o *ocds.Options, _ *ocds.Input) { o.PublisherName = "" },
		"RelativeBaseURI": func(o *ocds.Options, _ *ocds.Input) { o.BaseURI = "/market" },
		"NoTime":          func(_ *ocds.Options, in *ocds.Input) { in.PublishedAt = time.Time{} },
		"WrongBuyer":      func(_ *ocds.Options, in *ocds.Input) { in.Buyer = joint()[0] },
	}
	for name, spoil := range cases {
		t.Run(name, func(t *testing.T) {
			o, in := opts(), ocds.Input{Tender: tenderAt(), Buyer: buyer(), PublishedAt: published}
			spoil(&o, &in)
			if _, err := ocds.Build(o, in); err == nil {
				t.Fatal("built a package")
			}
		})
	}
}

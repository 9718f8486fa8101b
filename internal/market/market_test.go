package market_test

import (
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/csmarket/csmarket/internal/market"
)

// TestStandardLibraryOnly keeps the domain free of engines and frameworks, so
// that its rules can be read and tested alone.
func TestStandardLibraryOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Skipf("go list not available: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep != "github.com/csmarket/csmarket/internal/market" {
			t.Errorf("internal/market imports %s", dep)
		}
	}
}

func TestIdentifierCheck(t *testing.T) {
	cases := []struct {
		scheme, id string
		field      string // "" when valid
	}{
		{"GB-NHS", "0DE", ""},
		{"GB-NHS", "RX1RA", ""},
		{"GB-NHS", "05A", ""},
		{"GB-NHS", "0de", "id"},
		{"GB-NHS", "AB", "id"},
		{"GB-NHS", "ABCDEFGHIJ", "id"},
		{"GB-COH", "09506232", ""},
		{"GB-COH", "SC123456", ""},
		{"GB-COH", "OC301234", ""},
		{"GB-COH", "9506232", "id"},
		{"GB-COH", "S1234567", "id"},
		{"GB-CHC", "1123456", ""},
		{"GB-CHC", "123456", ""},
		{"GB-CHC", "12345", "id"},
		{"GB-CHC", "123456789", "id"},
		{"GB-LAE", "BIR", ""},
		{"GB-LAE", "bir", "id"},
		{"GB-XYZ", "123", "scheme"},
		{"", "123", "scheme"},
	}
	for _, c := range cases {
		t.Run(c.scheme+"/"+c.id, func(t *testing.T) {
			var p market.Problems
			market.Identifier{Scheme: c.scheme, ID: c.id}.Check("identifiers[0]", &p)
			switch {
			case c.field == "" && len(p) > 0:
				t.Fatalf("valid identifier refused: %v", p)
			case c.field != "" && (len(p) != 1 || p[0].Field != "identifiers[0]."+c.field):
				t.Fatalf("want one problem on %s, got %v", c.field, p)
			}
		})
	}
}

func validListing() market.Listing {
	return market.Listing{
		Summary:         "Risk stratification and BI for CCGs in the Midlands.",
		Capabilities:    []string{"risk_stratification", "business_intelligence"},
		Regions:         []string{"midlands"},
		Size:            market.SizeSmall,
		DayRateMinPence: 45000,
		DayRateMaxPence: 90000,
		Contact:         market.Contact{Email: "bids@example.org", Website: "https://example.org"},
	}
}

func TestListingCheck(t *testing.T) {
	cases := map[string]struct {
		edit  func(l *market.Listing)
		field string
	}{
		"Valid":              {func(l *market.Listing) {}, ""},
		"NoSummary":          {func(l *market.Listing) { l.Summary = "  " }, "summary"},
		"NoCapabilities":     {func(l *market.Listing) { l.Capabilities = nil }, "capabilities"},
		"UnknownCapability":  {func(l *market.Listing) { l.Capabilities = []string{"astrology"} }, "capabilities[0]"},
		"TwiceCapability":    {func(l *market.Listing) { l.Capabilities = []string{"finance", "finance"} }, "capabilities[1]"},
		"UnknownRegion":      {func(l *market.Listing) { l.Regions = []string{"wales"} }, "regions[0]"},
		"BadSize":            {func(l *market.Listing) { l.Size = "huge" }, "size"},
		"NegativeRate":       {func(l *market.Listing) { l.DayRateMinPence = -1 }, "day_rate_min_pence"},
		"MaxBelowMin":        {func(l *market.Listing) { l.DayRateMaxPence = 100 }, "day_rate_max_pence"},
		"BadEmail":           {func(l *market.Listing) { l.Contact.Email = "not an address" }, "contact.email"},
		"BadWebsite":         {func(l *market.Listing) { l.Contact.Website = "javascript:alert(1)" }, "contact.website"},
		"CaseStudyNoTitle":   {func(l *market.Listing) { l.CaseStudies = []market.CaseStudy{{Summary: "x"}} }, "case_studies[0].title"},
		"SummaryTooLong":     {func(l *market.Listing) { l.Summary = strings.Repeat("a", market.MaxSummaryLen+1) }, "summary"},
		"TooManyCaseStudies": {func(l *market.Listing) { l.CaseStudies = make([]market.CaseStudy, market.MaxCaseStudies+1) }, "case_studies"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			l := validListing()
			c.edit(&l)
			var p market.Problems
			l.Check("", &p)
			if c.field == "" {
				if len(p) > 0 {
					t.Fatalf("valid listing refused: %v", p)
				}
				return
			}
			found := false
			for _, f := range p {
				found = found || f.Field == c.field
			}
			if !found {
				t.Fatalf("want a problem on %s, got %v", c.field, p)
			}
		})
	}
}

func TestOrganisationCheck(t *testing.T) {
	ccg := market.Organisation{
		Kind: market.KindBuyer, Name: "NHS Walsall CCG",
		Identifiers: []market.Identifier{{Scheme: "GB-NHS", ID: "05Y"}},
		Regions:     []string{"midlands"}, Population: 280000, RunningCostAllowancePerHeadPence: 2400,
	}
	var p market.Problems
	ccg.Check("organisation", &p)
	if len(p) > 0 {
		t.Fatalf("valid CCG refused: %v", p)
	}
	if got := ccg.RunningCostAllowancePence(); got != 280000*2400 {
		t.Fatalf("running-cost allowance %d", got)
	}
	noODS := ccg
	noODS.Identifiers = []market.Identifier{{Scheme: "GB-COH", ID: "09506232"}}
	noODS.Population = 0
	p = nil
	noODS.Check("organisation", &p)
	fields := map[string]bool{}
	for _, f := range p {
		fields[f.Field] = true
	}
	if !fields["organisation.identifiers"] || !fields["organisation.population"] {
		t.Fatalf("want identifiers and population named, got %v", p)
	}
	supplier := market.Organisation{Kind: market.KindSupplier, Name: "X", Sector: "charity"}
	p = nil
	supplier.Check("organisation", &p)
	fields = map[string]bool{}
	for _, f := range p {
		fields[f.Field] = true
	}
	if !fields["organisation.sector"] || !fields["organisation.identifiers"] {
		t.Fatalf("want sector and identifiers named, got %v", p)
	}
}

func TestProviderFilterNormalize(t *testing.T) {
	t.Run("Defaults", func(t *testing.T) {
		f := market.ProviderFilter{Q: "  risk  "}
		if err := f.Normalize(); err != nil {
			t.Fatal(err)
		}
		if f.PageSize != market.DefaultPageSize || f.Q != "risk" {
			t.Fatalf("got %+v", f)
		}
	})
	bad := map[string]market.ProviderFilter{
		"sector":     {Sector: "charity"},
		"capability": {Capability: "astrology"},
		"region":     {Region: "wales"},
		"size":       {Size: "huge"},
		"page_size":  {PageSize: market.MaxPageSize + 1},
		"cursor":     {Cursor: "not-a-cursor!"},
		"q":          {Q: strings.Repeat("x", market.MaxQueryLen+1)},
	}
	for field, f := range bad {
		t.Run(field, func(t *testing.T) {
			err := f.Normalize()
			if market.ErrorCode(err) != market.EINVALID {
				t.Fatalf("want invalid, got %v", err)
			}
			if fs := market.ErrorFields(err); len(fs) != 1 || fs[0].Field != field {
				t.Fatalf("want %s named, got %v", field, fs)
			}
		})
	}
	t.Run("Everything", func(t *testing.T) {
		f := market.ProviderFilter{Sector: "x", Region: "y", PageSize: -1}
		if fs := market.ErrorFields(f.Normalize()); len(fs) != 3 {
			t.Fatalf("want all three problems at once, got %v", fs)
		}
	})
}

func TestCursor(t *testing.T) {
	c := market.EncodeCursor("acme ltd", "0193-abc")
	keys, err := market.DecodeCursor(c)
	if err != nil || len(keys) != 2 || keys[0] != "acme ltd" || keys[1] != "0193-abc" {
		t.Fatalf("round trip: %v %v", keys, err)
	}
	for _, bad := range []string{"", "%%%", "bnVsbA", "e30", "W10", strings.Repeat("A", 2000)} {
		if _, err := market.DecodeCursor(bad); market.ErrorCode(err) != market.EINVALID {
			t.Errorf("DecodeCursor(%q) = %v, want invalid", bad, err)
		}
	}
}

func TestErrors(t *testing.T) {
	wrapped := errors.Join(errors.New("context"), market.Errorf(market.ECONFLICT, "Identifier %s is taken.", "GB-NHS-0DE"))
	if market.ErrorCode(wrapped) != market.ECONFLICT || market.ErrorMessage(wrapped) != "Identifier GB-NHS-0DE is taken." {
		t.Fatalf("wrapped error lost its code: %v", wrapped)
	}
	plain := errors.New("pq: password authentication failed for user secret")
	if market.ErrorCode(plain) != market.EINTERNAL || strings.Contains(market.ErrorMessage(plain), "secret") {
		t.Fatal("an unknown error must be internal and say nothing")
	}
	if market.ErrorCode(nil) != "" {
		t.Fatal("nil has no code")
	}
	var p market.Problems
	if p.Err() != nil {
		t.Fatal("no problems, no error")
	}
}

func TestReferenceData(t *testing.T) {
	if len(market.Capabilities) != 12 || len(market.Regions) != 7 || len(market.Sectors) != 4 {
		t.Fatalf("reference data: %d capabilities, %d regions, %d sectors", len(market.Capabilities), len(market.Regions), len(market.Sectors))
	}
	for _, c := range market.Capabilities {
		if len(c.CPV) != 10 || c.CPV[8] != '-' {
			t.Errorf("%s: CPV code %q is not of the form 12345678-9", c.Key, c.CPV)
		}
	}
	b, _ := json.Marshal(market.Regions)
	if !strings.Contains(string(b), "Y56") {
		t.Error("London's region code missing")
	}
}

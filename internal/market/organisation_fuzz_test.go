package market

import (
	"fmt"
	"strings"
	"testing"
)

// FuzzIdentifierCheck holds Identifier.Check to the org-id schemes: it
// never panics, accepts exactly the identifiers of a known scheme whose ID
// matches that scheme's pattern (written out here by hand, not by
// regexp), and names the one field at fault otherwise. An organisation
// holding the identifier twice is told so, and one holding a bad
// identifier is refused for it.
func FuzzIdentifierCheck(f *testing.F) {
	for _, s := range [][2]string{
		{SchemeNHS, "05C"}, {SchemeNHS, "0DE"}, {SchemeNHS, "RXK"}, {SchemeNHS, "Y02736"}, {SchemeNHS, "ABCDEFGH9"},
		{SchemeNHS, "05"}, {SchemeNHS, "ABCDEFGHIJ"}, {SchemeNHS, "05c"}, {SchemeNHS, "05C\n"}, {SchemeNHS, " 05C"}, {SchemeNHS, "ＡＢＣ"},
		{SchemeCOH, "09506232"}, {SchemeCOH, "OC123456"}, {SchemeCOH, "SC012345"}, {SchemeCOH, "0950623"}, {SchemeCOH, "095062321"},
		{SchemeCOH, "O1123456"}, {SchemeCOH, "oc123456"}, {SchemeCOH, "OC12345Z"}, {SchemeCOH, "٠٩٥٠٦٢٣٢"},
		{SchemeCharity, "1123456"}, {SchemeCharity, "298765"}, {SchemeCharity, "12345678"}, {SchemeCharity, "12345"},
		{SchemeCharity, "123456789"}, {SchemeCharity, "1123456-1"}, {SchemeCharity, "+123456"},
		{SchemeLAE, "BIR"}, {SchemeLAE, "KENT"}, {SchemeLAE, "BI"}, {SchemeLAE, "BIRMI"}, {SchemeLAE, "bir"}, {SchemeLAE, "B1R"},
		{"GB-nhs", "05C"}, {"GB-NHS ", "05C"}, {"XI-CRO", "123456"}, {"", ""}, {"GB-COH", ""}, {"GB-LAE", "\x00"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, scheme, id string) {
		const prefix = "organisation.identifiers[0]"
		var p Problems
		Identifier{Scheme: scheme, ID: id}.Check(prefix, &p)
		known, ok := orgIDMatches(scheme, id)
		switch {
		case ok && len(p) != 0:
			t.Fatalf("%s-%q matches its scheme but was refused: %v", scheme, id, p)
		case !ok && len(p) != 1:
			t.Fatalf("%s-%q: %d problems, want one: %v", scheme, id, len(p), p)
		case !ok && !known && p[0].Field != prefix+".scheme":
			t.Fatalf("unknown scheme %q named %q", scheme, p[0].Field)
		case !ok && known && p[0].Field != prefix+".id":
			t.Fatalf("%s-%q named %q", scheme, id, p[0].Field)
		case !ok && p[0].Message == "":
			t.Fatalf("%s-%q refused without a message", scheme, id)
		}
		if ok && (strings.ContainsAny(id, " \t\r\n-") || (Identifier{Scheme: scheme, ID: id}).String() != scheme+"-"+id) {
			t.Fatalf("accepted %s-%q, which does not read back", scheme, id)
		}

		// In an organisation: a bad identifier makes the organisation
		// invalid for that identifier; a good one given twice is refused
		// once, for the second.
		o := Organisation{Kind: KindSupplier, Name: "Meridian Analytics Ltd", Sector: SectorIndependent,
			Identifiers: []Identifier{{Scheme: scheme, ID: id}, {Scheme: scheme, ID: id}}, Regions: []string{"london"}}
		p = nil
		o.Check("organisation", &p)
		for _, fe := range p {
			if !strings.HasPrefix(fe.Field, "organisation.identifiers[") {
				t.Fatalf("identifier %s-%q made %s wrong: %v", scheme, id, fe.Field, p)
			}
		}
		if ok && (len(p) != 1 || p[0].Field != "organisation.identifiers[1]") {
			t.Fatalf("%s-%q given twice: %v, want the second named as given twice", scheme, id, p)
		}
		if !ok && len(p) < 2 {
			t.Fatalf("an organisation with %s-%q twice: %v, want each refused", scheme, id, p)
		}
	})
}

// orgIDMatches reports whether scheme is one csmarket accepts and whether
// id is well formed in it, by the schemes' rules: an ODS code is 3 to 9
// upper-case letters or digits; a Companies House number 8 digits, or 2
// capital letters and 6 digits; a charity number 6 to 8 digits; a local
// authority code 3 or 4 capital letters.
func orgIDMatches(scheme, id string) (known, ok bool) {
	digit := func(b byte) bool { return b >= '0' && b <= '9' }
	upper := func(b byte) bool { return b >= 'A' && b <= 'Z' }
	all := func(s string, is ...func(byte) bool) bool {
		for i := 0; i < len(s); i++ {
			good := false
			for _, f := range is {
				good = good || f(s[i])
			}
			if !good {
				return false
			}
		}
		return true
	}
	n := len(id)
	switch scheme {
	case SchemeNHS:
		return true, n >= 3 && n <= 9 && all(id, upper, digit)
	case SchemeCOH:
		return true, n == 8 && (all(id[:2], digit) || all(id[:2], upper)) && all(id[2:], digit)
	case SchemeCharity:
		return true, n >= 6 && n <= 8 && all(id, digit)
	case SchemeLAE:
		return true, n >= 3 && n <= 4 && all(id, upper)
	}
	return false, false
}

// The schemes the reference knows are the ones csmarket accepts.
func TestOrgIDSchemesKnown(t *testing.T) {
	for _, s := range Schemes {
		if known, _ := orgIDMatches(s, ""); !known {
			t.Errorf("scheme %s has no reference rule", s)
		}
	}
	if got := fmt.Sprint(Schemes); got != "[GB-NHS GB-COH GB-CHC GB-LAE]" {
		t.Errorf("schemes %s: give the new one a rule in orgIDMatches", got)
	}
}

package sqlstore

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/csmarket/csmarket/internal/market"
)

// maxSearchTerms bounds the work one query can ask of the full-text index.
const maxSearchTerms = 16

// searchTerms splits free text into lower-case words of letters, digits and
// combining marks. Everything else separates words, so no user input can
// reach the engines' query syntax: quotes, *, -, parentheses and the like
// are never operators here. Stop words are dropped on both engines alike,
// and so is NEAR in capitals, which a user can only mean as an operator.
func searchTerms(q string) []string {
	words := strings.FieldsFunc(q, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
	})
	var terms []string
	for _, w := range words {
		if w == "NEAR" {
			continue
		}
		w = strings.ToLower(w)
		if stopWords[w] {
			continue
		}
		terms = append(terms, w)
		if len(terms) == maxSearchTerms {
			break
		}
	}
	return terms
}

// stopWords is PostgreSQL's English stop list, applied on SQLite too so
// that a query means the same on both engines.
var stopWords = map[string]bool{
	"i": true, "me": true, "my": true, "myself": true, "we": true, "our": true, "ours": true,
	"ourselves": true, "you": true, "your": true, "yours": true, "yourself": true,
	"yourselves": true, "he": true, "him": true, "his": true, "himself": true, "she": true,
	"her": true, "hers": true, "herself": true, "it": true, "its": true, "itself": true,
	"they": true, "them": true, "their": true, "theirs": true, "themselves": true,
	"what": true, "which": true, "who": true, "whom": true, "this": true, "that": true,
	"these": true, "those": true, "am": true, "is": true, "are": true, "was": true,
	"were": true, "be": true, "been": true, "being": true, "have": true, "has": true,
	"had": true, "having": true, "do": true, "does": true, "did": true, "doing": true,
	"a": true, "an": true, "the": true, "and": true, "but": true, "if": true, "or": true,
	"because": true, "as": true, "until": true, "while": true, "of": true, "at": true,
	"by": true, "for": true, "with": true, "about": true, "against": true, "between": true,
	"into": true, "through": true, "during": true, "before": true, "after": true,
	"above": true, "below": true, "to": true, "from": true, "up": true, "down": true,
	"in": true, "out": true, "on": true, "off": true, "over": true, "under": true,
	"again": true, "further": true, "then": true, "once": true, "here": true, "there": true,
	"when": true, "where": true, "why": true, "how": true, "all": true, "any": true,
	"both": true, "each": true, "few": true, "more": true, "most": true, "other": true,
	"some": true, "such": true, "no": true, "nor": true, "not": true, "only": true,
	"own": true, "same": true, "so": true, "than": true, "too": true, "very": true,
	"s": true, "t": true, "can": true, "will": true, "just": true, "don": true,
	"should": true, "now": true,
}

// prefixLast reports whether the last term is matched as a prefix, so that a
// search box finds "analytics" while "analy" is still being typed. A single
// letter would match too much to be useful.
func prefixLast(terms []string) bool {
	return len(terms) > 0 && utf8.RuneCountInString(terms[len(terms)-1]) >= 2
}

// ftsQuerySQLite builds an FTS5 query matching rows with every term: each
// term is a quoted string (terms hold no quotes), the last one a prefix.
func ftsQuerySQLite(terms []string) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(`"` + t + `"`)
	}
	if prefixLast(terms) {
		b.WriteByte('*')
	}
	return b.String()
}

// tsQueryPostgres builds a to_tsquery text matching rows with every term:
// each term is a quoted lexeme (terms hold no quotes), the last a prefix.
// Terms that are stop words drop out; a query of stop words only matches
// nothing.
func tsQueryPostgres(terms []string) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteString(" & ")
		}
		b.WriteString("'" + t + "'")
	}
	if prefixLast(terms) {
		b.WriteString(":*")
	}
	return b.String()
}

// searchFacets is a listing's facet text (listings.search_facets): a
// token for each thing the directory filters on, in the form the filters
// match (facetTokens), so that a filtered search finds its matches in an
// index instead of testing each one.
func searchFacets(sector market.Sector, l *market.Listing) string {
	return strings.Join(facetTokens(sector, l.Size, l.Capabilities, l.Regions), " ")
}

// facetTokens are the facets of a sector, size, capabilities and regions,
// each left out when empty.
func facetTokens(sector market.Sector, size market.Size, caps, regions []string) []string {
	var ts []string
	if sector != "" {
		ts = append(ts, "sector:"+string(sector))
	}
	if size != "" {
		ts = append(ts, "size:"+string(size))
	}
	for _, c := range caps {
		ts = append(ts, "cap:"+c)
	}
	for _, r := range regions {
		ts = append(ts, "region:"+r)
	}
	return ts
}

// ftsFacetsSQLite builds an FTS5 query of listing_facets matching rows
// with every facet, each a quoted string (a quote in one doubled).
func ftsFacetsSQLite(facets []string) string {
	quoted := make([]string, len(facets))
	for i, f := range facets {
		quoted[i] = `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
	}
	return strings.Join(quoted, " ")
}

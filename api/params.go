package api

import (
	"net/url"

	"github.com/csmarket/csmarket/internal/market"
)

// eachParam calls set for each parameter of names that the raw query gives
// a non-empty value, once; a parameter given twice, or a query that is not
// valid URL encoding, is recorded in p. Other parameters are ignored, so
// that clients may add their own (cache busters, tracking) harmlessly.
func eachParam(raw string, names []string, p *market.Problems, set func(name, value string)) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		p.Add("query", "is not valid URL encoding")
	}
	for _, name := range names {
		switch vs := q[name]; {
		case len(vs) > 1:
			p.Add(name, "must be given at most once")
		case len(vs) == 1 && vs[0] != "":
			set(name, vs[0])
		}
	}
}

package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/csmarket/csmarket/internal/market"
)

// requestTypes makes a fresh value of each request body type the
// handlers decode.
var requestTypes = []func() any{
	func() any { return new(registerRequest) },
	func() any { return new(loginRequest) },
	func() any { return new(refreshRequest) },
	func() any { return new(tenderRequest) },
	func() any { return new(map[string]any) }, // a PATCH of a tender
	func() any { return new(cancelRequest) },
	func() any { return new(bidRequest) },
	func() any { return new(questionRequest) },
	func() any { return new(answerRequest) },
	func() any { return new(assignRequest) },
	func() any { return new(declarationRequest) },
	func() any { return new(scoresRequest) },
	func() any { return new(moderationRequest) },
	func() any { return new(awardRequest) },
	func() any { return new(reasonRequest) },
	func() any { return new(preferencesJSON) },
	func() any { return new(listingRequest) },
	func() any { return new(addUserRequest) },
	func() any { return new(userStatusRequest) },
}

// Right bodies, for the routes that take them.
const (
	seedRegister = `{"organisation":{"kind":"supplier","name":"Fuzz Analytics Ltd","sector":"independent","identifiers":[{"scheme":"GB-COH","id":"07000001"}],"regions":["london"]},"user":{"name":"Admin","email":"admin@fuzz.example","password":"plum orchard ledger quietly"}}`
	seedTender   = `{"title":"Dashboards","description":"For the boards.","capabilities":["business_intelligence"],"regions":["midlands"],"contract_months":24,"budget_pence":50000000,"clarification_deadline":"2025-11-20T10:00:00Z","bid_deadline":"2025-11-20T11:00:00Z","criteria":[{"key":"price","name":"Price","kind":"price","weight":40},{"key":"approach","name":"Approach","kind":"quality","weight":60}],"in_house_baseline":{"price_pence":45000000,"scores":{"approach":2}},"joint_commissioners":["$JOINT"]}`
	seedBid      = `{"price_pence":39000000,"responses":{"approach":"Analysts embedded.","social_value":"Apprenticeships."}}`
	seedScores   = `{"scores":{"approach":{"score":3,"justification":"Clear plan."},"social_value":{"score":2,"justification":"Some."}}}`
	seedListing  = `{"summary":"Dashboards for CCGs.","capabilities":["business_intelligence"],"regions":["midlands"],"size":"small","accreditations":["ISO 27001"],"day_rate_min_pence":50000,"day_rate_max_pence":80000,"case_studies":[{"title":"BI","client":"NHS X CCG","summary":"On time."}],"contact":{"name":"Bids","email":"bids@example.org","phone":"0121 000 0000","website":"https://example.org"}}`
	seedAddUser  = `{"name":"New user","email":"new.user@nhs.net","password":"plum orchard ledger quietly","role":"evaluator"}`
)

// bodySeeds are bodies of every shape a client sends, right and wrong,
// for both body targets. $BID and the like stand for IDs made at run time
// (fuzzEnv.placeholders).
var bodySeeds = []string{
	``, ` `, `null`, `{}`, `[]`, `"x"`, `1`, `true`, `{}{}`, `{} x`, `{"a":1}`, `{"`, `{"title":`, "\xef\xbb\xbf{}",
	seedRegister,
	`{"organisation":{"kind":"buyer","name":"NHS Fuzz CCG","identifiers":[{"scheme":"GB-NHS","id":"99Z"}],"regions":["london"],"population":250000,"running_cost_allowance_per_head_pence":2250},"user":{"name":"Admin","email":"admin@fuzz.nhs.net","password":"plum orchard ledger quietly"}}`,
	`{"organisation":{"kind":"buyer","population":"many","identifiers":[{"scheme":"GB-NHS","id":"99Z","colour":"red"}]}}`,
	`{"organisation":{"kind":"buyer","population":9223372036854775807,"running_cost_allowance_per_head_pence":9223372036854775807}}`,
	`{"organisation":{"population":1e400}}`, `{"organisation":{"population":-0}}`, `{"organisation":{"population":1.5}}`,
	`{"listing":{"case_studies":[{},{"year":2020}]}}`, `{"Organisation":{"KIND":"buyer"}}`, `{"organiſation":{}}`, `{"user":{"password":"\u0000"}}`,
	`{"email":"lead@nhs.net","password":"plum orchard ledger quietly"}`, `{"email":["a"],"password":null}`,
	`{"Email":"lead@nhs.net","PASSWORD":"plum orchard ledger quietly"}`, `{"title":"Lower","TITLE":"Upper"}`, `{"reaſon":"Long s."}`,
	`{"refresh_token":"$REFRESH"}`, `{"refresh_token":"x.y.z"}`,
	seedTender,
	`{"title":"Far future","bid_deadline":"9999-12-31T23:59:59Z","clarification_deadline":"9999-12-31T23:59:59.999999999+00:00"}`,
	`{"title":"Turn of a millennium","bid_deadline":"9999-12-31T23:59:59-01:00"}`,
	`{"title":"Year zero","clarification_deadline":"0000-01-01T00:00:00+01:00"}`,
	`{"title":"Zero time","bid_deadline":"0001-01-01T00:00:00Z"}`, `{"title":"Not a time","bid_deadline":"tomorrow"}`,
	`{"title":"Leap","bid_deadline":"2028-02-29T24:00:00Z"}`,
	`{"title":"x","criteria":[{"key":"Price","kind":"price","weight":101},{"key":"price","kind":"price","weight":-1}],"in_house_baseline":{"price_pence":-5,"scores":{"nope":9}}}`,
	`{"title":"` + strings.Repeat("é", 150) + `"}`, `{"title":"\ud800\udc00 \ud800"}`, `{"title":null}`, `{"budget_pence":1e19}`, `{"contract_months":99999999999}`,
	`{"criteria":{"key":"price"}}`, `{"in_house_baseline":null}`, `{"joint_commissioners":["$JOINT","$JOINT"]}`,
	`{"reason":"The service is coming back in house."}`, `{"reason":""}`,
	seedBid,
	`{"price_pence":0,"responses":{"approach":""}}`, `{"price_pence":100000000001,"responses":{"bogus":"x"}}`, `{"responses":{"approach":7}}`,
	`{"question":"Will the data be pseudonymised?"}`, `{"question":""}`, `{"question":"` + strings.Repeat("?", 4001) + `"}`,
	`{"answer":"Yes, at source."}`, `{"answer":" "}`,
	`{"user_id":"$USER"}`, `{"user_id":""}`, `{"user_id":"../../etc"}`,
	`{"conflict":false}`, `{"conflict":true,"suppliers":["$FIRM"],"details":"My spouse works there."}`, `{"conflict":true}`, `{"conflict":"no"}`,
	seedScores,
	`{"scores":{"approach":{"score":5,"justification":""},"bogus":{"justification":"x"}}}`, `{"scores":null}`, `{"scores":{"approach":{"score":-2147483649}}}`,
	`{"criterion":"approach","score":4,"reason":"Agreed at moderation."}`, `{"criterion":"price","score":1}`, `{"criterion":"approach"}`,
	`{"bid_id":"$AWARDBID","reason":"Highest total."}`, `{"bid_id":"$OTHERBID","reason":"x"}`, `{"bid_id":""}`,
	`{"preferences":{"tender_published":{"in_app":true,"email":false}}}`, `{"preferences":{"nonsense":{"in_app":true,"email":true}}}`,
	`{"preferences":{"tender_published":{"in_app":true}}}`, `{"preferences":null}`,
	seedListing,
	`{"summary":"x","day_rate_min_pence":90000,"day_rate_max_pence":1,"contact":{"website":"javascript:alert(1)"}}`,
	seedAddUser, `{"role":"operator"}`,
	`{"status":"disabled"}`, `{"status":"active"}`, `{"status":"deleted"}`,
}

// FuzzDecodeJSON holds decodeJSONBytes to its contract for every request
// type: it never panics; it accepts a body only when the body is one JSON
// value; and it refuses anything else as EINVALID naming exactly one
// field, the body's or the field's path, with a message.
func FuzzDecodeJSON(f *testing.F) {
	for i, s := range bodySeeds {
		f.Add(uint8(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		v := requestTypes[int(kind)%len(requestTypes)]()
		err := decodeJSONBytes(body, v)
		if err == nil {
			if !json.Valid(body) {
				t.Fatalf("%T accepted %q, which is not one JSON value", v, body)
			}
			return
		}
		fs := market.ErrorFields(err)
		if market.ErrorCode(err) != market.EINVALID || len(fs) != 1 || fs[0].Field == "" || fs[0].Message == "" ||
			!utf8.ValidString(fs[0].Field) {
			t.Fatalf("%T refused %q with %v, want EINVALID naming one field", v, body, err)
		}
		// A field is named only in a body that starts with a JSON value
		// (what follows it is not read once the value is refused).
		var first json.RawMessage
		if f := fs[0].Field; f != "body" && json.NewDecoder(bytes.NewReader(body)).Decode(&first) != nil {
			t.Fatalf("%T named %q for %q, which is not JSON at all", v, f, body)
		}
	})
}

// bodyRoute is a route that decodes a body, asked as a caller it serves.
type bodyRoute struct {
	method, path string
	as           func(e *fuzzEnv) string // the access token; nil for none
	header       http.Header
	body         func() any // what the handler decodes the body into
}

func fuzzBodyRoutes(e *fuzzEnv) []bodyRoute {
	w := e.w
	star := http.Header{"If-Match": {"*"}}
	lead := func(*fuzzEnv) string { return w.lead.access }
	return []bodyRoute{
		{http.MethodPost, "/api/v1/auth/register", nil, nil, func() any { return new(registerRequest) }},
		{http.MethodPost, "/api/v1/auth/login", nil, nil, func() any { return new(loginRequest) }},
		{http.MethodPost, "/api/v1/auth/refresh", nil, nil, func() any { return new(refreshRequest) }},
		{http.MethodPost, "/api/v1/tenders", lead, nil, func() any { return new(tenderRequest) }},
		{http.MethodPatch, tenderPath(e.draft.ID), lead, star, func() any { return new(map[string]any) }},
		{http.MethodPost, tenderPath(e.cancellable.ID) + "/cancel", lead, nil, func() any { return new(cancelRequest) }},
		{http.MethodPost, bidsPath(e.open.ID), func(*fuzzEnv) string { return w.council.access }, nil, func() any { return new(bidRequest) }},
		{http.MethodPut, bidPath(e.open.ID, e.openBid.ID), func(*fuzzEnv) string { return w.firm.access }, nil, func() any { return new(bidRequest) }},
		{http.MethodPost, questionsPath(e.open.ID), func(*fuzzEnv) string { return w.charity.access }, nil, func() any { return new(questionRequest) }},
		{http.MethodPost, answerPath(e.open.ID, e.question.ID), lead, nil, func() any { return new(answerRequest) }},
		{http.MethodPost, evaluatorsPath(e.closed.ID), lead, nil, func() any { return new(assignRequest) }},
		{http.MethodPost, declarePath(e.closed.ID), func(e *fuzzEnv) string { return e.declarer.access }, nil, func() any { return new(declarationRequest) }},
		{http.MethodPut, scoresPath(e.closed.ID, e.closedBid.ID), func(e *fuzzEnv) string { return e.evaluator.access }, nil, func() any { return new(scoresRequest) }},
		{http.MethodPut, moderatePath(e.closed.ID, e.closedBid.ID), lead, nil, func() any { return new(moderationRequest) }},
		{http.MethodPost, tenderPath(e.awardable.ID) + "/award", lead, nil, func() any { return new(awardRequest) }},
		{http.MethodPut, "/api/v1/me/notification-preferences", lead, nil, func() any { return new(preferencesJSON) }},
		{http.MethodPut, "/api/v1/providers/" + w.firm.orgID, func(*fuzzEnv) string { return w.firm.access }, star, func() any { return new(listingRequest) }},
		{http.MethodPost, "/api/v1/organisations/" + w.lead.orgID + "/users", lead, nil, func() any { return new(addUserRequest) }},
		{http.MethodPatch, "/api/v1/users/" + e.disposable.userID, lead, nil, func() any { return new(userStatusRequest) }},
	}
}

// FuzzRequestBodies sends raw bodies through the router to every route
// that decodes one, as a caller the route serves (route picks which): no
// body gives a 5xx; every refusal is a problem, a 400 naming the fields at
// fault; every answer matches openapi.yaml.
func FuzzRequestBodies(f *testing.F) {
	e := mustFuzzEnv(f)
	routes := fuzzBodyRoutes(e)
	// Each seed goes to the (first three) routes whose body it is, a seed
	// no route decodes to one picked by its place: every seed input costs
	// a run of the whole router while the fuzzer gathers its coverage.
	for i, s := range bodySeeds {
		n := 0
		for j, r := range routes {
			if n < 3 && decodeJSONBytes([]byte(s), r.body()) == nil {
				f.Add(uint8(j), []byte(s))
				n++
			}
		}
		if n == 0 {
			f.Add(uint8(i%len(routes)), []byte(s))
		}
	}
	// The right body for each route.
	for i, s := range []string{
		seedRegister, `{"email":"lead@nhs.net","password":"plum orchard ledger quietly"}`, `{"refresh_token":"$REFRESH"}`,
		seedTender, `{"description":"Revised."}`, `{"reason":"No longer needed."}`, seedBid, seedBid,
		`{"question":"Will the data be pseudonymised?"}`, `{"answer":"Yes, at source."}`, `{"user_id":"$USER"}`, `{"conflict":false}`,
		seedScores, `{"criterion":"approach","score":4,"reason":"Agreed."}`, `{"bid_id":"$AWARDBID","reason":"Highest total."}`,
		`{"preferences":{"tender_published":{"in_app":true,"email":false}}}`, seedListing, seedAddUser, `{"status":"disabled"}`,
	} {
		f.Add(uint8(i), []byte(s))
	}
	subst := e.placeholders()
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := routes[int(route)%len(routes)]
		var token string
		if r.as != nil {
			token = r.as(e)
		}
		body = []byte(subst.Replace(string(body)))
		if emptyDeadline(body) {
			// Known: the server takes "" as no deadline, where openapi.yaml
			// asks for a date-time (or, in a PATCH, null); left to decide
			// which of the two should give way.
			return
		}
		res, b := e.send(t, r.method, r.path, token, body, r.header)
		e.checkAnswer(t, r.method+" "+r.path, res, b)
	})
}

// emptyDeadline reports whether body is an object giving a deadline as "".
func emptyDeadline(body []byte) bool {
	var doc map[string]any
	if json.Unmarshal(body, &doc) != nil {
		return false
	}
	for k, v := range doc {
		if (strings.EqualFold(k, "bid_deadline") || strings.EqualFold(k, "clarification_deadline")) && v == "" {
			return true
		}
	}
	return false
}

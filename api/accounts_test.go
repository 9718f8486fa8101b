package api

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// TestCrossOrganisation: no caller acts on another organisation's objects,
// or on routes above its role, and a refused request changes nothing.
// Private objects of another organisation answer 404, so that their IDs
// cannot be probed.
func TestCrossOrganisation(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustAccountEnv(t, engine)
			w := e.mustWorld(t)
			before := e.snapshot(t, w)
			etagA, etagB := e.etagOf(t, w.supA.orgID), e.etagOf(t, w.supB.orgID)
			edit := validListing("Taken over.")
			users := func(org string) string { return "/api/v1/organisations/" + org + "/users" }
			newUser := addUserRequest{Name: "Intruder", Email: "intruder@example.org", Password: testPassword, Role: "supplier"}
			disable := userStatusRequest{Status: "disabled"}
			op := func(org, action string) string { return "/api/v1/operator/organisations/" + org + "/" + action }
			putA := func(a actor, status int) matrixCase {
				return matrixCase{a, req{method: http.MethodPut, target: "/api/v1/providers/" + w.supA.orgID, body: edit, header: map[string]string{"If-Match": etagA}}, status}
			}
			tests := map[string]matrixCase{
				"OtherSupplierPutsListing":        putA(w.supB, http.StatusForbidden),
				"OtherSupplierPutsListingStar":    {w.supA, req{method: http.MethodPut, target: "/api/v1/providers/" + w.supB.orgID, body: edit, header: map[string]string{"If-Match": "*"}}, http.StatusForbidden},
				"OtherSupplierPutsWithoutIfMatch": {w.supB, req{method: http.MethodPut, target: "/api/v1/providers/" + w.supA.orgID, body: edit}, http.StatusForbidden},
				"BuyerPutsListing":                putA(w.buyerX, http.StatusForbidden),
				"EvaluatorPutsListing":            putA(w.evalX, http.StatusForbidden),
				"OperatorPutsListing":             putA(w.operator, http.StatusForbidden),
				"BuyerPutsOwnOrganisation":        {w.buyerX, req{method: http.MethodPut, target: "/api/v1/providers/" + w.buyerX.orgID, body: edit}, http.StatusForbidden},
				"AnonymousPutsListing":            putA(actor{}, http.StatusUnauthorized),
				"SupplierListsOrganisations":      {w.supA, req{method: http.MethodGet, target: "/api/v1/operator/organisations"}, http.StatusForbidden},
				"BuyerListsOrganisations":         {w.buyerX, req{method: http.MethodGet, target: "/api/v1/operator/organisations?status=pending"}, http.StatusForbidden},
				"EvaluatorListsOrganisations":     {w.evalX, req{method: http.MethodGet, target: "/api/v1/operator/organisations"}, http.StatusForbidden},
				"PendingBuyerApprovesItself":      {w.buyerY, req{method: http.MethodPost, target: op(w.buyerY.orgID, "approve")}, http.StatusForbidden},
				"SupplierApproves":                {w.supA, req{method: http.MethodPost, target: op(w.buyerY.orgID, "approve")}, http.StatusForbidden},
				"BuyerDisablesSupplier":           {w.buyerX, req{method: http.MethodPost, target: op(w.supB.orgID, "disable")}, http.StatusForbidden},
				"SupplierEnables":                 {w.supB, req{method: http.MethodPost, target: op(w.supA.orgID, "enable")}, http.StatusForbidden},
				"AnonymousListsOrganisations":     {actor{}, req{method: http.MethodGet, target: "/api/v1/operator/organisations"}, http.StatusUnauthorized},
				"AnonymousApproves":               {actor{}, req{method: http.MethodPost, target: op(w.buyerY.orgID, "approve")}, http.StatusUnauthorized},
				"SupplierListsBuyersUsers":        {w.supA, req{method: http.MethodGet, target: users(w.buyerX.orgID)}, http.StatusNotFound},
				"BuyerListsSuppliersUsers":        {w.buyerX, req{method: http.MethodGet, target: users(w.supA.orgID)}, http.StatusNotFound},
				"BuyerListsOtherBuyersUsers":      {w.buyerY, req{method: http.MethodGet, target: users(w.buyerX.orgID)}, http.StatusNotFound},
				"SupplierAddsToOtherSupplier":     {w.supB, req{method: http.MethodPost, target: users(w.supA.orgID), body: newUser}, http.StatusNotFound},
				"BuyerAddsToOtherBuyer":           {w.buyerX, req{method: http.MethodPost, target: users(w.buyerY.orgID), body: addUserRequest{Name: "Intruder", Email: "intruder@nhs.net", Password: testPassword, Role: "buyer"}}, http.StatusNotFound},
				"SupplierDisablesOtherSuppliers":  {w.supB, req{method: http.MethodPatch, target: "/api/v1/users/" + w.supA2.userID, body: disable}, http.StatusNotFound},
				"BuyerDisablesSuppliersUser":      {w.buyerX, req{method: http.MethodPatch, target: "/api/v1/users/" + w.supA.userID, body: disable}, http.StatusNotFound},
				"NonAdminListsOwnUsers":           {w.supA2, req{method: http.MethodGet, target: users(w.supA.orgID)}, http.StatusForbidden},
				"NonAdminAddsOwnUser":             {w.supA2, req{method: http.MethodPost, target: users(w.supA.orgID), body: newUser}, http.StatusForbidden},
				"EvaluatorListsOwnUsers":          {w.evalX, req{method: http.MethodGet, target: users(w.buyerX.orgID)}, http.StatusForbidden},
				"NonAdminDisablesAdmin":           {w.supA2, req{method: http.MethodPatch, target: "/api/v1/users/" + w.supA.userID, body: disable}, http.StatusNotFound},
				"UnknownUser":                     {w.supA, req{method: http.MethodPatch, target: "/api/v1/users/0190f0e6-0000-7000-8000-000000000000", body: disable}, http.StatusNotFound},
				"AnonymousListsUsers":             {actor{}, req{method: http.MethodGet, target: users(w.supA.orgID)}, http.StatusUnauthorized},
				"AnonymousAddsUser":               {actor{}, req{method: http.MethodPost, target: users(w.supA.orgID), body: newUser}, http.StatusUnauthorized},
				"AnonymousDisablesUser":           {actor{}, req{method: http.MethodPatch, target: "/api/v1/users/" + w.supA2.userID, body: disable}, http.StatusUnauthorized},
				"AnonymousMe":                     {actor{}, req{method: http.MethodGet, target: "/api/v1/me"}, http.StatusUnauthorized},
			}
			for _, name := range sortedKeys(tests) {
				tt := tests[name]
				t.Run(name, func(t *testing.T) {
					r := tt.r
					r.token = tt.as.access
					res, body := e.do(t, r)
					want(t, res, body, tt.want)
				})
			}

			t.Run("NothingChanged", func(t *testing.T) {
				if after := e.snapshot(t, w); !bytes.Equal(after, before) {
					t.Errorf("refused requests changed the marketplace:\nbefore %s\nafter  %s", before, after)
				}
				if a, b := e.etagOf(t, w.supA.orgID), e.etagOf(t, w.supB.orgID); a != etagA || b != etagB {
					t.Errorf("listing ETags moved: %s -> %s, %s -> %s", etagA, a, etagB, b)
				}
				for _, email := range []string{"intruder@example.org", "intruder@nhs.net"} {
					res, body := e.do(t, req{method: http.MethodPost, target: "/api/v1/auth/login", body: loginRequest{Email: email, Password: testPassword}})
					want(t, res, body, http.StatusUnauthorized)
				}
			})

			// The controls: the same requests by the right caller succeed,
			// so the refusals above are not the routes failing.
			t.Run("ControlsSucceed", func(t *testing.T) {
				for _, tt := range []matrixCase{
					putA(w.supA2, http.StatusOK),
					{w.supA, req{method: http.MethodGet, target: users(w.supA.orgID)}, http.StatusOK},
					{w.operator, req{method: http.MethodGet, target: users(w.buyerX.orgID)}, http.StatusOK},
					{w.operator, req{method: http.MethodGet, target: "/api/v1/operator/organisations"}, http.StatusOK},
					{w.operator, req{method: http.MethodPost, target: op(w.buyerY.orgID, "approve")}, http.StatusOK},
					{w.buyerX, req{method: http.MethodPatch, target: "/api/v1/users/" + w.evalX.userID, body: disable}, http.StatusOK},
				} {
					r := tt.r
					r.token = tt.as.access
					res, body := e.do(t, r)
					want(t, res, body, tt.want)
				}
			})
		})
	}
}

type matrixCase struct {
	as   actor
	r    req
	want int
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// snapshot is what the operator and the public see of the world: every
// organisation, every organisation's users, and both listings.
func (e *acctEnv) snapshot(tb testing.TB, w *world) []byte {
	tb.Helper()
	var out bytes.Buffer
	get := func(target string) {
		res, body := e.do(tb, req{method: http.MethodGet, target: target, token: w.operator.access})
		want(tb, res, body, http.StatusOK)
		out.WriteString(target + " " + string(body) + "\n")
	}
	get("/api/v1/operator/organisations")
	for _, a := range []actor{w.supA, w.supB, w.buyerX, w.buyerY} {
		get("/api/v1/organisations/" + a.orgID + "/users")
	}
	get("/api/v1/providers/" + w.supA.orgID)
	get("/api/v1/providers/" + w.supB.orgID)
	return out.Bytes()
}

// TestRegister covers registration: suppliers with and without a
// listing, CCGs active at once or pending approval, duplicates, and every
// bad field named.
func TestRegister(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustAccountEnv(t, engine)
			op := e.mustOperator(t)
			t.Run("register201SupplierWithListing", func(t *testing.T) { register201SupplierWithListing(t, e) })
			t.Run("register201SupplierWithoutListing", func(t *testing.T) { register201SupplierWithoutListing(t, e) })
			t.Run("register201BuyerTrusted", func(t *testing.T) { register201BuyerTrusted(t, e) })
			t.Run("register201BuyerPending", func(t *testing.T) { register201BuyerPending(t, e, op) })
			t.Run("register409", func(t *testing.T) { register409(t, e, op) })
			t.Run("register400", func(t *testing.T) { register400(t, e, op) })
			t.Run("register400Password", func(t *testing.T) { register400Password(t, e) })
		})
	}
}

func register201SupplierWithListing(t *testing.T, e *acctEnv) {
	l := validListing("Gamma: risk stratification for CCGs.")
	res, body := e.do(t, req{method: http.MethodPost, target: "/api/v1/auth/register",
		body: supplierRegistration("Gamma Ltd", "Admin@Gamma.example ", identifierRequest{Scheme: "GB-COH", ID: "SC123456"}, &l)})
	want(t, res, body, http.StatusCreated)
	got := mustDecode[registerResponse](t, body)
	if got.Organisation.Status != "active" || got.Organisation.Kind != "supplier" || got.User.Role != "supplier" || !got.User.Admin {
		t.Errorf("registered %+v", got)
	}
	if got.User.Email != "admin@gamma.example" {
		t.Errorf("e-mail %q, want it normalized", got.User.Email)
	}
	if loc := res.Header.Get("Location"); loc != "/api/v1/organisations/"+got.Organisation.ID+"/users" {
		t.Errorf("Location %q", loc)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
	}
	if s := strings.ToLower(string(body)); strings.Contains(s, "argon2") || strings.Contains(s, "password") {
		t.Errorf("the answer carries the password or its hash: %s", body)
	}
	res, body = e.do(t, req{method: http.MethodGet, target: "/api/v1/providers/" + got.Organisation.ID})
	want(t, res, body, http.StatusOK)
	if p := mustDecode[providerResponse](t, body); p.Summary != l.Summary || p.Version != 1 {
		t.Errorf("listing %+v", p)
	}
	a := e.login(t, "admin@gamma.example")
	res, body = e.do(t, req{method: http.MethodGet, target: "/api/v1/me", token: a.access})
	want(t, res, body, http.StatusOK)
	me := mustDecode[meResponse](t, body)
	if me.Role != "supplier" || me.User.ID != got.User.ID || me.Organisation.ID != got.Organisation.ID || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("/me %s (Cache-Control %q)", body, res.Header.Get("Cache-Control"))
	}
}

// register201SupplierWithoutListing: the supplier is a provider at once,
// with an empty listing whose ETag its first edit sends, as every edit.
// TestNewSupplier covers the directory, the caches and disabling.
func register201SupplierWithoutListing(t *testing.T, e *acctEnv) {
	a := e.register(t, supplierRegistration("Delta Charity", "admin@delta.example", identifierRequest{Scheme: "GB-CHC", ID: "765432"}, nil))
	target := "/api/v1/providers/" + a.orgID
	res, body := e.do(t, req{method: http.MethodGet, target: target})
	want(t, res, body, http.StatusOK)
	etag := res.Header.Get("ETag")
	if p := mustDecode[providerResponse](t, body); etag == "" || p.Name != "Delta Charity" || p.Summary != "" || p.Version != 1 {
		t.Errorf("new supplier: ETag %q, %s", etag, body)
	}
	l := validListing("Delta: engagement led by local people.")
	res, body = e.do(t, req{method: http.MethodPut, target: target, token: a.access, body: l})
	want(t, res, body, http.StatusPreconditionRequired)
	res, body = e.do(t, req{method: http.MethodPut, target: target, token: a.access, body: l, header: map[string]string{"If-Match": "*"}})
	want(t, res, body, http.StatusOK)
	res2, body2 := e.do(t, req{method: http.MethodGet, target: target})
	want(t, res2, body2, http.StatusOK)
	if p := mustDecode[providerResponse](t, body2); res2.Header.Get("ETag") != res.Header.Get("ETag") || p.Summary != l.Summary || p.Version != 2 {
		t.Errorf("first listing: GET ETag %s, PUT ETag %s, %s", res2.Header.Get("ETag"), res.Header.Get("ETag"), body2)
	}
	res, body = e.do(t, req{method: http.MethodPut, target: target, token: a.access, body: l})
	want(t, res, body, http.StatusPreconditionRequired)
	res, body = e.do(t, req{method: http.MethodPut, target: target, token: a.access, body: l, header: map[string]string{"If-Match": etag}})
	want(t, res, body, http.StatusPreconditionFailed)
}

func register201BuyerTrusted(t *testing.T, e *acctEnv) {
	for _, email := range []string{"lead@nhs.net", "lead@ccg.nhs.net"} {
		res, body := e.do(t, req{method: http.MethodPost, target: "/api/v1/auth/register",
			body: buyerRegistration("NHS "+email+" CCG", email, strings.ToUpper(email[5:8]))})
		want(t, res, body, http.StatusCreated)
		got := mustDecode[registerResponse](t, body)
		if got.Organisation.Status != "active" || got.User.Role != "buyer" || got.Organisation.Population != 250000 || got.Organisation.Sector != "" {
			t.Errorf("%s: %s", email, body)
		}
	}
}

func register201BuyerPending(t *testing.T, e *acctEnv, op actor) {
	a := e.register(t, buyerRegistration("NHS Pending CCG", "lead@pending-ccg.example", "07C"))
	me := func() meResponse {
		res, body := e.do(t, req{method: http.MethodGet, target: "/api/v1/me", token: a.access})
		want(t, res, body, http.StatusOK)
		return mustDecode[meResponse](t, body)
	}
	if s := me().Organisation.Status; s != "pending" {
		t.Fatalf("status %q, want pending", s)
	}
	res, body := e.do(t, req{method: http.MethodGet, target: "/api/v1/operator/organisations?status=pending&kind=buyer", token: op.access})
	want(t, res, body, http.StatusOK)
	if page := mustDecode[listResponse[organisationResponse]](t, body); !slices.ContainsFunc(page.Items, func(o organisationResponse) bool { return o.ID == a.orgID }) {
		t.Errorf("pending list does not hold the CCG: %s", body)
	}
	res, body = e.do(t, req{method: http.MethodPost, target: "/api/v1/operator/organisations/" + a.orgID + "/approve", token: op.access})
	want(t, res, body, http.StatusOK)
	if o := mustDecode[organisationResponse](t, body); o.Status != "active" {
		t.Errorf("approved: %s", body)
	}
	if s := me().Organisation.Status; s != "active" {
		t.Errorf("after approval: %q", s)
	}
}

func register409(t *testing.T, e *acctEnv, op actor) {
	e.register(t, supplierRegistration("Epsilon Ltd", "admin@epsilon.example", identifierRequest{Scheme: "GB-COH", ID: "87654321"}, nil))
	count := func() int {
		res, body := e.do(t, req{method: http.MethodGet, target: "/api/v1/operator/organisations?page_size=100", token: op.access})
		want(t, res, body, http.StatusOK)
		return len(mustDecode[listResponse[organisationResponse]](t, body).Items)
	}
	n := count()
	tests := []struct {
		name  string
		r     registerRequest
		field string
	}{
		{"Email", supplierRegistration("Zeta Ltd", "admin@epsilon.example", identifierRequest{Scheme: "GB-COH", ID: "11112222"}, nil), "user.email"},
		{"EmailOtherCase", supplierRegistration("Zeta Ltd", " ADMIN@Epsilon.Example", identifierRequest{Scheme: "GB-COH", ID: "11112222"}, nil), "user.email"},
		{"Identifier", supplierRegistration("Epsilon Again", "other@epsilon.example", identifierRequest{Scheme: "GB-COH", ID: "87654321"}, nil), "organisation.identifiers[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := e.do(t, req{method: http.MethodPost, target: "/api/v1/auth/register", body: tt.r})
			want(t, res, body, http.StatusConflict)
			if got := fieldsOf(t, body); !slices.Equal(got, []string{tt.field}) {
				t.Errorf("409 names %q, want %q: %s", got, tt.field, body)
			}
		})
	}
	if got := count(); got != n {
		t.Errorf("%d organisations after refused registrations, was %d", got, n)
	}
}

// register400 sends one bad registration per case; each is a 400 naming
// exactly the fields that are wrong, and stores nothing.
func register400(t *testing.T, e *acctEnv, op actor) {
	const supplier = `"organisation":{"kind":"supplier","name":"Eta Ltd","sector":"independent","identifiers":[{"scheme":"GB-COH","id":"12121212"}],"regions":["midlands"]}`
	const buyer = `"organisation":{"kind":"buyer","name":"NHS Eta CCG","identifiers":[{"scheme":"GB-NHS","id":"08D"}],"regions":["london"],"population":1000,"running_cost_allowance_per_head_pence":2000}`
	const user = `"user":{"name":"A Person","email":"a.person@eta.example","password":"` + testPassword + `"}`
	mk := func(org, usr string, extra ...string) string {
		return "{" + strings.Join(append([]string{org, usr}, extra...), ",") + "}"
	}
	replace := func(s, old, new string) string {
		if !strings.Contains(s, old) {
			t.Fatalf("fixture has no %q", old)
		}
		return strings.Replace(s, old, new, 1)
	}
	tests := []struct {
		name   string
		body   string
		fields []string
	}{
		{"Empty", ``, []string{"body"}},
		{"Malformed", `{"organisation":`, []string{"body"}},
		{"NotAnObject", `[]`, []string{"body"}},
		{"Trailing", mk(supplier, user) + `{}`, []string{"body"}},
		{"NoKind", mk(replace(supplier, `"kind":"supplier",`, ""), user), []string{"organisation.kind"}},
		{"OperatorKind", mk(replace(supplier, `"supplier"`, `"operator"`), user), []string{"organisation.kind"}},
		{"NoName", mk(replace(supplier, `"Eta Ltd"`, `"  "`), user), []string{"organisation.name"}},
		{"BadSector", mk(replace(supplier, `"independent"`, `"council"`), user), []string{"organisation.sector"}},
		{"NoIdentifiers", mk(replace(supplier, `[{"scheme":"GB-COH","id":"12121212"}]`, `[]`), user), []string{"organisation.identifiers"}},
		{"BadCompanyNumber", mk(replace(supplier, `"12121212"`, `"123"`), user), []string{"organisation.identifiers[0].id"}},
		{"BadCharityNumber", mk(replace(supplier, `"GB-COH","id":"12121212"`, `"GB-CHC","id":"12AB"`), user), []string{"organisation.identifiers[0].id"}},
		{"BadLocalAuthority", mk(replace(supplier, `"GB-COH","id":"12121212"`, `"GB-LAE","id":"kent"`), user), []string{"organisation.identifiers[0].id"}},
		{"BadODSCode", mk(replace(supplier, `"GB-COH","id":"12121212"`, `"GB-NHS","id":"0d"`), user), []string{"organisation.identifiers[0].id"}},
		{"UnknownScheme", mk(replace(supplier, `"GB-COH"`, `"US-EIN"`), user), []string{"organisation.identifiers[0].scheme"}},
		{"UnknownRegion", mk(replace(supplier, `["midlands"]`, `["wales"]`), user), []string{"organisation.regions[0]"}},
		{"BuyerNoPopulation", mk(replace(buyer, `"population":1000,`, ""), user), []string{"organisation.population"}},
		{"BuyerNoAllowance", mk(replace(buyer, `,"running_cost_allowance_per_head_pence":2000`, ""), user), []string{"organisation.running_cost_allowance_per_head_pence"}},
		{"BuyerNoODSCode", mk(replace(buyer, `"GB-NHS","id":"08D"`, `"GB-COH","id":"12121212"`), user), []string{"organisation.identifiers"}},
		{"BuyerWithListing", mk(buyer, user, `"listing":{"summary":"x","capabilities":["finance"],"regions":["london"],"size":"small"}`), []string{"listing"}},
		{"ListingWithoutSummary", mk(supplier, user, `"listing":{"summary":"","capabilities":["finance"],"regions":["london"],"size":"small"}`), []string{"listing.summary"}},
		{"ListingBadCapability", mk(supplier, user, `"listing":{"summary":"x","capabilities":["juggling"],"regions":["london"],"size":"small"}`), []string{"listing.capabilities[0]"}},
		{"NoUserName", mk(supplier, replace(user, `"A Person"`, `""`)), []string{"user.name"}},
		{"BadEmail", mk(supplier, replace(user, `"a.person@eta.example"`, `"a.person"`)), []string{"user.email"}},
		{"NoUser", "{" + supplier + "}", []string{"user.email", "user.name", "user.password"}},
		{"Several", mk(replace(supplier, `"independent"`, `"council"`), replace(user, `"a.person@eta.example"`, `"nobody"`)), []string{"organisation.sector", "user.email"}},
		{"PopulationNotANumber", mk(replace(buyer, `1000`, `"many"`), user), []string{"organisation.population"}},
		{"PopulationFraction", mk(replace(buyer, `1000`, `1000.5`), user), []string{"organisation.population"}},
		{"IdentifiersNotAnArray", mk(replace(supplier, `[{"scheme":"GB-COH","id":"12121212"}]`, `"GB-COH-12121212"`), user), []string{"organisation.identifiers"}},
		{"NameNotAString", mk(replace(supplier, `"Eta Ltd"`, `42`), user), []string{"organisation.name"}},
		{"UnknownTopLevelField", mk(supplier, user, `"plan":"gold"`), []string{"plan"}},
		{"UnknownOrganisationField", mk(replace(supplier, `"kind"`, `"colour":"blue","kind"`), user), []string{"organisation.colour"}},
		{"UnknownIdentifierField", mk(replace(supplier, `"id":"12121212"`, `"id":"12121212","verified":true`), user), []string{"organisation.identifiers[0].verified"}},
		{"RoleAtRegistration", mk(supplier, replace(user, `"name"`, `"role":"operator","name"`)), []string{"user.role"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := e.do(t, req{method: http.MethodPost, target: "/api/v1/auth/register", body: tt.body})
			want(t, res, body, http.StatusBadRequest)
			got := fieldsOf(t, body)
			slices.Sort(got)
			if !slices.Equal(got, tt.fields) {
				t.Errorf("errors name %q, want %q: %s", got, tt.fields, body)
			}
		})
	}
	res, body := e.do(t, req{method: http.MethodPost, target: "/api/v1/auth/login", body: loginRequest{Email: "a.person@eta.example", Password: testPassword}})
	want(t, res, body, http.StatusUnauthorized)
}

func register400Password(t *testing.T, e *acctEnv) {
	for _, tt := range []struct{ name, password string }{
		{"TooShort", "plum orchar"},
		{"Common", "password123456"},
		{"CommonOtherCase", "Password123456"},
		{"Repeated", "abcabcabcabcabc"},
		{"KeyboardRun", "qwertyuiopasdf"},
		{"TooLong", strings.Repeat("plum orchard ", 20)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := supplierRegistration("Theta "+tt.name, strings.ToLower(tt.name)+"@theta.example", identifierRequest{Scheme: "GB-COH", ID: "13131313"}, nil)
			r.User.Password = tt.password
			res, body := e.do(t, req{method: http.MethodPost, target: "/api/v1/auth/register", body: r})
			want(t, res, body, http.StatusBadRequest)
			if got := fieldsOf(t, body); !slices.Equal(got, []string{"user.password"}) {
				t.Errorf("errors name %q: %s", got, body)
			}
		})
	}
}

// TestSessions covers sign-in, refresh rotation with reuse detection,
// sign-out, and disabled users losing their sessions.
func TestSessions(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustAccountEnv(t, engine)
			w := e.mustWorld(t)
			t.Run("login200", func(t *testing.T) { login200(t, e, w) })
			t.Run("login401", func(t *testing.T) { login401(t, e, w) })
			t.Run("refresh200Rotates", func(t *testing.T) { refresh200Rotates(t, e, w) })
			t.Run("refresh401Reuse", func(t *testing.T) { refresh401Reuse(t, e, w) })
			t.Run("logout204", func(t *testing.T) { logout204(t, e, w) })
			t.Run("refresh401Disabled", func(t *testing.T) { refresh401Disabled(t, e, w) })
			t.Run("users", func(t *testing.T) { users200(t, e, w) })
			t.Run("operatorList", func(t *testing.T) { operatorList(t, e, w) })
			t.Run("refresh401Expired", func(t *testing.T) { refresh401Expired(t, e, w) })
		})
	}
}

func (e *acctEnv) refresh(tb testing.TB, token string) (*http.Response, []byte) {
	tb.Helper()
	return e.do(tb, req{method: http.MethodPost, target: "/api/v1/auth/refresh", body: refreshRequest{RefreshToken: token}})
}

func login200(t *testing.T, e *acctEnv, w *world) {
	res, body := e.do(t, req{method: http.MethodPost, target: "/api/v1/auth/login", body: loginRequest{Email: " Admin@Alpha.Example", Password: testPassword}})
	want(t, res, body, http.StatusOK)
	tr := mustDecode[tokenResponse](t, body)
	if tr.TokenType != "Bearer" || tr.ExpiresIn != 900 || tr.AccessToken == "" || tr.RefreshToken == "" || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("login: %s, Cache-Control %q", body, res.Header.Get("Cache-Control"))
	}
}

// login401: every refused sign-in looks the same.
func login401(t *testing.T, e *acctEnv, w *world) {
	var first *problem
	for _, tt := range []struct{ name, email, password string }{
		{"WrongPassword", w.supA.email, testPassword + "!"},
		{"UnknownEmail", "nobody@alpha.example", testPassword},
		{"EmptyPassword", w.supA.email, ""},
		{"EmptyEmail", "", testPassword},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, body := e.do(t, req{method: http.MethodPost, target: "/api/v1/auth/login", body: loginRequest{Email: tt.email, Password: tt.password}})
			want(t, res, body, http.StatusUnauthorized)
			p := mustDecode[problem](t, body)
			if first == nil {
				first = &p
			} else if p.Detail != first.Detail || p.Code != first.Code || len(p.Errors) != 0 {
				t.Errorf("%s answers %q, another refusal %q", tt.name, p.Detail, first.Detail)
			}
		})
	}
	t.Run("Malformed", func(t *testing.T) {
		res, body := e.do(t, req{method: http.MethodPost, target: "/api/v1/auth/login", body: `{"email":1}`})
		want(t, res, body, http.StatusBadRequest)
	})
}

func refresh200Rotates(t *testing.T, e *acctEnv, w *world) {
	a := e.login(t, w.buyerX.email)
	res, body := e.refresh(t, a.refresh)
	want(t, res, body, http.StatusOK)
	next := mustDecode[tokenResponse](t, body)
	if next.RefreshToken == a.refresh || next.AccessToken == "" || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("refresh: %s", body)
	}
	res, body = e.do(t, req{method: http.MethodGet, target: "/api/v1/me", token: next.AccessToken})
	want(t, res, body, http.StatusOK)
	res, body = e.refresh(t, next.RefreshToken)
	want(t, res, body, http.StatusOK)
}

// refresh401Reuse: a spent refresh token is refused, and presenting it
// ends the session it came from, so the token it was exchanged for stops
// working too.
func refresh401Reuse(t *testing.T, e *acctEnv, w *world) {
	a := e.login(t, w.buyerX.email)
	other := e.login(t, w.buyerX.email) // another session of the same user
	res, body := e.refresh(t, a.refresh)
	want(t, res, body, http.StatusOK)
	next := mustDecode[tokenResponse](t, body)
	res, body = e.refresh(t, a.refresh)
	want(t, res, body, http.StatusUnauthorized)
	res, body = e.refresh(t, next.RefreshToken)
	want(t, res, body, http.StatusUnauthorized)
	res, body = e.refresh(t, other.refresh)
	want(t, res, body, http.StatusOK) // another session is not touched
	for _, bad := range []string{"", "csr_unknown", "garbage"} {
		res, body = e.refresh(t, bad)
		want(t, res, body, http.StatusUnauthorized)
	}
	res, body = e.do(t, req{method: http.MethodPost, target: "/api/v1/auth/refresh", body: `{"refresh":"x"}`})
	want(t, res, body, http.StatusBadRequest)
	if got := fieldsOf(t, body); !slices.Equal(got, []string{"refresh"}) {
		t.Errorf("errors name %q", got)
	}
}

func logout204(t *testing.T, e *acctEnv, w *world) {
	a := e.login(t, w.supB.email)
	res, body := e.refresh(t, a.refresh)
	want(t, res, body, http.StatusOK)
	next := mustDecode[tokenResponse](t, body)
	res, body = e.do(t, req{method: http.MethodPost, target: "/api/v1/auth/logout", body: refreshRequest{RefreshToken: next.RefreshToken}})
	want(t, res, body, http.StatusNoContent)
	if len(body) != 0 || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("logout: %q, Cache-Control %q", body, res.Header.Get("Cache-Control"))
	}
	res, body = e.refresh(t, next.RefreshToken)
	want(t, res, body, http.StatusUnauthorized)
	res, body = e.do(t, req{method: http.MethodPost, target: "/api/v1/auth/logout", body: refreshRequest{RefreshToken: "csr_unknown"}})
	want(t, res, body, http.StatusNoContent)
	res, body = e.do(t, req{method: http.MethodPost, target: "/api/v1/auth/logout"})
	want(t, res, body, http.StatusBadRequest)
}

func refresh401Disabled(t *testing.T, e *acctEnv, w *world) {
	u := e.addUser(t, w.supB, "leaver@beta.example", "supplier")
	res, body := e.do(t, req{method: http.MethodPatch, target: "/api/v1/users/" + u.userID, token: w.supB.access, body: userStatusRequest{Status: "disabled"}})
	want(t, res, body, http.StatusOK)
	res, body = e.refresh(t, u.refresh)
	want(t, res, body, http.StatusUnauthorized)
	res, body = e.do(t, req{method: http.MethodPost, target: "/api/v1/auth/login", body: loginRequest{Email: u.email, Password: testPassword}})
	want(t, res, body, http.StatusUnauthorized)
	res, body = e.do(t, req{method: http.MethodPatch, target: "/api/v1/users/" + u.userID, token: w.supB.access, body: userStatusRequest{Status: "active"}})
	want(t, res, body, http.StatusOK)
	e.login(t, u.email)
}

func users200(t *testing.T, e *acctEnv, w *world) {
	target := "/api/v1/organisations/" + w.buyerX.orgID + "/users"
	res, body := e.do(t, req{method: http.MethodGet, target: target, token: w.buyerX.access})
	want(t, res, body, http.StatusOK)
	list := mustDecode[listResponse[userResponse]](t, body)
	var emails []string
	for _, u := range list.Items {
		emails = append(emails, u.Email)
	}
	if !slices.Equal(emails, []string{w.buyerX.email, w.evalX.email}) || res.Header.Get("Cache-Control") != "no-store" || strings.Contains(string(body), "argon2") {
		t.Errorf("users %q: %s", emails, body)
	}
	tests := []struct {
		name   string
		body   any
		status int
		fields []string
	}{
		{"RoleNotFitting", addUserRequest{Name: "S", Email: "s@nhs.net", Password: testPassword, Role: "supplier"}, http.StatusBadRequest, []string{"role"}},
		{"RoleOperator", addUserRequest{Name: "S", Email: "s@nhs.net", Password: testPassword, Role: "operator"}, http.StatusBadRequest, []string{"role"}},
		{"WeakPassword", addUserRequest{Name: "S", Email: "s@nhs.net", Password: "password123456", Role: "buyer"}, http.StatusBadRequest, []string{"password"}},
		{"DuplicateEmail", addUserRequest{Name: "S", Email: w.supA.email, Password: testPassword, Role: "buyer"}, http.StatusConflict, []string{"email"}},
		{"UnknownField", `{"name":"S","email":"s@nhs.net","password":"` + testPassword + `","role":"buyer","admin":true}`, http.StatusBadRequest, []string{"admin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := e.do(t, req{method: http.MethodPost, target: target, token: w.buyerX.access, body: tt.body})
			want(t, res, body, tt.status)
			if got := fieldsOf(t, body); !slices.Equal(got, tt.fields) {
				t.Errorf("errors name %q, want %q", got, tt.fields)
			}
		})
	}
	t.Run("DisableSelf409", func(t *testing.T) {
		res, body := e.do(t, req{method: http.MethodPatch, target: "/api/v1/users/" + w.buyerX.userID, token: w.buyerX.access, body: userStatusRequest{Status: "disabled"}})
		want(t, res, body, http.StatusConflict)
	})
	t.Run("BadStatus400", func(t *testing.T) {
		res, body := e.do(t, req{method: http.MethodPatch, target: "/api/v1/users/" + w.evalX.userID, token: w.buyerX.access, body: userStatusRequest{Status: "deleted"}})
		want(t, res, body, http.StatusBadRequest)
		if got := fieldsOf(t, body); !slices.Equal(got, []string{"status"}) {
			t.Errorf("errors name %q", got)
		}
	})
}

func operatorList(t *testing.T, e *acctEnv, w *world) {
	op := w.operator.access
	var ids []string
	target := "/api/v1/operator/organisations?page_size=2"
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("more than 10 pages")
		}
		res, body := e.do(t, req{method: http.MethodGet, target: target, token: op})
		want(t, res, body, http.StatusOK)
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
		}
		page := mustDecode[listResponse[organisationResponse]](t, body)
		for _, o := range page.Items {
			ids = append(ids, o.ID)
		}
		if page.NextCursor == "" {
			break
		}
		target = "/api/v1/operator/organisations?page_size=2&cursor=" + url.QueryEscape(page.NextCursor)
	}
	for _, a := range []actor{w.supA, w.supB, w.buyerX, w.buyerY, w.operator} {
		if !slices.Contains(ids, a.orgID) {
			t.Errorf("pages miss organisation %s: %q", a.orgID, ids)
		}
	}
	if len(ids) != 5 {
		t.Errorf("%d organisations over the pages, want 5 each once: %q", len(ids), ids)
	}
	res, body := e.do(t, req{method: http.MethodGet, target: "/api/v1/operator/organisations?kind=supplier", token: op})
	want(t, res, body, http.StatusOK)
	if n := len(mustDecode[listResponse[organisationResponse]](t, body).Items); n != 2 {
		t.Errorf("%d suppliers, want 2", n)
	}
	for _, tt := range []struct{ query, field string }{
		{"kind=council", "kind"},
		{"status=asleep", "status"},
		{"page_size=0", "page_size"},
		{"page_size=ten", "page_size"},
		{"page_size=101", "page_size"},
		{"cursor=not-a-cursor!", "cursor"},
		{"kind=buyer&kind=supplier", "kind"},
	} {
		t.Run(tt.query, func(t *testing.T) {
			res, body := e.do(t, req{method: http.MethodGet, target: "/api/v1/operator/organisations?" + tt.query, token: op})
			want(t, res, body, http.StatusBadRequest)
			if got := fieldsOf(t, body); !slices.Equal(got, []string{tt.field}) {
				t.Errorf("errors name %q", got)
			}
		})
	}
	t.Run("OwnOrganisation409", func(t *testing.T) {
		res, body := e.do(t, req{method: http.MethodPost, target: "/api/v1/operator/organisations/" + w.operator.orgID + "/disable", token: op})
		want(t, res, body, http.StatusConflict)
	})
	t.Run("Unknown404", func(t *testing.T) {
		res, body := e.do(t, req{method: http.MethodPost, target: "/api/v1/operator/organisations/0190f0e6-0000-7000-8000-000000000000/approve", token: op})
		want(t, res, body, http.StatusNotFound)
	})
}

// refresh401Expired moves the clock past the refresh tokens' lifetime; it
// runs last.
func refresh401Expired(t *testing.T, e *acctEnv, w *world) {
	a := e.login(t, w.supA.email)
	e.clock.Advance(31 * 24 * time.Hour)
	res, body := e.refresh(t, a.refresh)
	want(t, res, body, http.StatusUnauthorized)
}

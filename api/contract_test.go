package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/ocds"
)

var contract struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

// mustContract returns the embedded openapi.yaml, loaded and validated, and
// a router over its operations.
func mustContract(tb testing.TB) (*openapi3.T, routers.Router) {
	tb.Helper()
	contract.once.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(spec)
		if err != nil {
			contract.err = err
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			contract.err = err
			return
		}
		contract.doc = doc
		contract.router, contract.err = gorillamux.NewRouter(doc)
	})
	if contract.err != nil {
		tb.Fatalf("openapi.yaml: %v", contract.err)
	}
	return contract.doc, contract.router
}

// serve sends req to h and checks the request and the response against
// openapi.yaml and the headers every response carries, failing tb on any
// mismatch.
func serve(tb testing.TB, h http.Handler, req *http.Request) (*http.Response, []byte) {
	tb.Helper()
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	vreq := req.Clone(context.Background())
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	vreq.ContentLength = int64(len(reqBody))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body := rec.Body.Bytes()
	checkContract(tb, vreq, res, body)
	return res, body
}

func checkContract(tb testing.TB, req *http.Request, res *http.Response, body []byte) {
	tb.Helper()
	doc, router := mustContract(tb)
	what := req.Method + " " + req.URL.RequestURI()
	if res.Header.Get("Content-Encoding") == "gzip" {
		// The contract describes the content; check the gzip'd bytes'.
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err == nil {
			body, err = io.ReadAll(zr)
		}
		if err != nil {
			tb.Errorf("%s: Content-Encoding gzip, but the body is not gzip: %v", what, err)
			return
		}
	}
	for _, name := range []string{"X-Request-Id", "X-Content-Type-Options", "Content-Security-Policy"} {
		if res.Header.Get(name) == "" {
			tb.Errorf("%s: %d response has no %s header", what, res.StatusCode, name)
		}
	}
	// No page may frame any answer (CSP's frame-ancestors, which replaces
	// X-Frame-Options), and nothing sniffs a body as another type.
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		tb.Errorf("%s: Content-Security-Policy %q lets pages frame it", what, csp)
	}
	if v := res.Header.Get("X-Content-Type-Options"); v != "" && v != "nosniff" {
		tb.Errorf("%s: X-Content-Type-Options %q", what, v)
	}
	if res.StatusCode >= 400 {
		checkProblemBody(tb, what, res, body)
	}
	if res.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
		tb.Errorf("%s: 401 without a Bearer challenge in WWW-Authenticate", what)
	}
	if res.Header.Get("Access-Control-Allow-Credentials") != "" {
		tb.Errorf("%s: Access-Control-Allow-Credentials sent", what)
	}

	if strings.HasPrefix(req.URL.Path, "/test/") {
		return // routes a test added to the router
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		// Answers any path may give, described once under components.
		var resp string
		switch res.StatusCode {
		case http.StatusNotFound:
			resp = "NotFound"
		case http.StatusMethodNotAllowed:
			resp = "MethodNotAllowed"
			if res.Header.Get("Allow") == "" {
				tb.Errorf("%s: 405 without Allow", what)
			}
		case http.StatusRequestEntityTooLarge:
			resp = "TooLarge"
		case http.StatusNoContent:
			if req.Method != http.MethodOptions {
				tb.Errorf("%s: 204 for a path openapi.yaml does not have", what)
				return
			}
			resp = "Preflight"
		case http.StatusOK, http.StatusNotModified:
			if strings.HasPrefix(req.URL.Path, "/api/") {
				tb.Errorf("%s: %d for a path openapi.yaml does not have", what, res.StatusCode)
			}
			return // the frontend, which the contract does not describe
		default:
			tb.Errorf("%s: status %d for a path openapi.yaml does not have (%v)", what, res.StatusCode, err)
			return
		}
		ref := doc.Components.Responses[resp]
		if ref == nil {
			tb.Fatalf("openapi.yaml has no components.responses.%s", resp)
		}
		for name, h := range ref.Value.Headers {
			if h.Value.Required && res.Header.Get(name) == "" {
				tb.Errorf("%s: %d response has no %s header", what, res.StatusCode, name)
			}
		}
		return
	}

	ctx := context.Background()
	opts := &openapi3filter.Options{AuthenticationFunc: bearerPresent, IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: withoutEmptyParams(req), PathParams: params, Route: route, Options: opts}
	if reqErr := openapi3filter.ValidateRequest(ctx, in); reqErr != nil && res.StatusCode < 400 {
		tb.Errorf("%s: openapi.yaml rejects the request (%v) but the server answered %d", what, reqErr, res.StatusCode)
	}
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	}
	if err := openapi3filter.ValidateResponse(ctx, rin); err != nil {
		tb.Errorf("%s: %d response does not match openapi.yaml: %v\nbody: %.500s", what, res.StatusCode, err, body)
	}
}

// withoutEmptyParams is req without the query parameters it gives empty,
// which openapi.yaml's conventions say are the same as left out.
func withoutEmptyParams(req *http.Request) *http.Request {
	if req.URL.RawQuery == "" {
		return req
	}
	parts := strings.Split(req.URL.RawQuery, "&")
	kept := parts[:0:0]
	for _, kv := range parts {
		if _, v, _ := strings.Cut(kv, "="); v != "" {
			kept = append(kept, kv)
		}
	}
	if len(kept) == len(parts) {
		return req
	}
	r := req.Clone(req.Context())
	u := *req.URL
	u.RawQuery = strings.Join(kept, "&")
	r.URL = &u
	return r
}

// bearerPresent accepts a request to an operation that needs bearerAuth
// when it carries a bearer token: the server checks the token itself, and
// the tests check the server.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme == nil || in.SecurityScheme.Type != "http" || in.SecurityScheme.Scheme != "bearer" {
		return fmt.Errorf("openapi.yaml names a security scheme the tests do not know: %s", in.SecuritySchemeName)
	}
	if !strings.HasPrefix(strings.ToLower(in.RequestValidationInput.Request.Header.Get("Authorization")), "bearer ") {
		return errors.New("no bearer token")
	}
	return nil
}

// checkProblemBody checks an error response against the Problem schema,
// which also covers the errors of routes the contract does not list.
func checkProblemBody(tb testing.TB, what string, res *http.Response, body []byte) {
	tb.Helper()
	doc, _ := mustContract(tb)
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "application/problem+json" {
		tb.Errorf("%s: %d response is %q, not application/problem+json", what, res.StatusCode, res.Header.Get("Content-Type"))
		return
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		tb.Errorf("%s: problem is not JSON: %v", what, err)
		return
	}
	if err := doc.Components.Schemas["Problem"].Value.VisitJSON(v); err != nil {
		tb.Errorf("%s: problem does not match the Problem schema: %v", what, err)
	}
	var p problem
	json.Unmarshal(body, &p)
	if p.Status != res.StatusCode {
		tb.Errorf("%s: problem status %d on a %d response", what, p.Status, res.StatusCode)
	}
	if p.RequestID == "" || p.RequestID != res.Header.Get("X-Request-ID") {
		tb.Errorf("%s: problem request_id %q, header %q", what, p.RequestID, res.Header.Get("X-Request-ID"))
	}
}

// TestRoutesMatchContract fails when the router serves a route
// openapi.yaml does not describe, or the other way round.
func TestRoutesMatchContract(t *testing.T) {
	doc, _ := mustContract(t)
	s := newServer(Config{
		Accounts: &market.Accounts{}, Tenders: &market.Tenders{}, Evaluations: &market.Evaluations{},
		Audit: nilAudit{}, Market: nilMarket{},
		OCDS: &ocds.Options{}, Levies: &market.Levies{}, StripeWebhook: nilWebhook{},
		Inbox: &market.Inbox{}, Stream: nilStream{},
	})
	var served, specified []string
	for _, r := range s.engine.Routes() {
		served = append(served, r.Method+" "+ginToOpenAPIPath(r.Path))
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			specified = append(specified, method+" "+path)
		}
	}
	sort.Strings(served)
	sort.Strings(specified)
	inSpec := toSet(specified)
	for _, r := range served {
		if !inSpec[r] {
			t.Errorf("router serves %s, which openapi.yaml does not describe", r)
		}
	}
	inRouter := toSet(served)
	for _, r := range specified {
		if !inRouter[r] {
			t.Errorf("openapi.yaml describes %s, which the router does not serve", r)
		}
	}
}

// nilAudit and nilMarket stand in for the stores, to mount their routes.
type nilAudit struct{ market.AuditStore }
type nilMarket struct{ market.MarketStore }
type nilWebhook struct{ StripeWebhook }
type nilStream struct{ NotificationStream }

// ginToOpenAPIPath turns "/providers/:id" into "/providers/{id}".
func ginToOpenAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

func toSet(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

package api

import (
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/sqlstore"
)

// TestHeadAndIfNoneMatchOnEveryGET walks every GET operation of
// openapi.yaml, as anonymous and as each kind of user: HEAD answers the
// same status and headers as GET with no body, and a response with an
// ETag answers If-None-Match with 304 and no body, for GET and HEAD.
func TestHeadAndIfNoneMatchOnEveryGET(t *testing.T) {
	e := mustNotifyEnv(t, sqlstore.EngineSQLite)
	w := e.mustMarket(t)
	id := e.award(t, w, "Awarded for HEAD", w.firm, 42_000_000)
	open := e.publishedTender(t, w.lead, "Open for HEAD", 2*time.Minute, 5*time.Minute)
	bid := e.submitBid(t, w.nhs, open.ID, 30_000_000)
	e.drain(t)
	levy := e.levyFor(t, id)
	notes := e.inbox(t, w.firm, "").Items
	if len(notes) == 0 {
		t.Fatal("no notification to HEAD")
	}
	ids := map[string]string{
		"{id}": id, "{bid}": bid.ID, "{qid}": "no-such-question",
	}
	doc, _ := mustContract(t)
	var paths []string
	for path, item := range doc.Paths.Map() {
		if item.Get != nil && path != "/api/v1/notifications/stream" {
			paths = append(paths, path)
		}
	}
	sort.Strings(paths)
	callers := map[string]string{"anonymous": "", "buyer": w.lead.access, "supplier": w.firm.access, "operator": w.operator.access}
	tried, withETag := 0, 0
	for _, path := range paths {
		target := path
		switch {
		case strings.HasPrefix(path, "/api/v1/billing/levies/"):
			target = strings.Replace(path, "{id}", levy.ID, 1)
		case strings.HasPrefix(path, "/api/v1/providers/"):
			target = strings.Replace(path, "{id}", w.firm.orgID, 1)
		case strings.HasPrefix(path, "/api/v1/organisations/"):
			target = strings.Replace(path, "{id}", w.firm.orgID, 1)
		case strings.HasPrefix(path, "/api/v1/tenders/{id}/bids/{bid}"):
			target = strings.NewReplacer("{id}", open.ID, "{bid}", bid.ID).Replace(path)
		}
		for k, v := range ids {
			target = strings.ReplaceAll(target, k, v)
		}
		for who, token := range callers {
			send := func(method, inm string) *httptest.ResponseRecorder {
				r := httptest.NewRequest(method, target, nil)
				r.RemoteAddr = peer
				if token != "" {
					r.Header.Set("Authorization", "Bearer "+token)
				}
				if inm != "" {
					r.Header.Set("If-None-Match", inm)
				}
				rec := httptest.NewRecorder()
				e.s.engine.ServeHTTP(rec, r)
				tried++
				return rec
			}
			get, head := send(http.MethodGet, ""), send(http.MethodHead, "")
			if get.Code >= 500 || head.Code != get.Code {
				t.Errorf("%s %s: GET %d, HEAD %d", who, target, get.Code, head.Code)
				continue
			}
			if head.Body.Len() != 0 {
				t.Errorf("%s HEAD %s has a body of %d bytes", who, target, head.Body.Len())
			}
			for _, h := range []string{"Etag", "Cache-Control", "Content-Type"} {
				if g, hd := get.Header().Get(h), head.Header().Get(h); g != hd {
					t.Errorf("%s %s: %s is %q for GET, %q for HEAD", who, target, h, g, hd)
				}
			}
			etag := get.Header().Get("Etag")
			if etag == "" || get.Code != http.StatusOK {
				continue
			}
			withETag++
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				if rec := send(method, etag); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
					t.Errorf("%s %s %s with If-None-Match: %d, %d bytes", who, method, target, rec.Code, rec.Body.Len())
				}
			}
			if rec := send(http.MethodGet, `"not-the-etag"`); rec.Code != http.StatusOK {
				t.Errorf("%s GET %s with a stale If-None-Match: %d", who, target, rec.Code)
			}
		}
	}
	t.Logf("%d GET paths, %d requests, %d answers with an ETag", len(paths), tried, withETag)
	if withETag < 5 {
		t.Errorf("only %d answers carried an ETag", withETag)
	}
	// HEAD on a path without GET is 405 naming HEAD.
	r := httptest.NewRequest(http.MethodHead, "/api/v1/auth/login", nil)
	rec := httptest.NewRecorder()
	e.s.engine.ServeHTTP(rec, r)
	if rec.Code != http.StatusMethodNotAllowed || !strings.Contains(rec.Header().Get("Allow"), "POST") {
		t.Errorf("HEAD on a POST route: %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}

// TestOversizedBodiesAreDocumented sends a body over the limit to every
// operation that takes one, as a new user would: each answers 413 (or
// refuses the caller first), and every answer is one openapi.yaml lists,
// which serve checks.
func TestOversizedBodiesAreDocumented(t *testing.T) {
	e := mustNotifyEnv(t, sqlstore.EngineSQLite)
	w := e.mustMarket(t)
	open := e.publishedTender(t, w.lead, "Oversized", 2*time.Minute, 5*time.Minute)
	bid := e.submitBid(t, w.nhs, open.ID, 30_000_000)
	doc, _ := mustContract(t)
	huge := `{"title": "` + strings.Repeat("x", 2<<20) + `"}`
	n := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil {
				continue
			}
			target := strings.NewReplacer("{id}", open.ID, "{bid}", bid.ID, "{qid}", "q1").Replace(path)
			if strings.HasPrefix(path, "/api/v1/providers/") || strings.HasPrefix(path, "/api/v1/organisations/") || strings.HasPrefix(path, "/api/v1/users/") {
				target = strings.NewReplacer("{id}", w.nhs.orgID).Replace(path)
			}
			for _, token := range []string{"", w.lead.access, w.nhs.access} {
				res, b := e.do(t, req{method: method, target: target, token: token, body: huge})
				n++
				if res.StatusCode >= 500 {
					t.Errorf("%s %s: %d %s", method, target, res.StatusCode, b)
				}
			}
		}
	}
	for _, target := range []string{"/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/tenders", bidsPath(open.ID)} {
		token := w.lead.access
		if target == bidsPath(open.ID) {
			token = w.firm.access
		}
		res, b := e.do(t, req{method: http.MethodPost, target: target, token: token, body: huge})
		want(t, res, b, http.StatusRequestEntityTooLarge)
	}
	t.Logf("%d oversized requests", n)
}

package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// keptAnswer is what the first request with a key was answered, to
// compare a replay with.
type keptAnswer struct {
	body                      string // the request's
	status                    int
	answer                    []byte
	location, etag, cacheCtrl string
}

// FuzzIdempotencyKey sends any Idempotency-Key with a creating POST: no
// value gives a 5xx; a value that is not 1 to 255 visible ASCII
// characters is refused as a 400 naming the header; a key accepted once
// replays the same answer (status, body, Location, ETag) to the same
// request, however often it is sent, marked Idempotent-Replayed, and
// refuses with a 422 another request under it, even one a byte apart.
func FuzzIdempotencyKey(f *testing.F) {
	e := mustFuzzEnv(f)
	w := e.w
	routes := []struct {
		path  string
		token string
		body  func(text string) []byte
	}{
		{"/api/v1/tenders", w.lead.access, func(text string) []byte {
			now := e.clock.Now()
			b, _ := json.Marshal(tenderBody(text, now.Add(30*time.Minute), now.Add(60*time.Minute)))
			return b
		}},
		{questionsPath(e.open.ID), w.charity.access, func(text string) []byte {
			b, _ := json.Marshal(questionRequest{Question: text})
			return b
		}},
		{bidsPath(e.open.ID), w.nhs.access, func(text string) []byte {
			b, _ := json.Marshal(bidRequest{PricePence: 30_000_000 + int64(len(text)),
				Responses: map[string]string{"approach": text, "social_value": "Apprenticeships."}})
			return b
		}},
	}
	for i := range routes {
		for _, k := range []string{"k-1", "0195f3a2-7c1e-7b7a-9c1e-0a1b2c3d4e5f", "!", "~~~", strings.Repeat("k", 255), strings.Repeat("k", 256),
			"", " ", "k 1", "k\t1", "k\x00", "k\x7f", "ké", "\xff", "k\r\nX-Injected: 1", "k,k", `"quoted"`} {
			f.Add(uint8(i), k, "Dashboards for the boards.")
		}
		f.Add(uint8(i), "k-1", "") // a refusal, replayed too
		f.Add(uint8(i), "k-1", "Another request under a key used before.")
	}
	kept := map[string]*keptAnswer{} // by route and key: the first answer
	f.Fuzz(func(t *testing.T, route uint8, key, text string) {
		r := routes[int(route)%len(routes)]
		body := r.body(text)
		h := http.Header{"Idempotency-Key": {key}}
		what := "POST " + r.path + " with Idempotency-Key " + strconv.Quote(key)
		res, b := e.send(t, http.MethodPost, r.path, r.token, body, h)
		e.checkAnswer(t, what, res, b)
		if !visibleASCII(key, 255) {
			if res.StatusCode != http.StatusBadRequest || !slices.Equal(fieldsOf(t, b), []string{"Idempotency-Key"}) {
				t.Fatalf("%s: %d %s, want 400 naming Idempotency-Key", what, res.StatusCode, b)
			}
			return
		}
		id := strconv.Itoa(int(route)%len(routes)) + " " + key
		first, seen := kept[id]
		switch {
		case seen && first.body != string(body):
			if res.StatusCode != http.StatusUnprocessableEntity || !slices.Equal(fieldsOf(t, b), []string{"Idempotency-Key"}) {
				t.Fatalf("%s, used before with another body: %d %s, want 422", what, res.StatusCode, b)
			}
			return
		case seen:
			checkReplay(t, what, first, res, b)
		default:
			if res.Header.Get("Idempotent-Replayed") != "" {
				t.Fatalf("%s: a first answer marked replayed", what)
			}
			first = &keptAnswer{body: string(body), status: res.StatusCode, answer: b, location: res.Header.Get("Location"),
				etag: res.Header.Get("ETag"), cacheCtrl: res.Header.Get("Cache-Control")}
			kept[id] = first
		}
		// The same request again is the same answer.
		res, b = e.send(t, http.MethodPost, r.path, r.token, body, h)
		e.checkAnswer(t, what+" (again)", res, b)
		checkReplay(t, what+" (again)", first, res, b)
		// Another request under the key, a byte apart, is refused.
		res, b = e.send(t, http.MethodPost, r.path, r.token, append(slices.Clone(body), ' '), h)
		e.checkAnswer(t, what+" (another body)", res, b)
		if res.StatusCode != http.StatusUnprocessableEntity || mustDecode[problem](t, b).Code != codeIdempotencyKeyReused {
			t.Fatalf("%s with another body: %d %s, want 422", what, res.StatusCode, b)
		}
	})
}

// visibleASCII reports whether k is 1 to n characters from '!' to '~'.
func visibleASCII(k string, n int) bool {
	return k != "" && len(k) <= n && strings.IndexFunc(k, func(r rune) bool { return r < '!' || r > '~' }) < 0
}

// checkReplay fails t unless res is first's answer replayed: the same
// status, headers and body (a problem but for its request ID, which is
// the retry's own).
func checkReplay(t *testing.T, what string, first *keptAnswer, res *http.Response, b []byte) {
	t.Helper()
	if res.StatusCode != first.status || res.Header.Get("Idempotent-Replayed") != "true" ||
		res.Header.Get("Location") != first.location || res.Header.Get("ETag") != first.etag ||
		res.Header.Get("Cache-Control") != first.cacheCtrl {
		t.Fatalf("%s: replay %d %v, first %d (Location %q, ETag %q, Cache-Control %q)", what, res.StatusCode, res.Header,
			first.status, first.location, first.etag, first.cacheCtrl)
	}
	if first.status < 400 {
		if !bytes.Equal(b, first.answer) {
			t.Fatalf("%s: replayed\n%s\nfirst answered\n%s", what, b, first.answer)
		}
		return
	}
	p1, p2 := mustDecode[problem](t, first.answer), mustDecode[problem](t, b)
	if p2.RequestID == "" || p2.RequestID != res.Header.Get("X-Request-Id") {
		t.Fatalf("%s: a replayed problem with request_id %q", what, p2.RequestID)
	}
	p1.RequestID, p2.RequestID = "", ""
	if !reflect.DeepEqual(p1, p2) {
		t.Fatalf("%s: replayed %+v, first %+v", what, p2, p1)
	}
}

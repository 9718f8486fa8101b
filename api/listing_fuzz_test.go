package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// ifMatchTags parses an If-Match field value by RFC 9110 (13.1.1, and 5.6.1
// for lists): "*", or a comma-separated list of entity-tags, empty elements
// allowed, with optional white space around the commas. ok is false for a
// value that is neither.
func ifMatchTags(v string) (star bool, tags []string, weak []bool, ok bool) {
	if strings.Trim(v, " \t") == "*" {
		return true, nil, nil, true
	}
	i := 0
	ows := func() {
		for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
			i++
		}
	}
	for {
		ows()
		if i == len(v) {
			return false, tags, weak, true
		}
		if v[i] == ',' {
			i++
			continue
		}
		w := strings.HasPrefix(v[i:], "W/")
		if w {
			i += 2
		}
		if i == len(v) || v[i] != '"' {
			return false, nil, nil, false
		}
		end := i + 1
		for end < len(v) && v[end] != '"' {
			if c := v[end]; c != 0x21 && (c < 0x23 || c == 0x7f) {
				return false, nil, nil, false // not an etagc
			}
			end++
		}
		if end == len(v) {
			return false, nil, nil, false
		}
		tags, weak = append(tags, v[i:end+1]), append(weak, w)
		i = end + 1
		ows()
		if i < len(v) && v[i] != ',' {
			return false, nil, nil, false
		}
	}
}

// FuzzIfMatch sends any If-Match (one or more field lines; $ETAG stands
// for the current ETag, $WEAK for its weak form) with an edit of a draft
// tender and of a listing: no value gives a 5xx; a well-formed value
// saves the edit when it is "*" or lists the current ETag as a strong tag,
// and is refused with 412 otherwise; a malformed value is never taken for
// a match it does not hold; no If-Match at all is 428.
func FuzzIfMatch(f *testing.F) {
	e := mustFuzzEnv(f)
	w := e.w
	routes := []struct {
		method, path, token string
		current             func(t *testing.T) string
		body                func(n int) []byte
	}{
		{http.MethodPatch, tenderPath(e.draft.ID), w.lead.access, func(t *testing.T) string {
			res, b := e.send(t, http.MethodGet, tenderPath(e.draft.ID), w.lead.access, nil, nil)
			want(t, res, b, http.StatusOK)
			return res.Header.Get("ETag")
		}, func(n int) []byte { return []byte(`{"description":"Edit ` + strconv.Itoa(n) + `."}`) }},
		{http.MethodPut, "/api/v1/providers/" + w.firm.orgID, w.firm.access, func(t *testing.T) string {
			return e.etagOf(t, w.firm.orgID)
		}, func(n int) []byte {
			b, _ := json.Marshal(validListing("Edit " + strconv.Itoa(n) + "."))
			return b
		}},
	}
	for i := range routes {
		for _, h := range []string{"$ETAG", "*", " * ", "$WEAK", `"nope"`, `"nope", $ETAG`, "$ETAG, \"nope\"", "\"nope\"\n$ETAG", ",,$ETAG,,",
			"$ETAG$ETAG", `"a,b", $ETAG`, "W/$ETAG", "w/$ETAG", "* , $ETAG", "*\n*", "", " ", "\t,", `"`, `""`, `"\x00"`, "$ETAG\x00",
			strings.Repeat(`"x", `, 200) + "$ETAG", `"é"`, "\xff", "$ETAG;q=1", "($ETAG)", "$ETAG,*"} {
			f.Add(uint8(i), h, false)
		}
		f.Add(uint8(i), "", true)
	}
	n := 0
	f.Fuzz(func(t *testing.T, route uint8, header string, none bool) {
		r := routes[int(route)%len(routes)]
		cur := r.current(t)
		var h http.Header
		var values []string
		if !none {
			values = strings.Split(strings.NewReplacer("$ETAG", cur, "$WEAK", "W/"+cur).Replace(header), "\n")
			h = http.Header{"If-Match": values}
		}
		n++
		res, b := e.send(t, r.method, r.path, r.token, r.body(n), h)
		what := r.method + " " + r.path + " If-Match " + strconv.Quote(strings.Join(values, "\n")) + " (current " + cur + ")"
		e.checkAnswer(t, what, res, b)
		if none {
			if res.StatusCode != http.StatusPreconditionRequired {
				t.Fatalf("%s: %d without If-Match, want 428: %s", what, res.StatusCode, b)
			}
			return
		}
		combined := strings.Join(values, ", ")
		star, tags, weak, ok := ifMatchTags(combined)
		match := star
		for i, tag := range tags {
			match = match || (tag == cur && !weak[i])
		}
		switch {
		case res.StatusCode != http.StatusOK && res.StatusCode != http.StatusPreconditionFailed:
			t.Fatalf("%s: %d %s, want 200 or 412", what, res.StatusCode, b)
		case ok && match != (res.StatusCode == http.StatusOK):
			t.Fatalf("%s: %d, but the value matches: %v", what, res.StatusCode, match)
		case !ok && res.StatusCode == http.StatusOK && !strings.Contains(combined, cur) && !strings.Contains(combined, "*"):
			t.Fatalf("%s: malformed, matching nothing, yet the edit was saved", what)
		}
		if res.StatusCode == http.StatusOK {
			if got := r.current(t); got != res.Header.Get("ETag") || got == cur {
				t.Fatalf("%s: saved with ETag %s, now %s (was %s)", what, res.Header.Get("ETag"), got, cur)
			}
		}
	})
}

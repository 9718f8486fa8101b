package api

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("bad gzip: %v", err)
	}
	return out
}

// TestCompressedViews: a public view goes gzip'd to a client that accepts
// it (made once and kept beside the plain bytes), with its own ETag that
// If-None-Match and a listing's If-Match take like the plain one; a
// client that refuses gzip, or asks for nothing, gets the plain bytes;
// every answer says it varies by Accept-Encoding.
func TestCompressedViews(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustAccountEnv(t, engine)
			w := e.mustWorld(t)
			target := "/api/v1/providers"
			get := func(h map[string]string) (*http.Response, []byte) {
				t.Helper()
				res, body := e.do(t, req{method: http.MethodGet, target: target, header: h})
				want(t, res, body, http.StatusOK)
				return res, body
			}
			plainRes, plain := get(nil)
			if plainRes.Header.Get("Content-Encoding") != "" || !strings.Contains(plainRes.Header.Get("Vary"), "Accept-Encoding") {
				t.Fatalf("plain answer: Content-Encoding %q, Vary %q", plainRes.Header.Get("Content-Encoding"), plainRes.Header.Get("Vary"))
			}
			if len(plain) < minCompressed {
				t.Fatalf("the directory page is %d bytes: too small to test compression", len(plain))
			}
			before := e.s.compress.views.Len()
			gzRes, gz := get(map[string]string{"Accept-Encoding": "gzip, deflate, br"})
			if gzRes.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(gzRes.Header.Get("Vary"), "Accept-Encoding") {
				t.Fatalf("gzip answer: Content-Encoding %q, Vary %q", gzRes.Header.Get("Content-Encoding"), gzRes.Header.Get("Vary"))
			}
			if !bytes.Equal(gunzip(t, gz), plain) {
				t.Fatal("the gzip'd view is not the plain one")
			}
			if len(gz)*3 > len(plain)*2 {
				t.Errorf("gzip'd %d bytes of %d: want at most two thirds", len(gz), len(plain))
			}
			if gzRes.Header.Get("Content-Length") != strconv.Itoa(len(gz)) {
				t.Errorf("Content-Length %s for %d bytes", gzRes.Header.Get("Content-Length"), len(gz))
			}
			plainTag, gzTag := plainRes.Header.Get("ETag"), gzRes.Header.Get("ETag")
			if gzTag != strings.TrimSuffix(plainTag, `"`)+`-gzip"` {
				t.Errorf("gzip ETag %s for plain %s", gzTag, plainTag)
			}
			again, gz2 := get(map[string]string{"Accept-Encoding": "gzip"})
			if !bytes.Equal(gz2, gz) || again.Header.Get("ETag") != gzTag {
				t.Error("a second gzip answer differs from the first")
			}
			if n := e.s.compress.views.Len() - before; n != 1 {
				t.Errorf("%d views compressed for two gzip answers of one view, want 1", n)
			}

			for _, ae := range []string{"gzip;q=0", "br", "identity", "deflate, gzip;q=0.0", "*;q=0", "gzip;q=nonsense"} {
				res, body := get(map[string]string{"Accept-Encoding": ae})
				if res.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, plain) {
					t.Errorf("Accept-Encoding %q: Content-Encoding %q", ae, res.Header.Get("Content-Encoding"))
				}
			}
			for _, ae := range []string{"*", "GZIP", "br;q=1, gzip;q=0.5", "x-gzip"} {
				if res, _ := get(map[string]string{"Accept-Encoding": ae}); res.Header.Get("Content-Encoding") != "gzip" {
					t.Errorf("Accept-Encoding %q: not gzip'd", ae)
				}
			}

			for _, tc := range []struct{ ae, inm string }{{"gzip", gzTag}, {"gzip", plainTag}, {"", gzTag}, {"", plainTag}} {
				res, body := e.do(t, req{method: http.MethodGet, target: target, header: map[string]string{"Accept-Encoding": tc.ae, "If-None-Match": tc.inm}})
				want(t, res, body, http.StatusNotModified)
			}

			// A browser edits its listing with the ETag of the gzip'd
			// profile it was shown.
			profile := "/api/v1/providers/" + w.supA.orgID
			res, body := e.do(t, req{method: http.MethodGet, target: profile, header: map[string]string{"Accept-Encoding": "gzip"}})
			want(t, res, body, http.StatusOK)
			tag := res.Header.Get("ETag")
			if res.Header.Get("Content-Encoding") == "gzip" && !strings.HasSuffix(tag, `-gzip"`) {
				t.Fatalf("gzip'd profile with ETag %s", tag)
			}
			res, body = e.put(t, w.supA, validListing("Alpha, edited from a gzip'd profile."), tag)
			want(t, res, body, http.StatusOK)
			res, body = e.put(t, w.supA, validListing("Alpha, with the old gzip ETag."), tag)
			want(t, res, body, http.StatusPreconditionFailed)
		})
	}
}

func TestAcceptsGzip(t *testing.T) {
	for v, wantOK := range map[string]bool{
		"gzip": true, "gzip, deflate": true, "deflate, gzip;q=0.1": true, " GZip ; Q=1": true,
		"gzip;q=0": false, "gzip;q=0.000": false, "br": false, "": false, "*": true, "*;q=0": false,
		"gzip;q=0, *": false, "*, gzip;q=0": false, "gzip;q=2": false, "identity;q=1, *;q=0.5": true,
	} {
		if got := acceptsGzip([]string{v}); got != wantOK {
			t.Errorf("acceptsGzip(%q) = %v, want %v", v, got, wantOK)
		}
	}
}

// TestCompressorBudget: compressed views are kept within their byte budget
// (a crawler asking for every page gzip'd cannot grow the process), the
// least recently used going first, each held at about its own length; one
// evicted is made again, the same bytes.
func TestCompressorBudget(t *testing.T) {
	view := func(i int) cache.Entry {
		var b strings.Builder
		for j := range 2000 {
			fmt.Fprintf(&b, `{"id":"%d-%d","name":"Provider %d of page %d"},`, i, j, j*7919%1000, i)
		}
		body := []byte(b.String())
		return cache.Entry{Body: body, ETag: cache.ETag(body)}
	}
	one := len(newCompressor(1 << 30).gzipped(view(0)))
	z := newCompressor(int64(5*one + one/2))
	first := z.gzipped(view(0))
	for i := range 40 {
		z.gzipped(view(i))
		if z.bytes.Load() > z.maxBytes {
			t.Fatalf("after %d views %d bytes kept, budget %d", i+1, z.bytes.Load(), z.maxBytes)
		}
	}
	var held int64
	for _, k := range z.views.Keys() {
		b, _ := z.views.Peek(k)
		if cap(b) > len(b)+len(b)/8 { // more than the allocator's size class adds
			t.Errorf("a compressed view of %d bytes holds %d", len(b), cap(b))
		}
		held += int64(len(b))
	}
	if held != z.bytes.Load() || z.views.Len() != 5 {
		t.Errorf("%d views of %d bytes held, counted %d; want the 5 newest", z.views.Len(), held, z.bytes.Load())
	}
	if _, ok := z.views.Peek(view(0).ETag); ok {
		t.Errorf("the least recently used view is still kept")
	}
	if again := z.gzipped(view(0)); !bytes.Equal(again, first) {
		t.Errorf("a view made again differs")
	}
}

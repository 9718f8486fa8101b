package market

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCursor holds the keyset cursors to their promise: DecodeCursor reads
// anything without panicking and refuses what it cannot read as EINVALID
// naming "cursor"; what it accepts is a non-empty list of UTF-8 keys that
// encodes again to a cursor with the same keys; and every cursor the
// stores give out decodes to the keys it was made of, the directory's
// by-name cursor included, whatever name an organisation may register.
func FuzzCursor(f *testing.F) {
	const id = "0195f3a2-7c1e-7b7a-9c1e-0a1b2c3d4e5f"
	// The cursors the stores make: by name, by relevance, by listing time,
	// by offset (the comparison), by sequence (the audit trail).
	f.Add("n", "arden and gem csu", id, uint8(2), "")
	f.Add("r", "0.060792710185402664", id, uint8(2), EncodeCursor("r", "0.06", id))
	f.Add("t", "2025-11-20T09:30:00.000000Z", id, uint8(2), EncodeCursor("t", "2025-11-20T09:30:00.000000Z", id))
	f.Add("row", "21", "", uint8(1), "WyJyb3ciLCIyMSJd")
	f.Add("a", "42", "", uint8(1), EncodeCursor("a", "42"))
	// Cursors no store made: empty lists, null, not a list, not base64,
	// padded base64, standard rather than URL alphabet, too long.
	f.Add("", "", "", uint8(0), "W10")
	f.Add("", "", "", uint8(0), "bnVsbA")
	f.Add("", "", "", uint8(0), "eyJhIjoxfQ")
	f.Add("", "", "", uint8(0), "WyJhIl0=")
	f.Add("", "", "", uint8(0), "WyI+PyJd+/")
	f.Add("", "", "", uint8(0), "not a cursor!")
	f.Add("", "", "", uint8(0), strings.Repeat("A", 4097))
	f.Add("", "", "", uint8(0), EncodeCursor("a", "\x00", "\xff"))
	// Keys JSON escapes, or cannot hold.
	f.Add("<&>", "\u2028\u2029", "\x00\x1f\"\\", uint8(2), "")
	f.Add("\xff\xfe", "\xed\xa0\x80", "é", uint8(2), "")
	// A name at the limit of what registration accepts (200 bytes, trimmed).
	f.Add("n", strings.Repeat("&", 200), id, uint8(2), "")
	f.Add("n", "  Smith & Jones <Healthcare> Analytics & Commissioning Support & Co (North) & Partners LLP & Associates & Consultancy <Midlands & East> & Data Services & Health & Care & Public Health Intelligence  ", id, uint8(2), "")

	f.Fuzz(func(t *testing.T, a, b, c string, n uint8, raw string) {
		keys, err := DecodeCursor(raw)
		if err != nil {
			checkCursorError(t, err)
		} else {
			if len(keys) == 0 {
				t.Fatalf("DecodeCursor(%q) accepted an empty list", raw)
			}
			for _, k := range keys {
				if !utf8.ValidString(k) {
					t.Fatalf("DecodeCursor(%q) gave a key that is not UTF-8: %q", raw, k)
				}
			}
			if again, err := DecodeCursor(EncodeCursor(keys...)); err != nil || !slices.Equal(again, keys) {
				t.Fatalf("the keys %q of %q, encoded again, decode to %q (%v)", keys, raw, again, err)
			}
		}

		made := []string{a, b, c}[:1+int(n%3)]
		enc := EncodeCursor(made...)
		if strings.Trim(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("EncodeCursor(%q) = %q needs escaping in a query", made, enc)
		}
		got, err := DecodeCursor(enc)
		short := true
		for _, k := range made {
			short = short && len(k) <= 32
		}
		switch {
		case err != nil && short:
			t.Fatalf("EncodeCursor(%q) = %q does not decode: %v", made, enc, err)
		case err == nil && !slices.Equal(got, jsonStrings(made)):
			t.Fatalf("EncodeCursor(%q) decodes to %q", made, got)
		}

		// The directory's by-name cursor, as its stores make it: the kind,
		// the name's sort key (lower-cased, trimmed) and a UUID.
		o := Organisation{Kind: KindSupplier, Name: b, Sector: SectorIndependent,
			Identifiers: []Identifier{{Scheme: SchemeCOH, ID: "09506232"}}}
		var p Problems
		o.Check("organisation", &p)
		if len(p) == 0 {
			key := strings.ToLower(strings.TrimSpace(b))
			cur := EncodeCursor("n", key, id)
			if got, err := DecodeCursor(cur); err != nil || !slices.Equal(got, jsonStrings([]string{"n", key, id})) {
				t.Fatalf("the directory's cursor after %q (%d bytes) is refused: %v (%d characters)", b, len(b), err, len(cur))
			}
		}
	})
}

// checkCursorError fails t unless err is EINVALID naming "cursor" alone.
func checkCursorError(t *testing.T, err error) {
	t.Helper()
	fs := ErrorFields(err)
	if ErrorCode(err) != EINVALID || len(fs) != 1 || fs[0].Field != "cursor" || fs[0].Message == "" {
		t.Fatalf("a bad cursor gave %v, want EINVALID naming cursor", err)
	}
}

// jsonStrings is ss as encoding/json gives them back: each byte that is
// not part of a UTF-8 sequence becomes U+FFFD.
func jsonStrings(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string([]rune(s))
	}
	return out
}

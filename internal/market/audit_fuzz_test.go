package market

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fuzzEvent builds an audit event from a fuzzer's values; detail is read
// as lines of key=value. Its strings are UTF-8, as every field of the
// trail is (decoded from a JSON body, or made by csmarket): each byte of
// the fuzzer's that is not becomes U+FFFD, as encoding/json writes it.
func fuzzEvent(seq, sec int64, nsec uint32, user, org, objType, objID, tenderID, action, detail, prev string) AuditEvent {
	e := AuditEvent{
		Seq: seq, At: time.Unix(sec, int64(nsec%1_000_000_000)), ActorUser: utf8Of(user), ActorOrg: utf8Of(org),
		ObjectType: utf8Of(objType), ObjectID: utf8Of(objID), TenderID: utf8Of(tenderID), Action: utf8Of(action), PrevHash: utf8Of(prev),
	}
	if detail != "" {
		e.Detail = map[string]string{}
		for _, line := range strings.Split(utf8Of(detail), "\n") {
			k, v, _ := strings.Cut(line, "=")
			e.Detail[k] = v
		}
	}
	return e
}

// utf8Of is s with each byte that is not part of a UTF-8 sequence made
// U+FFFD, as encoding/json writes it.
func utf8Of(s string) string { return string([]rune(s)) }

// sameEvent reports whether a and b are one event as the trail records
// it: the same instant, wherever its clock was; no detail the same as an
// empty one. The Hash is not part of what is hashed.
func sameEvent(a, b *AuditEvent) bool {
	return a.Seq == b.Seq && a.At.Equal(b.At) && a.ActorUser == b.ActorUser && a.ActorOrg == b.ActorOrg &&
		a.ObjectType == b.ObjectType && a.ObjectID == b.ObjectID && a.TenderID == b.TenderID &&
		a.Action == b.Action && a.PrevHash == b.PrevHash && maps.Equal(a.Detail, b.Detail)
}

// FuzzAuditCanonical holds the hash chain's encoding to what makes it
// tamper-evident: events that differ in any field have different canonical
// bytes and hashes; the encoding is valid JSON that reads back to the
// event's fields; and it is stable, whatever the time zone of At or the
// order a map is walked in. The second event is the first with one field
// (chosen by which) replaced.
func FuzzAuditCanonical(f *testing.F) {
	f.Add(int64(1), int64(1763631000), uint32(0), "u1", "o1", "tender", "t1", "t1", "tender.created", "", "",
		uint8(0), "u2", int64(2))
	f.Add(int64(7), int64(1763631000), uint32(123456789), "0195f3a2-7c1e-7b7a-9c1e-0a1b2c3d4e5f", "0195f3a2-7c1e-7b7a-9c1e-0a1b2c3d4e60",
		"bid", "b1", "t1", "bid.revised", "version=2", strings.Repeat("ab", 32), uint8(9), "version=3", int64(0))
	f.Add(int64(3), int64(1763631000), uint32(0), "u1", "o1", "tender", "t1", "t1", "tender.cancelled", "reason=Brought in house.\nx=y", "", uint8(9), "reason=Brought in house.", int64(0))
	// Fields that run into each other if the encoding did not delimit them.
	f.Add(int64(1), int64(0), uint32(0), "a", "b", "", "", "", "", "", "", uint8(2), "", int64(0))
	f.Add(int64(1), int64(0), uint32(0), "a\",\"b", "", "", "", "", "", "", "", uint8(3), "b", int64(0))
	f.Add(int64(1), int64(0), uint32(0), "", "", "", "", "", "", "k=v", "", uint8(9), "k\n=v", int64(0))
	f.Add(int64(1), int64(0), uint32(0), "", "", "", "", "", "", "a=b=c", "", uint8(9), "a=b\nb=c", int64(0))
	f.Add(int64(1), int64(0), uint32(0), "", "", "", "", "", "", "=", "", uint8(9), "", int64(0))
	// Numbers and times at their edges.
	f.Add(int64(-1), int64(-62135596800), uint32(0), "", "", "", "", "", "", "", "", uint8(0), "", int64(1<<62))
	f.Add(int64(9223372036854775807), int64(253402300799), uint32(999999999), "", "", "", "", "", "", "", "", uint8(1), "", int64(253402300800))
	f.Add(int64(0), int64(0), uint32(0), "<script>", "\u2028", "\x00", "\\", "é", "\xff", "", "", uint8(8), "\xfe", int64(0))

	f.Fuzz(func(t *testing.T, seq, sec int64, nsec uint32, user, org, objType, objID, tenderID, action, detail, prev string,
		which uint8, alt string, altInt int64) {
		a := fuzzEvent(seq, sec, nsec, user, org, objType, objID, tenderID, action, detail, prev)
		ca := a.Canonical()
		// Bytes that are not UTF-8, which no field of the trail holds, are
		// each written as U+FFFD (escaped), never dropped.
		raw := a
		raw.ActorUser, raw.ObjectID, raw.PrevHash = user, objID, prev
		var fields []any
		if err := json.Unmarshal(raw.Canonical(), &fields); err != nil || len(fields) != 11 ||
			fields[3] != a.ActorUser || fields[6] != a.ObjectID || fields[10] != a.PrevHash {
			t.Fatalf("bytes that are not UTF-8 are not written as U+FFFD: %s (%v)", raw.Canonical(), err)
		}
		if !json.Valid(ca) {
			t.Fatalf("canonical encoding is not JSON: %q", ca)
		}
		checkReadsBack(t, &a, ca)

		// Stable: again, in another zone, with the detail rebuilt.
		again := a
		again.At = a.At.In(time.FixedZone("", -(9*3600 + 30*60)))
		if a.Detail != nil {
			again.Detail = maps.Clone(a.Detail)
		}
		if cb := again.Canonical(); !bytes.Equal(ca, cb) {
			t.Fatalf("the same event encodes two ways:\n%s\n%s", ca, cb)
		}
		h := a.ComputeHash()
		if sum, err := hex.DecodeString(h); err != nil || len(sum) != 32 || h != strings.ToLower(h) || h != again.ComputeHash() {
			t.Fatalf("hash %q is not a stable lower-case hex SHA-256", h)
		}

		b := a
		b.Detail = maps.Clone(a.Detail)
		switch which % 11 {
		case 0:
			b.Seq = altInt
		case 1:
			b.At = time.Unix(altInt%(1<<40), int64(nsec/2))
		case 2:
			b.ActorUser = utf8Of(alt)
		case 3:
			b.ActorOrg = utf8Of(alt)
		case 4:
			b.ObjectType = utf8Of(alt)
		case 5:
			b.ObjectID = utf8Of(alt)
		case 6:
			b.TenderID = utf8Of(alt)
		case 7:
			b.Action = utf8Of(alt)
		case 8:
			b.PrevHash = utf8Of(alt)
		case 9:
			b.Detail = fuzzEvent(0, 0, 0, "", "", "", "", "", "", alt, "").Detail
		case 10:
			b.Hash = alt // not hashed: the hash of the rest
		}
		cb := b.Canonical()
		if same := sameEvent(&a, &b); same != bytes.Equal(ca, cb) {
			t.Fatalf("events that are the same: %v; canonical encodings equal: %v\n%+v\n%+v\n%s\n%s", same, !same, a, b, ca, cb)
		} else if same != (h == b.ComputeHash()) {
			t.Fatalf("events that are the same: %v; hashes equal: %v", same, !same)
		}
	})
}

// checkReadsBack fails t unless the canonical encoding c of e is the JSON
// array of its version, fields and detail pairs, in order.
func checkReadsBack(t *testing.T, e *AuditEvent, c []byte) {
	t.Helper()
	var got []json.RawMessage
	if err := json.Unmarshal(c, &got); err != nil || len(got) != 11 {
		t.Fatalf("canonical encoding %s is not an array of 11: %v", c, err)
	}
	str := func(i int) string {
		var s string
		if err := json.Unmarshal(got[i], &s); err != nil {
			t.Fatalf("element %d of %s is not a string: %v", i, c, err)
		}
		return s
	}
	at, err := time.Parse(time.RFC3339Nano, str(2))
	if y := e.At.UTC().Year(); y >= 0 && y <= 9999 && (err != nil || !at.Equal(e.At)) {
		t.Fatalf("time %s reads back as %v (%v), want %v", got[2], at, err, e.At)
	}
	for i, want := range []string{"csmarket-audit-v1", strconv.FormatInt(e.Seq, 10), "", e.ActorUser, e.ActorOrg, e.ObjectType,
		e.ObjectID, e.TenderID, e.Action} {
		if i != 2 && str(i) != want {
			t.Fatalf("element %d of %s reads %q, want %q", i, c, str(i), want)
		}
	}
	if str(10) != e.PrevHash {
		t.Fatalf("previous hash reads %q, want %q", str(10), e.PrevHash)
	}
	var pairs []string
	if err := json.Unmarshal(got[9], &pairs); err != nil || len(pairs)%2 != 0 {
		t.Fatalf("detail %s is not a list of pairs: %v", got[9], err)
	}
	detail := map[string]string{}
	for i := 0; i < len(pairs); i += 2 {
		if i > 0 && pairs[i] <= pairs[i-2] {
			t.Fatalf("detail keys out of order: %q", pairs)
		}
		detail[pairs[i]] = pairs[i+1]
	}
	for k, v := range e.Detail {
		if detail[k] != v {
			t.Fatalf("detail %q=%q reads back as %q", k, v, detail[k])
		}
	}
}

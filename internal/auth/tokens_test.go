package auth

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/golang-jwt/jwt/v5"
)

const (
	testIssuer   = "csmarket"
	testAudience = "csmarket-api"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func testClaims(now time.Time) market.AccessClaims {
	return market.AccessClaims{
		ID: "jti-1", UserID: "user-1", OrganisationID: "org-1", Role: market.RoleSupplier,
		IssuedAt: now, ExpiresAt: now.Add(market.AccessTokenTTL),
	}
}

// MustIssue signs c with tk.
func MustIssue(tb testing.TB, tk *Tokens, c market.AccessClaims) string {
	tb.Helper()
	s, err := tk.IssueAccess(c)
	if err != nil {
		tb.Fatalf("IssueAccess: %v", err)
	}
	return s
}

// sign signs arbitrary claims and header fields with method and key, for
// tokens IssueAccess would never make.
func sign(tb testing.TB, method jwt.SigningMethod, key any, header map[string]any, c jwt.MapClaims) string {
	tb.Helper()
	tok := jwt.NewWithClaims(method, c)
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	if err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return s
}

func fullClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": testIssuer, "aud": []string{testAudience}, "sub": "user-1", "org": "org-1",
		"role": "supplier", "jti": "jti-1", "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(15 * time.Minute).Unix(),
	}
}

func without(c jwt.MapClaims, name string) jwt.MapClaims {
	delete(c, name)
	return c
}

func with(c jwt.MapClaims, name string, v any) jwt.MapClaims {
	c[name] = v
	return c
}

func TestIssueVerify(t *testing.T) {
	ks := MustKeySet(t)
	tk := NewTokens(ks, testIssuer, testAudience)
	s := MustIssue(t, tk, testClaims(t0))

	parts := strings.Split(s, ".")
	var header, payload map[string]any
	for i, v := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, v) != nil {
			t.Fatalf("part %d is not base64url JSON", i)
		}
	}
	if header["alg"] != "EdDSA" || header["typ"] != "JWT" || header["kid"] != ks.SigningKID() {
		t.Errorf("header = %v", header)
	}
	for _, name := range []string{"iss", "aud", "sub", "org", "role", "jti", "iat", "nbf", "exp"} {
		if _, ok := payload[name]; !ok {
			t.Errorf("payload has no %s: %v", name, payload)
		}
	}

	for _, at := range []time.Duration{0, time.Minute, market.AccessTokenTTL - time.Second, market.AccessTokenTTL + Leeway - time.Second} {
		got, err := tk.VerifyAccess(s, t0.Add(at))
		if err != nil {
			t.Fatalf("VerifyAccess at +%v: %v", at, err)
		}
		if want := testClaims(t0); got != want {
			t.Errorf("VerifyAccess = %+v, want %+v", got, want)
		}
	}
}

// TestVerifyAccessRefuses is the table of attacks on access tokens: each
// is refused as unauthorized, with a message that names no check.
func TestVerifyAccessRefuses(t *testing.T) {
	ks := MustKeySet(t)
	tk := NewTokens(ks, testIssuer, testAudience)
	other := MustKeySet(t)
	kid := ks.SigningKID()
	pub := ks.public[kid]
	valid := MustIssue(t, tk, testClaims(t0))
	refresh, _, err := tk.NewRefresh()
	if err != nil {
		t.Fatal(err)
	}

	altered := func() string {
		p := strings.Split(valid, ".")
		b, _ := base64.RawURLEncoding.DecodeString(p[1])
		var c map[string]any
		json.Unmarshal(b, &c)
		c["role"] = "operator"
		b, _ = json.Marshal(c)
		p[1] = base64.RawURLEncoding.EncodeToString(b)
		return strings.Join(p, ".")
	}()
	hs256 := sign(t, jwt.SigningMethodHS256, []byte(pub), map[string]any{"kid": kid}, fullClaims(t0))
	hs256DER := func() string {
		// The same attack with the key as a JWKS consumer or PEM file holds it.
		return sign(t, jwt.SigningMethodHS256, []byte(base64.RawURLEncoding.EncodeToString(pub)), map[string]any{"kid": kid}, fullClaims(t0))
	}()
	none := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, map[string]any{"kid": kid}, fullClaims(t0))
	big := sign(t, jwt.SigningMethodEdDSA, ks.signer, map[string]any{"kid": kid}, with(fullClaims(t0), "pad", strings.Repeat("x", MaxAccessTokenLen)))

	for _, c := range []struct {
		name  string
		token string
		now   time.Time
	}{
		{"Empty", "", t0},
		{"Garbage", "not-a-token", t0},
		{"ThreeGarbageParts", "a.b.c", t0},
		{"Expired", valid, t0.Add(market.AccessTokenTTL + Leeway + time.Second)},
		{"NotYetValid", valid, t0.Add(-Leeway - 2*time.Second)},
		{"IssuedInFuture", sign(t, jwt.SigningMethodEdDSA, ks.signer, map[string]any{"kid": kid}, without(fullClaims(t0.Add(time.Hour)), "nbf")), t0},
		{"WrongIssuer", MustIssue(t, NewTokens(ks, "someone-else", testAudience), testClaims(t0)), t0},
		{"WrongAudience", MustIssue(t, NewTokens(ks, testIssuer, "another-api"), testClaims(t0)), t0},
		{"UnknownKID", MustIssue(t, NewTokens(other, testIssuer, testAudience), testClaims(t0)), t0},
		{"OtherKeyUnderOurKID", sign(t, jwt.SigningMethodEdDSA, other.signer, map[string]any{"kid": kid}, fullClaims(t0)), t0},
		{"NoKID", sign(t, jwt.SigningMethodEdDSA, ks.signer, nil, fullClaims(t0)), t0},
		{"NumericKID", sign(t, jwt.SigningMethodEdDSA, ks.signer, map[string]any{"kid": 1}, fullClaims(t0)), t0},
		{"NotTypedJWT", sign(t, jwt.SigningMethodEdDSA, ks.signer, map[string]any{"kid": kid, "typ": "refresh+jwt"}, fullClaims(t0)), t0},
		{"AlgNone", none, t0},
		{"AlgNoneWithValidSignature", strings.Split(none, ".")[0] + valid[strings.IndexByte(valid, '.'):], t0},
		{"HS256WithPublicKey", hs256, t0},
		{"HS256WithEncodedPublicKey", hs256DER, t0},
		{"PayloadAltered", altered, t0},
		{"SignatureStripped", valid[:strings.LastIndexByte(valid, '.')+1], t0},
		{"RefreshToken", refresh, t0},
		{"NoSub", sign(t, jwt.SigningMethodEdDSA, ks.signer, map[string]any{"kid": kid}, without(fullClaims(t0), "sub")), t0},
		{"NoOrg", sign(t, jwt.SigningMethodEdDSA, ks.signer, map[string]any{"kid": kid}, without(fullClaims(t0), "org")), t0},
		{"NoRole", sign(t, jwt.SigningMethodEdDSA, ks.signer, map[string]any{"kid": kid}, without(fullClaims(t0), "role")), t0},
		{"UnknownRole", sign(t, jwt.SigningMethodEdDSA, ks.signer, map[string]any{"kid": kid}, with(fullClaims(t0), "role", "root")), t0},
		{"NoJTI", sign(t, jwt.SigningMethodEdDSA, ks.signer, map[string]any{"kid": kid}, without(fullClaims(t0), "jti")), t0},
		{"NoExp", sign(t, jwt.SigningMethodEdDSA, ks.signer, map[string]any{"kid": kid}, without(fullClaims(t0), "exp")), t0},
		{"NoIat", sign(t, jwt.SigningMethodEdDSA, ks.signer, map[string]any{"kid": kid}, without(fullClaims(t0), "iat")), t0},
		{"NoIss", sign(t, jwt.SigningMethodEdDSA, ks.signer, map[string]any{"kid": kid}, without(fullClaims(t0), "iss")), t0},
		{"NoAud", sign(t, jwt.SigningMethodEdDSA, ks.signer, map[string]any{"kid": kid}, without(fullClaims(t0), "aud")), t0},
		{"OrgNotString", sign(t, jwt.SigningMethodEdDSA, ks.signer, map[string]any{"kid": kid}, with(fullClaims(t0), "org", 7)), t0},
		{"Oversized", big, t0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := tk.VerifyAccess(c.token, c.now)
			if market.ErrorCode(err) != market.EUNAUTHORIZED {
				t.Fatalf("VerifyAccess = %+v, %v; want %s", got, err, market.EUNAUTHORIZED)
			}
			if msg := market.ErrorMessage(err); regexp.MustCompile(`(?i)kid|alg|signature|issuer|audience|claim`).MatchString(msg) {
				t.Errorf("message %q says which check failed", msg)
			}
			if got != (market.AccessClaims{}) {
				t.Errorf("claims returned with the error: %+v", got)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	keys := MustKeyPEMs(t, 2)
	oldOnly := NewTokens(MustKeyFile(t, keys[0]), testIssuer, testAudience)
	fromOld := MustIssue(t, oldOnly, testClaims(t0))

	t.Run("LastPrivateKeySigns", func(t *testing.T) {
		both := NewTokens(MustKeyFile(t, keys[0], keys[1]), testIssuer, testAudience)
		s := MustIssue(t, both, testClaims(t0))
		if kid := headerKID(t, s); kid != kidOf(t, keys[1]) {
			t.Errorf("signed by %s, want the last key %s", kid, kidOf(t, keys[1]))
		}
		if _, err := both.VerifyAccess(fromOld, t0); err != nil {
			t.Errorf("a token of the older key is refused: %v", err)
		}
		if _, err := oldOnly.VerifyAccess(s, t0); err == nil {
			t.Error("a set without the new key accepted its token")
		}
	})
	t.Run("RetiredKeyVerifiesButNeverSigns", func(t *testing.T) {
		// The old key kept as its public half, listed after the signer.
		ks := MustKeyFile(t, keys[1], publicPEM(t, keys[0]))
		tk := NewTokens(ks, testIssuer, testAudience)
		if _, err := tk.VerifyAccess(fromOld, t0); err != nil {
			t.Errorf("a token of the retired key is refused: %v", err)
		}
		if kid := headerKID(t, MustIssue(t, tk, testClaims(t0))); kid != kidOf(t, keys[1]) {
			t.Errorf("signed by %s, want %s", kid, kidOf(t, keys[1]))
		}
	})
	t.Run("RemovedKeyNoLongerVerifies", func(t *testing.T) {
		tk := NewTokens(MustKeyFile(t, keys[1]), testIssuer, testAudience)
		if _, err := tk.VerifyAccess(fromOld, t0); market.ErrorCode(err) != market.EUNAUTHORIZED {
			t.Errorf("a token of a removed key: %v", err)
		}
	})
}

func headerKID(tb testing.TB, token string) string {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		tb.Fatal(err)
	}
	var h struct{ Kid string }
	json.Unmarshal(b, &h)
	return h.Kid
}

func TestRefreshTokens(t *testing.T) {
	tk := NewTokens(MustKeySet(t), testIssuer, testAudience)
	seen := map[string]bool{}
	for range 100 {
		tok, hash, err := tk.NewRefresh()
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^csr_[A-Za-z0-9_-]{43}$`).MatchString(tok) {
			t.Fatalf("refresh token %q is not csr_ and 32 bytes of base64url", tok)
		}
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(hash) || hash != tk.HashRefresh(tok) {
			t.Fatalf("hash %q is not the hex SHA-256 HashRefresh gives", hash)
		}
		if strings.Contains(hash, tok) || seen[tok] || seen[hash] {
			t.Fatal("refresh tokens repeat or the hash carries the token")
		}
		seen[tok], seen[hash] = true, true
	}
}

func TestIssueAccessRefusesIncompleteClaims(t *testing.T) {
	tk := NewTokens(MustKeySet(t), testIssuer, testAudience)
	for name, c := range map[string]func(*market.AccessClaims){
		"NoID":            func(c *market.AccessClaims) { c.ID = "" },
		"NoUser":          func(c *market.AccessClaims) { c.UserID = "" },
		"NoOrganisation":  func(c *market.AccessClaims) { c.OrganisationID = "" },
		"NoRole":          func(c *market.AccessClaims) { c.Role = "" },
		"ExpiresAtIssued": func(c *market.AccessClaims) { c.ExpiresAt = c.IssuedAt },
	} {
		t.Run(name, func(t *testing.T) {
			ac := testClaims(t0)
			c(&ac)
			if s, err := tk.IssueAccess(ac); err == nil {
				t.Errorf("IssueAccess = %s, want an error", s)
			}
		})
	}
}

func BenchmarkIssueAccess(b *testing.B) {
	tk := NewTokens(MustKeySet(b), testIssuer, testAudience)
	c := testClaims(t0)
	for b.Loop() {
		if _, err := tk.IssueAccess(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyAccess(b *testing.B) {
	tk := NewTokens(MustKeySet(b), testIssuer, testAudience)
	s := MustIssue(b, tk, testClaims(t0))
	for b.Loop() {
		if _, err := tk.VerifyAccess(s, t0); err != nil {
			b.Fatal(err)
		}
	}
}

package api

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/csmarket/csmarket/internal/auth"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// forge signs claims for actor a as csmarket would, then lets change alter
// the header or the claims; with a nil change the token is genuine.
func (e *acctEnv) forge(tb testing.TB, a actor, role string, method jwt.SigningMethod, key any, change func(h map[string]any, c jwt.MapClaims)) string {
	tb.Helper()
	now := e.clock.Now()
	c := jwt.MapClaims{
		"iss": testIssuer, "aud": []string{testAudience}, "sub": a.userID, "org": a.orgID, "role": role,
		"jti": "forged-" + a.userID, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(),
	}
	tok := jwt.NewWithClaims(method, c)
	tok.Header["kid"] = e.keys.kid
	if change != nil {
		change(tok.Header, c)
	}
	s, err := tok.SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// alterPayload changes a claim of a genuine token and keeps its signature.
func alterPayload(tb testing.TB, token, claim string, value any) string {
	tb.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		tb.Fatal(err)
	}
	c[claim] = value
	raw, _ = json.Marshal(c)
	parts[1] = base64.RawURLEncoding.EncodeToString(raw)
	return strings.Join(parts, ".")
}

// unsigned is a token with alg "none" and an empty signature.
func unsigned(tb testing.TB, genuine string) string {
	tb.Helper()
	parts := strings.Split(genuine, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h map[string]any
	json.Unmarshal(raw, &h)
	h["alg"] = "none"
	raw, _ = json.Marshal(h)
	return base64.RawURLEncoding.EncodeToString(raw) + "." + parts[1] + "."
}

// TestTokenAttacks: every token csmarket did not issue as it stands, and
// every token of a user who may no longer act, is a 401 on GET
// /api/v1/me with an invalid_token challenge, never an anonymous request.
func TestTokenAttacks(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustAccountEnv(t, engine)
			w := e.mustWorld(t)
			a := w.supA
			other := mustKeys(t)
			pub := e.keys.priv.Public().(ed25519.PublicKey)
			pubDER, _ := x509.MarshalPKIXPublicKey(pub)
			pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
			now := e.clock.Now()
			eddsa := jwt.SigningMethodEdDSA

			me := func(t *testing.T, authorization string) (*http.Response, []byte) {
				t.Helper()
				r := req{method: http.MethodGet, target: "/api/v1/me"}
				if authorization != "" {
					r.header = map[string]string{"Authorization": authorization}
				}
				return e.do(t, r)
			}

			// The controls: a genuine token, and one forged with the
			// server's own key and nothing changed, are accepted; so each
			// case below fails for its one change alone.
			for _, c := range []struct{ name, authorization string }{
				{"Genuine", "Bearer " + a.access},
				{"ForgedUnchanged", "Bearer " + e.forge(t, a, "supplier", eddsa, e.keys.priv, nil)},
				{"LowerCaseScheme", "bearer " + a.access},
			} {
				t.Run("Control"+c.name, func(t *testing.T) {
					res, body := me(t, c.authorization)
					want(t, res, body, http.StatusOK)
				})
			}

			tests := []struct {
				name, authorization string
			}{
				{"Garbage", "Bearer garbage"},
				{"ThreeDots", "Bearer a.b.c"},
				{"EmptyBearer", "Bearer "},
				{"BasicScheme", "Basic " + base64.StdEncoding.EncodeToString([]byte(a.email+":"+testPassword))},
				{"TokenWithoutScheme", a.access},
				{"Expired", "Bearer " + e.forge(t, a, "supplier", eddsa, e.keys.priv, func(_ map[string]any, c jwt.MapClaims) {
					c["iat"], c["nbf"], c["exp"] = now.Add(-20*time.Minute).Unix(), now.Add(-20*time.Minute).Unix(), now.Add(-5*time.Minute).Unix()
				})},
				{"NotYetValid", "Bearer " + e.forge(t, a, "supplier", eddsa, e.keys.priv, func(_ map[string]any, c jwt.MapClaims) {
					c["iat"], c["nbf"], c["exp"] = now.Add(time.Hour).Unix(), now.Add(time.Hour).Unix(), now.Add(75*time.Minute).Unix()
				})},
				{"NoExpiry", "Bearer " + e.forge(t, a, "supplier", eddsa, e.keys.priv, func(_ map[string]any, c jwt.MapClaims) { delete(c, "exp") })},
				{"WrongIssuer", "Bearer " + e.forge(t, a, "supplier", eddsa, e.keys.priv, func(_ map[string]any, c jwt.MapClaims) { c["iss"] = "someone-else" })},
				{"NoIssuer", "Bearer " + e.forge(t, a, "supplier", eddsa, e.keys.priv, func(_ map[string]any, c jwt.MapClaims) { delete(c, "iss") })},
				{"WrongAudience", "Bearer " + e.forge(t, a, "supplier", eddsa, e.keys.priv, func(_ map[string]any, c jwt.MapClaims) { c["aud"] = []string{"another-api"} })},
				{"UnknownKid", "Bearer " + e.forge(t, a, "supplier", eddsa, other.priv, func(h map[string]any, _ jwt.MapClaims) { h["kid"] = other.kid })},
				{"OtherKeyOurKid", "Bearer " + e.forge(t, a, "supplier", eddsa, other.priv, nil)},
				{"NoKid", "Bearer " + e.forge(t, a, "supplier", eddsa, e.keys.priv, func(h map[string]any, _ jwt.MapClaims) { delete(h, "kid") })},
				{"AlgNone", "Bearer " + unsigned(t, a.access)},
				{"HS256WithPublicKeyBytes", "Bearer " + e.forge(t, a, "supplier", jwt.SigningMethodHS256, []byte(pub), nil)},
				{"HS256WithPublicKeyPEM", "Bearer " + e.forge(t, a, "supplier", jwt.SigningMethodHS256, pubPEM, nil)},
				{"PayloadAlteredRole", "Bearer " + alterPayload(t, a.access, "role", "operator")},
				{"PayloadAlteredSubject", "Bearer " + alterPayload(t, a.access, "sub", w.supB.userID)},
				{"PayloadAlteredExpiry", "Bearer " + alterPayload(t, a.access, "exp", now.Add(24*time.Hour).Unix())},
				{"RoleNotTheUsers", "Bearer " + e.forge(t, a, "operator", eddsa, e.keys.priv, nil)},
				{"OrganisationNotTheUsers", "Bearer " + e.forge(t, actor{userID: a.userID, orgID: w.supB.orgID}, "supplier", eddsa, e.keys.priv, nil)},
				{"UnknownUser", "Bearer " + e.forge(t, actor{userID: "0190f0e6-0000-7000-8000-000000000000", orgID: a.orgID}, "supplier", eddsa, e.keys.priv, nil)},
				{"RefreshTokenAsAccess", "Bearer " + a.refresh},
				{"Oversized", "Bearer " + strings.Repeat("A", auth.MaxAccessTokenLen+1)},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					res, body := me(t, tt.authorization)
					want(t, res, body, http.StatusUnauthorized)
					if got := res.Header.Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
						t.Errorf("WWW-Authenticate %q: a refused token must not pass as anonymous", got)
					}
				})
			}

			t.Run("None", func(t *testing.T) {
				res, body := me(t, "")
				want(t, res, body, http.StatusUnauthorized)
				if got := res.Header.Get("WWW-Authenticate"); strings.Contains(got, "invalid_token") {
					t.Errorf("WWW-Authenticate %q for a request with no token", got)
				}
			})

			t.Run("TwoAuthorizationHeaders", func(t *testing.T) {
				hr := newRequest(http.MethodGet, "/api/v1/me")
				hr.Header.Add("Authorization", "Bearer "+a.access)
				hr.Header.Add("Authorization", "Bearer "+w.supB.access)
				res, body := serve(t, e.s.engine, hr)
				want(t, res, body, http.StatusUnauthorized)
			})

			t.Run("DisabledUser", func(t *testing.T) {
				res, body := me(t, "Bearer "+w.supA2.access)
				want(t, res, body, http.StatusOK)
				res, body = e.do(t, req{method: http.MethodPatch, target: "/api/v1/users/" + w.supA2.userID, token: a.access, body: userStatusRequest{Status: "disabled"}})
				want(t, res, body, http.StatusOK)
				res, body = me(t, "Bearer "+w.supA2.access)
				want(t, res, body, http.StatusUnauthorized)
			})

			t.Run("DisabledOrganisation", func(t *testing.T) {
				res, body := me(t, "Bearer "+w.supB.access)
				want(t, res, body, http.StatusOK)
				res, body = e.do(t, req{method: http.MethodPost, target: "/api/v1/operator/organisations/" + w.supB.orgID + "/disable", token: w.operator.access})
				want(t, res, body, http.StatusOK)
				res, body = me(t, "Bearer "+w.supB.access)
				want(t, res, body, http.StatusUnauthorized)
			})

			// Last, since it moves the clock for everyone: a genuine token
			// is accepted to the end of its 15 minutes (and the verifier's
			// leeway), and refused after.
			t.Run("ExpiredByClock", func(t *testing.T) {
				fresh := e.login(t, w.buyerX.email)
				e.clock.Advance(15*time.Minute + auth.Leeway - time.Second)
				res, body := me(t, "Bearer "+fresh.access)
				want(t, res, body, http.StatusOK)
				e.clock.Advance(2 * time.Second)
				res, body = me(t, "Bearer "+fresh.access)
				want(t, res, body, http.StatusUnauthorized)
				if !strings.Contains(string(body), "expired") {
					t.Errorf("an expired token is not told so: %s", body)
				}
			})
		})
	}
}

package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// MustKeyPEMs returns n new private keys as PEM blocks.
func MustKeyPEMs(tb testing.TB, n int) [][]byte {
	tb.Helper()
	out := make([][]byte, n)
	for i := range out {
		k, err := GenerateKeyPEM()
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = k
	}
	return out
}

// MustKeyFile writes the blocks into a key file in a temporary directory
// and loads it.
func MustKeyFile(tb testing.TB, blocks ...[]byte) *KeySet {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "keys.pem")
	if err := os.WriteFile(path, bytes.Join(blocks, nil), 0o600); err != nil {
		tb.Fatal(err)
	}
	ks, err := LoadKeys(path)
	if err != nil {
		tb.Fatalf("LoadKeys: %v", err)
	}
	return ks
}

// MustKeySet returns a set of one new key.
func MustKeySet(tb testing.TB) *KeySet {
	tb.Helper()
	return MustKeyFile(tb, MustKeyPEMs(tb, 1)...)
}

// publicPEM returns the public half of a private key PEM block.
func publicPEM(tb testing.TB, privPEM []byte) []byte {
	tb.Helper()
	b, _ := pem.Decode(privPEM)
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		tb.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(k.(ed25519.PrivateKey).Public())
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func kidOf(tb testing.TB, privPEM []byte) string {
	tb.Helper()
	b, _ := pem.Decode(privPEM)
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		tb.Fatal(err)
	}
	return Thumbprint(k.(ed25519.PrivateKey).Public().(ed25519.PublicKey))
}

// TestThumbprint checks the kid against the example of RFC 8037,
// appendix A.3.
func TestThumbprint(t *testing.T) {
	x, err := base64.RawURLEncoding.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Thumbprint(x), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Errorf("Thumbprint = %s, want %s", got, want)
	}
}

func TestLoadKeysErrors(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	ecPubDER, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	ed := MustKeyPEMs(t, 1)[0]

	for _, c := range []struct {
		name, file, want string
	}{
		{"Missing", "", "does not exist"},
		{"Empty", "\n", "no private key"},
		{"PublicOnly", string(publicPEM(t, ed)), "no private key"},
		{"NotPEM", "hello", "not PEM"},
		{"TextAfterPEM", string(ed) + "trailing", "not PEM"},
		{"NotEd25519", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})), "not an Ed25519 key"},
		{"PublicNotEd25519", string(ed) + string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecPubDER})), "not an Ed25519 key"},
		{"CorruptDER", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")})), "not a PKCS#8 private key"},
		{"OtherBlockType", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte("junk")})), `"RSA PRIVATE KEY"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.pem")
			if c.file != "" {
				if err := os.WriteFile(path, []byte(c.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			ks, err := LoadKeys(path)
			if err == nil {
				t.Fatalf("LoadKeys = %v, want an error", ks)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file and say %q", err, c.want)
			}
		})
	}
}

func TestEnsureKeyFile(t *testing.T) {
	t.Run("CreatesPrivateFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "data", "keys", "jwt.pem")
		ks, err := EnsureKeyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("mode = %o, want 600", m)
		}
		data, _ := os.ReadFile(path)
		again, err := EnsureKeyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		after, _ := os.ReadFile(path)
		if again.SigningKID() != ks.SigningKID() || !bytes.Equal(data, after) {
			t.Error("a second EnsureKeyFile changed the key")
		}
		if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".tmp-*")); len(left) > 0 {
			t.Errorf("temporary files left: %v", left)
		}
	})
	t.Run("KeepsExistingFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "keys.pem")
		keys := MustKeyPEMs(t, 2)
		file := bytes.Join(keys, nil)
		os.WriteFile(path, file, 0o600)
		ks, err := EnsureKeyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, file) {
			t.Error("EnsureKeyFile rewrote an existing file")
		}
		if ks.SigningKID() != kidOf(t, keys[1]) {
			t.Error("the last key of the file does not sign")
		}
	})
	t.Run("BrokenExistingFileIsAnError", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "keys.pem")
		os.WriteFile(path, []byte("garbage"), 0o600)
		if _, err := EnsureKeyFile(path); err == nil {
			t.Fatal("EnsureKeyFile accepted a broken file")
		}
		if got, _ := os.ReadFile(path); string(got) != "garbage" {
			t.Error("EnsureKeyFile replaced a broken file")
		}
	})
	t.Run("ConcurrentStartsAgree", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "keys.pem")
		kids := make([]string, 8)
		var wg sync.WaitGroup
		for i := range kids {
			wg.Go(func() {
				ks, err := EnsureKeyFile(path)
				if err != nil {
					t.Error(err)
					return
				}
				kids[i] = ks.SigningKID()
			})
		}
		wg.Wait()
		for _, k := range kids {
			if k != kids[0] {
				t.Fatalf("processes starting at once signed with different keys: %v", kids)
			}
		}
	})
}

func TestJWKS(t *testing.T) {
	keys := MustKeyPEMs(t, 3)
	// An old key retired to its public half, the current signing key, and
	// a next key published ahead of use (public only).
	ks := MustKeyFile(t, publicPEM(t, keys[0]), keys[1], publicPEM(t, keys[2]))
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(ks.JWKS(), &set); err != nil {
		t.Fatalf("JWKS is not JSON: %v", err)
	}
	if len(set.Keys) != 3 {
		t.Fatalf("JWKS has %d keys, want 3: %s", len(set.Keys), ks.JWKS())
	}
	for i, k := range set.Keys {
		if k["kid"] != kidOf(t, keys[i]) || k["kty"] != "OKP" || k["crv"] != "Ed25519" || k["alg"] != "EdDSA" || k["use"] != "sig" {
			t.Errorf("key %d = %v", i, k)
		}
		if _, ok := k["d"]; ok {
			t.Errorf("key %d publishes its private part", i)
		}
		x, err := base64.RawURLEncoding.DecodeString(k["x"])
		if err != nil || Thumbprint(x) != k["kid"] {
			t.Errorf("key %d: x does not match its kid", i)
		}
	}
	if ks.SigningKID() != kidOf(t, keys[1]) {
		t.Error("a public-only key was chosen to sign")
	}
	ks.JWKS()[0] = 'X'
	if ks.JWKS()[0] != '{' {
		t.Error("JWKS returned the set's own bytes")
	}
}

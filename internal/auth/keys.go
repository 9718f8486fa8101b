// Package auth signs and checks csmarket's access tokens, makes refresh
// tokens, hashes passwords and publishes the signing keys as a JWKS. It
// implements market.Tokens and market.Passwords; the rules of who may do
// what stay in internal/market.
package auth

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KeySet is the Ed25519 keys of a deployment. The last private key in its
// file signs; every key verifies, so a key can be rotated by appending a
// new one, and retired by replacing it with its public half (which keeps
// verifying the tokens it signed until they expire) and later removing it.
type KeySet struct {
	signer    ed25519.PrivateKey
	signerKID string
	public    map[string]ed25519.PublicKey // by kid
	kids      []string                     // in file order, each once
	jwks      []byte
}

// LoadKeys reads a PEM file of PKCS#8 Ed25519 private keys ("PRIVATE
// KEY") and, optionally, PKIX Ed25519 public keys ("PUBLIC KEY") that
// verify but never sign. It needs at least one private key.
func LoadKeys(path string) (*KeySet, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("auth: key file %s does not exist (generate one with auth.EnsureKeyFile, or point CSM_JWT_KEY_FILE at a PEM file of Ed25519 keys)", path)
	} else if err != nil {
		return nil, fmt.Errorf("auth: key file: %w", err)
	}
	ks, err := parseKeys(data)
	if err != nil {
		return nil, fmt.Errorf("auth: key file %s: %w", path, err)
	}
	return ks, nil
}

func parseKeys(data []byte) (*KeySet, error) {
	ks := &KeySet{public: map[string]ed25519.PublicKey{}}
	add := func(pub ed25519.PublicKey) string {
		kid := Thumbprint(pub)
		if _, ok := ks.public[kid]; !ok {
			ks.public[kid] = pub
			ks.kids = append(ks.kids, kid)
		}
		return kid
	}
	rest := data
	for n := 1; ; n++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("PEM block %d: not a PKCS#8 private key: %w", n, err)
			}
			priv, ok := k.(ed25519.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("PEM block %d: a %T, not an Ed25519 key", n, k)
			}
			ks.signer = priv
			ks.signerKID = add(priv.Public().(ed25519.PublicKey))
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("PEM block %d: not a PKIX public key: %w", n, err)
			}
			pub, ok := k.(ed25519.PublicKey)
			if !ok {
				return nil, fmt.Errorf("PEM block %d: a %T, not an Ed25519 key", n, k)
			}
			add(pub)
		default:
			return nil, fmt.Errorf("PEM block %d is a %q; want PRIVATE KEY (PKCS#8 Ed25519) or PUBLIC KEY", n, b.Type)
		}
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("not PEM, or text after the last PEM block")
	}
	if ks.signer == nil {
		return nil, errors.New("no private key: the file needs at least one Ed25519 PRIVATE KEY to sign with")
	}
	ks.jwks = ks.buildJWKS()
	return ks, nil
}

// EnsureKeyFile loads the keys at path, first generating one key into a
// new file readable by its owner only when there is none. It never
// overwrites a file: of two processes starting at once, one creates the
// file and both load it.
func EnsureKeyFile(path string) (*KeySet, error) {
	if _, err := os.Stat(path); err == nil {
		return LoadKeys(path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("auth: key file: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: key file: %w", err)
	}
	key, err := GenerateKeyPEM()
	if err != nil {
		return nil, err
	}
	if err := createExclusive(path, key); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("auth: key file: %w", err)
	}
	return LoadKeys(path)
}

// createExclusive writes data to a temporary file beside path (0600, as
// os.CreateTemp makes it), syncs it and links it into place, so that path
// appears complete or not at all, and an existing path is left alone
// (fs.ErrExist).
func createExclusive(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		// Some file systems have no hard links: rename, after checking
		// once more that nothing appeared meanwhile.
		if _, serr := os.Lstat(path); serr == nil {
			return fs.ErrExist
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // best effort: not every filesystem syncs a directory
		d.Close()
	}
	return nil
}

// GenerateKeyPEM returns a new Ed25519 private key as a PKCS#8 PEM block,
// ready to be appended to a key file.
func GenerateKeyPEM() ([]byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("auth: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("auth: generate key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// Thumbprint is the RFC 7638 JWK thumbprint of an Ed25519 public key
// (RFC 8037): the base64url SHA-256 of its canonical JWK. It is the key's
// kid, so a kid names one key whatever file it was loaded from.
func Thumbprint(pub ed25519.PublicKey) string {
	canonical := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// SigningKID is the kid of the key that signs new tokens.
func (ks *KeySet) SigningKID() string { return ks.signerKID }

// jwk is one key of a JWKS (RFC 7517, RFC 8037).
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

func (ks *KeySet) buildJWKS() []byte {
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: make([]jwk, 0, len(ks.kids))}
	for _, kid := range ks.kids {
		set.Keys = append(set.Keys, jwk{
			Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(ks.public[kid]),
			Kid: kid, Alg: "EdDSA", Use: "sig",
		})
	}
	b, err := json.Marshal(set)
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	return b
}

// JWKS returns the public half of every key, signing or not, as an RFC
// 7517 JSON Web Key Set, for /.well-known/jwks.json.
func (ks *KeySet) JWKS() []byte { return bytes.Clone(ks.jwks) }

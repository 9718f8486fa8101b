package auth

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/csmarket/csmarket/internal/market"
	"golang.org/x/crypto/argon2"
)

// Argon2Params are the cost of an argon2id hash. Every hash records its
// own, so they can be raised for new hashes while old ones still verify.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultArgon2 is OWASP's minimum for argon2id (19 MiB, 2 passes, 1
// lane): about 21 ms and 19 MiB a hash on one core of csmarket's 2-core
// server, so that rate-limited logins cost the server little while every
// guess against a stolen table costs an attacker as much.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// fastArgon2 is for tests only: no protection at all.
var fastArgon2 = Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on the parameters Verify accepts from a stored hash, so that a
// corrupted or planted hash cannot make a login allocate gigabytes.
const (
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 64
	maxKeyLen  = 128
	maxSaltLen = 64
)

// Passwords hashes passwords with argon2id in the PHC string format and
// refuses weak ones. It implements market.Passwords and is safe for
// concurrent use.
type Passwords struct {
	p     Argon2Params
	dummy string // a hash of a random password, for Dummy

	// slots bounds the hashes computed at once: each takes Memory KiB,
	// and more of them than cores only queue for the CPU, so a flood of
	// logins waits here instead of exhausting memory.
	slots chan struct{}
}

var _ market.Passwords = (*Passwords)(nil)

// NewPasswords returns passwords hashed with DefaultArgon2.
func NewPasswords() *Passwords { return newPasswords(DefaultArgon2) }

// NewFastPasswords returns passwords hashed with trivial parameters, for
// tests only: the hashes it makes are no protection.
func NewFastPasswords() *Passwords { return newPasswords(fastArgon2) }

func newPasswords(p Argon2Params) *Passwords {
	pw := &Passwords{p: p, slots: make(chan struct{}, 2*runtime.GOMAXPROCS(0))}
	var b [24]byte
	rand.Read(b[:])
	h, err := pw.Hash(base64.RawURLEncoding.EncodeToString(b[:]))
	if err != nil {
		panic(err) // only crypto/rand can fail, and it does not
	}
	pw.dummy = h
	return pw
}

// Hash returns $argon2id$v=19$m=...,t=...,p=...$salt$hash with a fresh
// random salt.
func (pw *Passwords) Hash(password string) (string, error) {
	salt := make([]byte, pw.p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := pw.idKey(password, salt, pw.p.Time, pw.p.Memory, pw.p.Threads, pw.p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		pw.p.Memory, pw.p.Time, pw.p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify hashes password with the salt and parameters recorded in hash and
// compares in constant time. An error means the hash is not one this
// package can read, never that the password is wrong.
func (pw *Passwords) Verify(hash, password string) (bool, error) {
	p, salt, key, err := parsePHC(hash)
	if err != nil {
		return false, err
	}
	got := pw.idKey(password, salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

func (pw *Passwords) idKey(password string, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	pw.slots <- struct{}{}
	defer func() { <-pw.slots }()
	return argon2.IDKey([]byte(password), salt, time, memory, threads, keyLen)
}

// Dummy verifies password against a hash of a random password made with
// the current parameters, so that a login for an unknown e-mail takes as
// long as one for a known e-mail.
func (pw *Passwords) Dummy(password string) { _, _ = pw.Verify(pw.dummy, password) }

var errBadHash = errors.New("auth: password hash is not an argon2id PHC string")

// parsePHC reads $argon2id$v=19$m=M,t=T,p=P$salt$key.
func parsePHC(s string) (p Argon2Params, salt, key []byte, err error) {
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errBadHash
	}
	var m, t, par uint64
	for i, kv := range strings.Split(f[3], ",") {
		name, val, ok := strings.Cut(kv, "=")
		want := [...]string{"m", "t", "p"}
		if !ok || i >= len(want) || name != want[i] {
			return p, nil, nil, errBadHash
		}
		n, err := strconv.ParseUint(val, 10, 32)
		if err != nil {
			return p, nil, nil, errBadHash
		}
		switch name {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			par = n
		}
	}
	if par < 1 || par > 255 || t < 1 || t > maxTime || m < 8*par || m > maxMemory {
		return p, nil, nil, errBadHash
	}
	salt, err1 := base64.RawStdEncoding.Strict().DecodeString(f[4])
	key, err2 := base64.RawStdEncoding.Strict().DecodeString(f[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(salt) > maxSaltLen || len(key) < 16 || len(key) > maxKeyLen {
		return p, nil, nil, errBadHash
	}
	return Argon2Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(par), SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}, salt, key, nil
}

// Acceptable refuses, naming field, a password shorter than
// market.MinPasswordLen characters or longer than market.MaxPasswordLen
// bytes, one character or a short pattern repeated, a run along the
// keyboard or the alphabet or the digits, and any password on the shipped
// list of common passwords (common-passwords.txt), whatever its case and
// spacing.
func (pw *Passwords) Acceptable(field, password string) error {
	if !utf8.ValidString(password) {
		return market.Invalid(field, "must be text (UTF-8)")
	}
	if n := utf8.RuneCountInString(password); n < market.MinPasswordLen {
		return market.Invalid(field, "must be at least %d characters; a passphrase of several words is easiest", market.MinPasswordLen)
	}
	if len(password) > market.MaxPasswordLen {
		return market.Invalid(field, "must be at most %d bytes", market.MaxPasswordLen)
	}
	lower := strings.ToLower(password)
	squeezed := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, lower)
	if repeated(squeezed) {
		return market.Invalid(field, "must not be one character or a short pattern repeated; a passphrase of several words is easiest")
	}
	if sequence(squeezed) {
		return market.Invalid(field, "must not be a run of keys or of letters or digits in order; a passphrase of several words is easiest")
	}
	common := commonPasswords()
	if _, ok := common[lower]; ok {
		return errCommon(field)
	}
	if _, ok := common[squeezed]; ok {
		return errCommon(field)
	}
	return nil
}

func errCommon(field string) error {
	return market.Invalid(field, "is one of the most commonly used passwords; choose another (a passphrase of several unrelated words is easiest)")
}

// repeated reports whether s is a unit of at most half its length
// repeated: "aaaaaaaaaaaa", "abcabcabcabc", "passwordpassword".
func repeated(s string) bool {
	r := []rune(s)
	for p := 1; p <= len(r)/2; p++ {
		i := p
		for i < len(r) && r[i] == r[i-p] {
			i++
		}
		if i == len(r) {
			return true
		}
	}
	return false
}

// runs are orders people type passwords in: digits (wrapping, so
// 1234567890123 is one run), the alphabet, and the keyboard's letter rows.
var runs = []string{"0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm", "qwertzuiopasdfghjklyxcvbnm", "azertyuiopqsdfghjklmwxcvbn"}

// sequence reports whether s, forwards or backwards, is a stretch of one
// of the runs, wrapping around.
func sequence(s string) bool {
	for _, run := range runs {
		n := len(s)/len(run) + 2
		fwd := strings.Repeat(run, n)
		if strings.Contains(fwd, s) || strings.Contains(fwd, reverse(s)) {
			return true
		}
	}
	return false
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

//go:embed common-passwords.txt
var commonPasswordsTxt string

// commonPasswords is the shipped list as a set, read once, when first
// needed.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 60_000)
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsTxt))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		set[strings.ToLower(line)] = struct{}{}
	}
	return set
})

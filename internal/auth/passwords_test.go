package auth

import (
	"regexp"
	"strings"
	"testing"

	"github.com/csmarket/csmarket/internal/market"
)

const passphrase = "orchard lantern gravel sixteen"

func TestPasswordHashVerify(t *testing.T) {
	pw := NewPasswords()
	h, err := pw.Hash(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(h) {
		t.Fatalf("hash %q is not a PHC argon2id string with the default parameters", h)
	}
	if h2, _ := pw.Hash(passphrase); h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, c := range []struct {
		name, password string
		want           bool
	}{
		{"Right", passphrase, true},
		{"Wrong", "orchard lantern gravel seventeen", false},
		{"OtherCase", strings.ToUpper(passphrase), false},
		{"Empty", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ok, err := pw.Verify(h, c.password)
			if err != nil || ok != c.want {
				t.Errorf("Verify = %v, %v; want %v", ok, err, c.want)
			}
		})
	}
}

func TestPasswordVerifyTampered(t *testing.T) {
	pw := NewFastPasswords()
	h, _ := pw.Hash(passphrase)
	f := strings.Split(h, "$") // "", argon2id, v=19, params, salt, key
	flip := func(s string) string {
		b := []byte(s)
		if b[0] == 'A' {
			b[0] = 'B'
		} else {
			b[0] = 'A'
		}
		return string(b)
	}
	join := func(g ...string) string { return strings.Join(g, "$") }

	t.Run("WellFormedButWrong", func(t *testing.T) {
		for name, th := range map[string]string{
			"Key":    join(f[0], f[1], f[2], f[3], f[4], flip(f[5])),
			"Salt":   join(f[0], f[1], f[2], f[3], flip(f[4]), f[5]),
			"Params": join(f[0], f[1], f[2], "m=64,t=2,p=1", f[4], f[5]),
		} {
			ok, err := pw.Verify(th, passphrase)
			if ok || err != nil {
				t.Errorf("%s altered: Verify = %v, %v; want false, nil", name, ok, err)
			}
		}
	})
	t.Run("Malformed", func(t *testing.T) {
		for name, th := range map[string]string{
			"Empty":         "",
			"Bcrypt":        "$2a$10$abcdefghijklmnopqrstuu5d6ZzGQ7OZ2a4UQZ7aKq8bTtGmS/2G",
			"Argon2i":       join(f[0], "argon2i", f[2], f[3], f[4], f[5]),
			"OtherVersion":  join(f[0], f[1], "v=16", f[3], f[4], f[5]),
			"ParamsOrder":   join(f[0], f[1], f[2], "t=1,m=64,p=1", f[4], f[5]),
			"HugeMemory":    join(f[0], f[1], f[2], "m=4294967295,t=1,p=1", f[4], f[5]),
			"ZeroTime":      join(f[0], f[1], f[2], "m=64,t=0,p=1", f[4], f[5]),
			"BadBase64":     join(f[0], f[1], f[2], f[3], "!!!!", f[5]),
			"PaddedBase64":  join(f[0], f[1], f[2], f[3], f[4], f[5]+"="),
			"ShortKey":      join(f[0], f[1], f[2], f[3], f[4], "AAAA"),
			"MissingField":  join(f[0], f[1], f[2], f[3], f[5]),
			"TrailingField": h + "$x",
		} {
			if ok, err := pw.Verify(th, passphrase); err == nil || ok {
				t.Errorf("%s: Verify = %v, %v; want an error", name, ok, err)
			}
		}
	})
}

// TestPasswordParamsFromHash: parameters come from the stored hash, so
// raising them for new hashes keeps old ones verifying.
func TestPasswordParamsFromHash(t *testing.T) {
	fast, slow := NewFastPasswords(), NewPasswords()
	custom := newPasswords(Argon2Params{Memory: 256, Time: 3, Threads: 2, SaltLen: 12, KeyLen: 24})
	hc, _ := custom.Hash(passphrase)
	if !strings.Contains(hc, "$m=256,t=3,p=2$") {
		t.Fatalf("hash %q does not record its parameters", hc)
	}
	hf, _ := fast.Hash(passphrase)
	for name, c := range map[string]struct {
		pw   *Passwords
		hash string
	}{
		"DefaultReadsCustom": {slow, hc},
		"DefaultReadsFast":   {slow, hf},
		"FastReadsCustom":    {fast, hc},
	} {
		if ok, err := c.pw.Verify(c.hash, passphrase); !ok || err != nil {
			t.Errorf("%s: Verify = %v, %v", name, ok, err)
		}
	}
	for name, pw := range map[string]*Passwords{"Default": slow, "Fast": fast} {
		p, _, _, err := parsePHC(pw.dummy)
		if err != nil || p != pw.p {
			t.Errorf("%s: Dummy's hash has parameters %+v, want %+v (as costly as a real verify)", name, p, pw.p)
		}
	}
}

func TestAcceptable(t *testing.T) {
	pw := NewFastPasswords()
	for _, c := range []struct {
		name, password string
		ok             bool
	}{
		{"Passphrase", passphrase, true},
		{"LongPassphrase", "the heron waits by the cold river for its supper", true},
		{"MixedTwelve", "vK7#qL2m!Zp9", true},
		{"Unicode", "mañana café größe", true},
		{"TooShort", "vK7#qL2m!Zp", false},
		{"ShortInBytesLongInRunes", "ééééééé", false},
		{"TooLong", strings.Repeat("orchard lantern ", 17), false},
		{"OneCharacter", "aaaaaaaaaaaaaaaa", false},
		{"RepeatedWord", "passwordpassword", false},
		{"RepeatedWordSpaced", "password password", false},
		{"RepeatedUnit", "abcabcabcabcab", false},
		{"Digits", "123456789012", false},
		{"DigitsDown", "987654321098", false},
		{"Alphabet", "abcdefghijklm", false},
		{"KeyboardRow", "qwertyuiopasdf", false},
		{"KeyboardRowUpper", "QWERTYUIOPASDF", false},
		{"Common", "password123456", false},
		{"CommonMixedCase", "PassWord123456", false},
		{"CommonWithYear", "Liverpool2024!", false},
		{"CommonFromList", "1qaz2wsx3edc4rfv", false},
		{"CommonPhrase", "Correct Horse Battery Staple", false},
		{"CommonPhraseSqueezed", "correcthorsebatterystaple", false},
		{"NotUTF8", "orchard lantern \xff", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := pw.Acceptable("user.password", c.password)
			if c.ok {
				if err != nil {
					t.Errorf("Acceptable = %v, want nil", err)
				}
				return
			}
			if market.ErrorCode(err) != market.EINVALID {
				t.Fatalf("Acceptable = %v, want %s", err, market.EINVALID)
			}
			if f := market.ErrorFields(err); len(f) != 1 || f[0].Field != "user.password" {
				t.Errorf("fields = %+v, want user.password", f)
			}
		})
	}
}

// TestCommonListShipped guards the embedded list: real, large, lower case.
func TestCommonListShipped(t *testing.T) {
	set := commonPasswords()
	if len(set) < 50_000 {
		t.Fatalf("%d common passwords, want the whole shipped list", len(set))
	}
	for _, p := range []string{"123456", "password", "qwerty", "letmein", "password123456", "iloveyou123456"} {
		if _, ok := set[p]; !ok {
			t.Errorf("%q is not on the list", p)
		}
	}
	for p := range set {
		if p != strings.ToLower(p) || strings.HasPrefix(p, "#") {
			t.Fatalf("entry %q is not a lower-case password", p)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	pw := NewPasswords()
	for b.Loop() {
		if _, err := pw.Hash(passphrase); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	pw := NewPasswords()
	h, _ := pw.Hash(passphrase)
	for b.Loop() {
		if ok, _ := pw.Verify(h, passphrase); !ok {
			b.Fatal("Verify failed")
		}
	}
}

func BenchmarkDummy(b *testing.B) {
	pw := NewPasswords()
	for b.Loop() {
		pw.Dummy(passphrase)
	}
}

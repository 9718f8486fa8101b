//go:build ignore

// gen_common_passwords writes common-passwords.txt from the password
// frequency list of the zxcvbn npm package (MIT licence), adding the
// common passwords with the suffixes people append to reach a length rule,
// and common long phrases. Run it from this directory:
//
//	cd $(mktemp -d) && npm pack zxcvbn@4.4.2 && tar xzf zxcvbn-4.4.2.tgz
//	go run gen_common_passwords.go $OLDPWD/package/lib/frequency_lists.js
package main

import (
	"bufio"
	"fmt"
	"log"
	"os"
	"regexp"
	"strings"
)

const header = `# Common passwords, one a line, lower case, most common first.
#
# Source: the "passwords" frequency list (30,000 entries) of the zxcvbn npm
# package, version 4.4.2, lib/frequency_lists.js, licensed as follows:
#
#   Copyright (c) 2012-2016 Dan Wheeler and Dropbox, Inc.
#
#   Permission is hereby granted, free of charge, to any person obtaining
#   a copy of this software and associated documentation files (the
#   "Software"), to deal in the Software without restriction, including
#   without limitation the rights to use, copy, modify, merge, publish,
#   distribute, sublicense, and/or sell copies of the Software, and to
#   permit persons to whom the Software is furnished to do so, subject to
#   the following conditions:
#
#   The above copyright notice and this permission notice shall be
#   included in all copies or substantial portions of the Software.
#
#   THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,
#   EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
#   MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
#   NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE
#   LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION
#   OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION
#   WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
#
# Added by gen_common_passwords.go: the %d most common of them with the
# suffixes people append to reach a length rule (password123456,
# dragon12345678, ...), kept when at least %d characters long, and common
# long phrases. Repeated patterns (passwordpassword) and keyboard or
# counting runs (qwertyuiopasdf, 123456789012) are refused by rule in
# passwords.go, not listed.
`

// topN of the list get suffixed variants.
const topN = 2000

// minLen is market.MinPasswordLen: shorter variants are refused anyway.
const minLen = 12

var suffixes = []string{
	"1", "12", "123", "1234", "12345", "123456", "1234567", "12345678",
	"123456789", "1234567890", "!", "!!", "1!", "123!", "01", "007", "69",
	"2019", "2020", "2021", "2022", "2023", "2024", "2025", "2026",
	"2019!", "2020!", "2021!", "2022!", "2023!", "2024!", "2025!", "2026!",
}

var phrases = []string{
	"correcthorsebatterystaple", "correct horse battery staple",
	"thequickbrownfox", "thequickbrownfoxjumpsoverthelazydog",
	"the quick brown fox jumps over the lazy dog",
	"iloveyousomuch", "iloveyouforever", "iloveyoubaby", "iloveyoumore",
	"iloveyoutoo", "iloveyouall", "iloveyoumom", "iloveyoumum",
	"letmeinplease", "letmeinnow", "pleaseletmein", "openseasame",
	"welcometomyworld", "welcomehome", "welcome to the nhs", "welcometothenhs",
	"trustnoone", "trustnoone1", "nopasswordneeded", "noneofyourbusiness",
	"changemeplease", "changeme123456", "changethispassword", "mypasswordis",
	"thisismypassword", "this is my password", "myverysecurepassword",
	"verysecurepassword", "supersecretpassword", "secretpassword",
	"strongpassword", "mysecretpassword", "newpassword", "newpassword123",
	"password for nhs", "nhspassword", "nhspassword1", "nhspassword123",
	"nationalhealthservice", "commissioning", "procurement", "procurement1",
	"administrator", "administrator1", "administrator123", "adminadmin123",
	"rootpassword", "defaultpassword", "temporarypassword", "temppassword123",
	"masterpassword", "godsavethequeen", "godsavetheking", "manchesterunited",
	"liverpoolfc", "arsenalfc1886", "chelseafc1905", "tottenhamhotspur",
	"harrypotter", "starwarsfan", "maytheforcebewithyou", "iamtheone",
	"onetwothreefour", "onetwothreefourfive", "qwerty123456789",
	"letsgetitstarted", "happybirthday", "happy birthday", "goodmorning",
	"goodnightmoon", "summertime2024", "wintertime2024", "springtime2024",
}

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: go run gen_common_passwords.go path/to/zxcvbn/lib/frequency_lists.js")
	}
	src, err := os.ReadFile(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*passwords: "([^"]*)"`).FindSubmatch(src)
	if m == nil {
		log.Fatal("no passwords list in ", os.Args[1])
	}
	base := strings.Split(string(m[1]), ",")
	if len(base) < 10000 {
		log.Fatalf("only %d passwords: not the list expected", len(base))
	}

	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		s = strings.ToLower(strings.TrimSpace(s))
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, p := range base {
		add(p)
	}
	for _, p := range phrases {
		add(p)
	}
	for _, p := range base[:topN] {
		for _, s := range suffixes {
			if len(p)+len(s) >= minLen {
				add(p + s)
			}
		}
	}

	f, err := os.Create("common-passwords.txt")
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, header, topN, minLen)
	for _, s := range out {
		fmt.Fprintln(w, s)
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	log.Printf("%d passwords", len(out))
}

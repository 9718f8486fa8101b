package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"strings"

	"github.com/csmarket/csmarket/internal/auth"
	"github.com/csmarket/csmarket/internal/market"
)

const adminUsage = `Usage:
  csmarket admin create --email EMAIL --name NAME [--password-stdin]
                               create an operator user; prints a one-time password
                               unless one is read from standard input
  csmarket keygen              print a new Ed25519 signing key (PEM) to append to
                               CSM_JWT_KEY_FILE: the last key signs, all verify
`

func cmdAdmin(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			fmt.Fprint(stdout, adminUsage)
			return nil
		}
		fmt.Fprint(stderr, adminUsage)
		return errUsage
	}
	fs := newFlagSet("admin create", "Creates a marketplace operator user (the operator organisation the first time).", true, stdout)
	email := fs.String("email", "", "the operator's e-mail address")
	name := fs.String("name", "", "the operator's name")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	password := ""
	if *fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("admin create: no password on standard input")
		}
		password = strings.TrimRight(line, "\r\n")
	} else {
		password = oneTimePassword()
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	w, err := openWriter(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer w.close()
	u, err := w.accounts.CreateOperator(ctx, market.NewUser{Name: *name, Email: *email, Password: password})
	if err != nil {
		if fields := market.ErrorFields(err); len(fields) > 0 {
			var parts []string
			for _, f := range fields {
				parts = append(parts, "--"+f.Field+" "+f.Message)
			}
			return fmt.Errorf("admin create: %s", strings.Join(parts, "; "))
		}
		return fmt.Errorf("admin create: %s", market.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "created operator %s (%s)\n", u.Email, u.ID)
	if !*fromStdin {
		fmt.Fprintf(stdout, "one-time password (shown once; sign in and keep it safe): %s\n", password)
	}
	return nil
}

// oneTimePassword returns 24 random characters from an alphabet without
// look-alikes: about 120 bits.
func oneTimePassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func cmdKeygen(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		fmt.Fprint(stderr, adminUsage)
		if args[0] == "--help" || args[0] == "-h" {
			return nil
		}
		return errUsage
	}
	pem, err := auth.GenerateKeyPEM()
	if err != nil {
		return err
	}
	_, err = stdout.Write(pem)
	return err
}

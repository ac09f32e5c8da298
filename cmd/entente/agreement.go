package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/entente/entente/agreement"
	"golang.org/x/mod/sumdb/note"
)

// runAgreement implements "entente agreement sign|verify".
func runAgreement(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return usageError("usage: entente agreement sign|verify ...")
	}
	switch args[0] {
	case "sign":
		return runAgreementSign(env, args[1:])
	case "verify":
		return runAgreementVerify(env, args[1:])
	}
	return usageError("unknown subcommand %q; use sign or verify", args[0])
}

// runAgreementSign implements "entente agreement sign --key FILE AGREEMENT":
// it adds the signature of the party whose private key FILE holds to the
// agreement, rewriting the file in place.
func runAgreementSign(env *Env, args []string) error {
	fset := flag.NewFlagSet("agreement sign", flag.ContinueOnError)
	fset.SetOutput(env.Stderr)
	keyFile := fset.String("key", "", "the party's private key `FILE`, from entente keygen")
	fset.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: entente agreement sign --key FILE AGREEMENT")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		return &exitError{Code: 2}
	}
	if fset.NArg() != 1 || *keyFile == "" {
		fset.Usage()
		return &exitError{Code: 2}
	}
	skey, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return fmt.Errorf("%s: not a private key made by entente keygen: %v", *keyFile, err)
	}
	path := fset.Arg(0)
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	signed, party, err := agreement.Sign(doc, signer)
	if err != nil {
		return prefixErrors(path, err)
	}
	if err := replaceFile(path, signed); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: signed by %s\n", path, party)
	return nil
}

// replaceFile writes data to path through a temporary file and a rename,
// so that a failure never leaves a half-written agreement.
func replaceFile(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".agreement-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // fails harmlessly after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// runAgreementVerify implements "entente agreement verify AGREEMENT...":
// every party must have signed each version's content, each version must
// supersede the one before it, and the latest must be in force.
func runAgreementVerify(env *Env, args []string) error {
	fset := flag.NewFlagSet("agreement verify", flag.ContinueOnError)
	fset.SetOutput(env.Stderr)
	at := fset.String("at", "", "check validity on `DATE` (YYYY-MM-DD) instead of today")
	fset.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: entente agreement verify [--at DATE] AGREEMENT [AMENDMENT...]")
		fmt.Fprintln(env.Stderr, "Give an agreement's versions in any order; the latest must be in force.")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		return &exitError{Code: 2}
	}
	if fset.NArg() == 0 {
		fset.Usage()
		return &exitError{Code: 2}
	}
	now := time.Now()
	if *at != "" {
		t, err := time.Parse(time.DateOnly, *at)
		if err != nil {
			return usageError("--at %q: write the date as YYYY-MM-DD", *at)
		}
		now = t
	}

	type version struct {
		path string
		a    *agreement.Agreement
	}
	var versions []version
	failed := false
	for _, path := range fset.Args() {
		a, err := loadAgreement(path)
		if err == nil {
			err = prefixErrors(path, a.VerifySignatures())
		}
		if err != nil {
			fmt.Fprintln(env.Stderr, err)
			failed = true
			continue
		}
		versions = append(versions, version{path, a})
	}
	slices.SortFunc(versions, func(x, y version) int { return x.a.Version - y.a.Version })
	for i := 1; i < len(versions); i++ {
		if err := agreement.CheckAmendment(versions[i-1].a, versions[i].a); err != nil {
			fmt.Fprintf(env.Stderr, "%s: %v\n", versions[i].path, err)
			failed = true
		}
	}
	// The version in force is the latest that has taken effect; the ones
	// before it stay verifiable, and the ones after it are pending.
	current := -1
	for i, v := range versions {
		if eff, err := v.a.Validity.Effective.Time(); err == nil && !now.Before(eff) {
			current = i
		}
	}
	for i, v := range versions {
		var status string
		switch {
		case i < current:
			next := versions[i+1].a
			status = fmt.Sprintf("superseded by version %d from %s", next.Version, next.Validity.Effective)
		case i > current:
			status = fmt.Sprintf("takes effect on %s", v.a.Validity.Effective)
		default:
			if err := v.a.InForce(now); err != nil {
				fmt.Fprintf(env.Stderr, "%s: %v\n", v.path, err)
				failed = true
				continue
			}
			status = fmt.Sprintf("in force until %s", v.a.Validity.Expires)
			if i+1 < len(versions) {
				next := versions[i+1].a
				status = fmt.Sprintf("in force until version %d takes effect on %s", next.Version, next.Validity.Effective)
			}
		}
		parties := make([]string, len(v.a.Parties))
		for j, p := range v.a.Parties {
			parties[j] = p.ID
		}
		fmt.Fprintf(env.Stdout, "%s: %s version %d: signed by %s; %s\n",
			v.path, v.a.ID, v.a.Version, strings.Join(parties, ", "), status)
	}
	if current < 0 && len(versions) > 0 {
		fmt.Fprintf(env.Stderr, "no version is in force on %s\n", now.Format(time.DateOnly))
		failed = true
	}
	if failed {
		return &exitError{Code: 1}
	}
	return nil
}

func loadAgreement(path string) (*agreement.Agreement, error) {
	data, err := readLimited(path, agreement.MaxSize)
	if err != nil {
		return nil, err
	}
	a, err := agreement.Parse(data)
	return a, prefixErrors(path, err)
}

// readLimited reads a file, refusing one larger than limit.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, nil
}

// prefixErrors puts the file name before each of the errors err joins, so
// that each reads "FILE:LINE:COLUMN: ..." as compilers print them.
func prefixErrors(path string, err error) error {
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	lines := make([]string, len(errs))
	for i, e := range errs {
		msg := e.Error()
		if msg != "" && '0' <= msg[0] && msg[0] <= '9' {
			lines[i] = path + ":" + msg // a LINE:COLUMN position
		} else {
			lines[i] = path + ": " + msg
		}
	}
	return errors.New(strings.Join(lines, "\n"))
}

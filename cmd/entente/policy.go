package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/policy"
	"github.com/entente/entente/stix"
)

// maxObjectFile bounds the object or bundle explain reads.
const maxObjectFile = 64 << 20

// runPolicy implements "entente policy explain".
func runPolicy(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "explain" {
		return usageError("usage: entente policy explain --agreement FILE --to PARTY OBJECT.json")
	}
	return runPolicyExplain(env, args[1:])
}

// runPolicyExplain prints what policy.Decide decides for each object in a
// file (one STIX object, or a bundle whose objects also resolve each
// other's references), and the rule that decided. It exits 0 when every
// object may be sent, 1 when any is denied.
func runPolicyExplain(env *Env, args []string) error {
	fset := flag.NewFlagSet("policy explain", flag.ContinueOnError)
	fset.SetOutput(env.Stderr)
	var (
		file     = fset.String("agreement", "", "the agreement `FILE`")
		to       = fset.String("to", "", "the recipient `PARTY`")
		org      = fset.String("org", "", "the recipient `AUTHORITY` (default: the one operating the party's first node)")
		person   = fset.String("person", "", "the recipient individual's `ID`, for TLP:RED")
		self     = fset.String("as", "", "decide as a node of `PARTY` (default: the other party of a two-party agreement)")
		received = fset.String("received-from", "", "the objects were received from `PARTY` (default: originated by this party)")
	)
	fset.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: entente policy explain --agreement FILE --to PARTY [flags] OBJECT.json")
		fmt.Fprintln(env.Stderr, "OBJECT.json holds one STIX object or a bundle.")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		return &exitError{Code: 2}
	}
	if fset.NArg() != 1 || *file == "" || *to == "" {
		fset.Usage()
		return &exitError{Code: 2}
	}

	a, err := loadAgreement(*file)
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	if err := a.VerifySignatures(); err != nil {
		fmt.Fprintf(env.Stderr, "warning: %v\n", prefixErrors(*file, err))
	}
	recipient, ok := a.Party(*to)
	if !ok {
		return usageError("--to %q is not a party to agreement %s", *to, a.ID)
	}
	if *self == "" {
		*self = otherParty(a, *to)
		if *self == "" {
			return usageError("--as is required: the agreement has more than two parties")
		}
	}
	p, err := policy.Compile(a, *self)
	if err != nil {
		return usageError("--as: %v", err)
	}
	r := policy.Recipient{Party: *to, Organization: *org, Individual: *person}
	if r.Organization == "" && len(recipient.Nodes) > 0 {
		r.Organization = recipient.Nodes[0].Authority
	}

	data, err := readLimited(fset.Arg(0), maxObjectFile)
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	objects, err := readObjects(data)
	if err != nil {
		return &exitError{Code: 2, Err: fmt.Errorf("%s: %v", fset.Arg(0), err)}
	}
	byID := make(map[string]*stix.Object, len(objects))
	for _, o := range objects {
		byID[o.ID] = o
	}
	c := policy.Context{
		ReceivedFrom: *received,
		// The file is all there is to look in, so a lookup never fails.
		Lookup: func(id string) (policy.Ref, bool, error) {
			o, ok := byID[id]
			return policy.Ref{Object: o, ReceivedFrom: *received}, ok, nil
		},
	}

	fmt.Fprintf(env.Stdout, "agreement %s version %d, as %s, to %s", a.ID, a.Version, *self, *to)
	if r.Organization != "" {
		fmt.Fprintf(env.Stdout, " (%s)", r.Organization)
	}
	if r.Individual != "" {
		fmt.Fprintf(env.Stdout, " individual %s", r.Individual)
	}
	fmt.Fprintln(env.Stdout)
	denied := false
	for _, o := range objects {
		d, err := policy.Decide(p, r, o, c)
		if err != nil {
			return err
		}
		denied = denied || d.Verdict == policy.Deny
		writeDecision(env.Stdout, o, d)
	}
	if denied {
		return &exitError{Code: 1}
	}
	return nil
}

func otherParty(a *agreement.Agreement, to string) string {
	if len(a.Parties) != 2 {
		return ""
	}
	if a.Parties[0].ID == to {
		return a.Parties[1].ID
	}
	return a.Parties[0].ID
}

// readObjects reads one STIX object, or the objects of a bundle.
func readObjects(data []byte) ([]*stix.Object, error) {
	o, err := stix.Parse(data)
	if err != nil {
		return nil, err
	}
	if o.Type != "bundle" {
		return []*stix.Object{o}, nil
	}
	var b struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&b); err != nil {
		return nil, fmt.Errorf("bundle: %v", err)
	}
	objects := make([]*stix.Object, 0, len(b.Objects))
	for i, raw := range b.Objects {
		o, err := stix.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("bundle objects[%d]: %v", i, err)
		}
		objects = append(objects, o)
	}
	if len(objects) == 0 {
		return nil, fmt.Errorf("the bundle has no objects")
	}
	return objects, nil
}

func writeDecision(w io.Writer, o *stix.Object, d policy.Decision) {
	fmt.Fprintf(w, "\n%s: %s\n", o.ID, strings.ToUpper(d.Verdict.String()))
	fmt.Fprintf(w, "  check:      %s\n", d.Code)
	fmt.Fprintf(w, "  reason:     %s\n", d.Reason())
	if d.TLP != stix.TLPNone {
		fmt.Fprintf(w, "  tlp:        %s\n", d.TLP)
	}
	if d.PAP != agreement.PAPNone {
		fmt.Fprintf(w, "  pap:        %s\n", d.PAP)
	}
	if len(d.Redact) > 0 {
		fmt.Fprintf(w, "  redact:     %s\n", strings.Join(d.Redact, ", "))
	}
	if c := d.Conditions; c != nil {
		conf := "not confidential"
		if c.Confidential {
			conf = "confidential"
		}
		fmt.Fprintf(w, "  conditions: %s; purposes: %s; third parties: %s; retention: %d days\n",
			conf, strings.Join(c.Purposes, ", "), c.ThirdParties, c.RetentionDays)
	}
}

// Package policy decides every release of data under an agreement: which
// STIX 2.1 objects a node may send to which recipient, with which parts
// removed and under which handling conditions.
//
// Decide is the only function that may authorize a release, and it is pure:
// given the same compiled agreement, recipient, object and context it
// returns the same Decision, and it reads nothing but what it is given.
// When what it is given fails (Context.Lookup returns an error), it returns
// that error and no decision, never a silent deny or allow.
// Whatever the agreement does not allow is denied. The rules it enforces:
//
//   - TLP 2.0 (https://www.first.org/tlp/) is enforced, not just labelled:
//     TLP:CLEAR and TLP:GREEN go to the agreement's parties as their rule
//     allows; TLP:AMBER and TLP:AMBER+STRICT only to the organisations the
//     rule names, and never onward; TLP:RED only to named individuals.
//     TLP 1.0 marking ids (STIX 2.1 §7.2.1.4) map onto TLP 2.0.
//   - The types, labels, capability classes and PAP level a rule allows.
//   - Granular markings (STIX 2.1 §7.2.3): a property marked more
//     restrictively than the recipient may see is removed rather than the
//     whole object withheld.
//   - Closed references: a relationship, sighting, report, note, opinion or
//     grouping goes only if every object it references could go.
//   - No onward transfer: an object received from a party goes to a third
//     party only if that party's rule allows onward transfer.
//   - Revocations follow the object they revoke.
//   - The TLP and PAP marking definitions are published standards: they go
//     to any party a rule covers, and references to them are always closed.
//
// The shape follows upspin's access.Can: the agreement is compiled once and
// whatever Decide must know beyond the object (where it came from, what it
// references, what was released before) is injected through Context.
package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/stix"
)

// Policy is an agreement compiled for one party's node: the rules that
// party sends under, and those it received data under, in a form that
// Decide reads without building anything per call. A Policy is immutable
// and safe for concurrent use.
type Policy struct {
	self    string
	parties map[string]bool
	out     map[string]*rule // rules from self, by recipient party
	in      map[string]*rule // rules to self, by sending party
}

// rule is an agreement.Rule prepared for Decide.
type rule struct {
	id            string
	types         map[string]bool
	tlp, unmarked stix.TLP
	pap           agreement.PAP
	orgs          []string
	individuals   []string
	labels        []string // exclusion lists are short: scanning beats hashing
	capabilities  []string
	sightingsBack bool
	onward        bool
	conditions    *agreement.Conditions
}

// Compile prepares the agreement a for Decide on a node of party self.
// The agreement must come from agreement.Parse; verify its signatures and
// validity before compiling it.
func Compile(a *agreement.Agreement, self string) (*Policy, error) {
	if _, ok := a.Party(self); !ok {
		return nil, fmt.Errorf("policy: %q is not a party to agreement %q", self, a.ID)
	}
	p := &Policy{self: self, parties: map[string]bool{}, out: map[string]*rule{}, in: map[string]*rule{}}
	for _, party := range a.Parties {
		p.parties[party.ID] = true
	}
	for i := range a.Rules {
		r, err := compileRule(&a.Rules[i])
		if err != nil {
			return nil, err
		}
		switch self {
		case a.Rules[i].From:
			p.out[a.Rules[i].To] = r
		case a.Rules[i].To:
			p.in[a.Rules[i].From] = r
		}
	}
	return p, nil
}

func compileRule(ar *agreement.Rule) (*rule, error) {
	r := &rule{
		id:            ar.ID,
		types:         set(ar.Types),
		orgs:          slices.Clone(ar.Organizations),
		individuals:   slices.Clone(ar.Individuals),
		labels:        slices.Clone(ar.ExcludeLabels),
		capabilities:  slices.Clone(ar.ExcludeCapabilities),
		sightingsBack: ar.SightingsToOriginator,
		onward:        ar.OnwardTransfer,
		unmarked:      stix.TLPRed,
	}
	c := ar.Conditions
	c.Purposes = slices.Clone(c.Purposes)
	r.conditions = &c
	var ok bool
	if r.tlp, ok = stix.ParseTLP(ar.TLP); !ok {
		return nil, fmt.Errorf("policy: rule %q: invalid tlp %q", ar.ID, ar.TLP)
	}
	if ar.Unmarked != "" {
		if r.unmarked, ok = stix.ParseTLP(ar.Unmarked); !ok {
			return nil, fmt.Errorf("policy: rule %q: invalid unmarked %q", ar.ID, ar.Unmarked)
		}
	}
	if r.pap, ok = agreement.ParsePAP(ar.PAP); !ok {
		return nil, fmt.Errorf("policy: rule %q: invalid pap %q", ar.ID, ar.PAP)
	}
	return r, nil
}

func set(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

// Self returns the party whose node the policy decides for.
func (p *Policy) Self() string { return p.self }

// Recipient is who would receive an object: a party, and within it the
// organisation (one of its authorities) and, for TLP:RED, the individual.
// A partner node receives as the authority that operates it.
type Recipient struct {
	Party        string
	Organization string
	Individual   string
}

// Ref is an object Context.Lookup found, with the party it was received
// from ("" when this node's party originated it).
type Ref struct {
	Object       *stix.Object
	ReceivedFrom string
}

// Context is what Decide needs to know beyond the object itself. The node
// fills it from its store and ledger.
type Context struct {
	// ReceivedFrom is the party the object was received from, or "" when
	// this node's party originated it.
	ReceivedFrom string
	// Lookup finds a referenced object by id: ok is false when no such
	// object is held. An error means it could not be looked up (a store
	// outage); Decide then decides nothing and returns it, since neither
	// a deny nor an allow would be the agreement's answer. Without Lookup,
	// no object with references can be released.
	Lookup func(id string) (ref Ref, ok bool, err error)
	// Released reports whether an earlier version of the object with the
	// given id was released to the recipient. A revocation goes only where
	// the revoked object went. When Released is nil, a revocation is
	// decided like any other object.
	Released func(id string) bool

	err error // the first error of Lookup, set by Decide
}

// Verdict is what Decide allows.
type Verdict uint8

// Verdicts. The zero value denies.
const (
	Deny   Verdict = iota
	Allow          // send the object as it is
	Redact         // send the object without the properties in Decision.Redact
)

// String returns "allow", "deny" or "redact".
func (v Verdict) String() string {
	switch v {
	case Allow:
		return "allow"
	case Redact:
		return "redact"
	}
	return "deny"
}

// Decision is the outcome of Decide.
type Decision struct {
	Verdict Verdict
	// Rule is the id of the agreement rule that decided, or "" when no
	// rule applies to the recipient.
	Rule string
	// Code says which check decided, and Subject what it was about (a type,
	// a label, a party, a marking or a referenced object's id).
	Code    Code
	Subject string
	// Inner is the code that denied a referenced object (Code Reference).
	Inner Code
	// Conditions are the handling conditions to attach to the disclosure.
	// They are nil when the verdict is Deny and must not be modified.
	Conditions *agreement.Conditions
	// Redact lists the top-level properties to remove (Verdict Redact).
	Redact []string
	// TLP and PAP are the object's effective levels, when Decide got far
	// enough to read them.
	TLP stix.TLP
	PAP agreement.PAP
}

// Code names the check that decided.
type Code uint8

// Codes. Each Deny names the check that failed.
const (
	CodeAllowed Code = iota
	CodeRedacted
	CodeUnknownRecipient
	CodeNoRule
	CodeMalformed
	CodeNotReleased
	CodeUnknownOrigin
	CodeOnwardTransfer
	CodeOnwardTLP
	CodeSightingsBack
	CodeType
	CodeTLP
	CodeOrganization
	CodeIndividual
	CodePAP
	CodeLabel
	CodeCapability
	CodeReference
	CodeReferenceMissing
	CodeReferenceDepth
	CodeMarkedRequired
)

// Reason explains the decision in a sentence that names the deciding rule.
func (d Decision) Reason() string {
	in := ""
	if d.Rule != "" {
		in = fmt.Sprintf(" (rule %s)", d.Rule)
	}
	return d.Code.explain(d) + in
}

func (c Code) explain(d Decision) string {
	switch c {
	case CodeAllowed:
		return "the rule allows it"
	case CodeRedacted:
		return "the rule allows it without the properties marked beyond what the recipient may see: " + strings.Join(d.Redact, ", ")
	case CodeUnknownRecipient:
		return fmt.Sprintf("%q is not another party to the agreement", d.Subject)
	case CodeNoRule:
		return fmt.Sprintf("no rule lets this party send to %q", d.Subject)
	case CodeMalformed:
		return fmt.Sprintf("the object's %s is malformed, so its markings cannot be trusted", d.Subject)
	case CodeNotReleased:
		return "it revokes an object that was never released to the recipient"
	case CodeUnknownOrigin:
		return fmt.Sprintf("it was received from %q, which has no rule towards this party", d.Subject)
	case CodeOnwardTransfer:
		return fmt.Sprintf("it was received from %q, whose rule does not allow onward transfer", d.Subject)
	case CodeOnwardTLP:
		return fmt.Sprintf("it was received from %q at %s, which is never forwarded", d.Subject, d.TLP)
	case CodeSightingsBack:
		return fmt.Sprintf("it is a sighting of %q's data, and %q's rule does not let sightings flow back", d.Subject, d.Subject)
	case CodeType:
		return fmt.Sprintf("type %q is not among the types the rule allows", d.Subject)
	case CodeTLP:
		return fmt.Sprintf("%s is above the rule's TLP ceiling", d.TLP)
	case CodeOrganization:
		return fmt.Sprintf("%s goes only to the organisations the rule names, and %q is not one", d.TLP, d.Subject)
	case CodeIndividual:
		return fmt.Sprintf("TLP:RED goes only to the individuals the rule names, and %q is not one", d.Subject)
	case CodePAP:
		return fmt.Sprintf("%s is above the rule's PAP ceiling", d.PAP)
	case CodeLabel:
		return fmt.Sprintf("label %q is excluded", d.Subject)
	case CodeCapability:
		return fmt.Sprintf("capability %q is excluded", d.Subject)
	case CodeReference:
		return fmt.Sprintf("it references %s, which cannot be released (its %s check fails)", d.Subject, d.Inner)
	case CodeReferenceMissing:
		return fmt.Sprintf("it references %s, which is not available to check", d.Subject)
	case CodeReferenceDepth:
		return fmt.Sprintf("its references nest deeper than %d objects at %s", maxDepth, d.Subject)
	case CodeMarkedRequired:
		return fmt.Sprintf("its required property %q is marked beyond what the recipient may see, so it cannot be redacted", d.Subject)
	}
	return "denied"
}

var codeNames = [...]string{
	CodeAllowed:          "allowed",
	CodeRedacted:         "redacted",
	CodeUnknownRecipient: "recipient",
	CodeNoRule:           "rule",
	CodeMalformed:        "markings",
	CodeNotReleased:      "revocation",
	CodeUnknownOrigin:    "origin",
	CodeOnwardTransfer:   "onward-transfer",
	CodeOnwardTLP:        "onward-tlp",
	CodeSightingsBack:    "sightings",
	CodeType:             "type",
	CodeTLP:              "tlp",
	CodeOrganization:     "tlp-organization",
	CodeIndividual:       "tlp-individual",
	CodePAP:              "pap",
	CodeLabel:            "label",
	CodeCapability:       "capability",
	CodeReference:        "reference",
	CodeReferenceMissing: "reference-missing",
	CodeReferenceDepth:   "reference-depth",
	CodeMarkedRequired:   "granular-marking",
}

// String returns a short stable name for the check ("tlp", "onward-transfer").
func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", c)
}

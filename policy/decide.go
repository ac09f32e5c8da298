package policy

import (
	"fmt"
	"strings"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/stix"
)

// maxDepth bounds how deep Decide follows references (a report of a
// grouping of relationships ...). Deeper nesting is denied rather than
// followed, which also ends reference cycles.
const maxDepth = 8

// Decide decides whether the node of p's party may send object o to
// recipient to. It denies whatever the agreement does not allow. It is
// pure and deterministic, and on a plain allow or deny it does not
// allocate.
//
// If ctx.Lookup fails, Decide returns its error (wrapped) and the zero
// Decision: the caller must not release the object, and must not report
// it as denied either, since the agreement may allow it.
func Decide(p *Policy, to Recipient, o *stix.Object, ctx Context) (Decision, error) {
	d := p.decide(to, o, ctx.ReceivedFrom, &ctx, 0)
	if ctx.err != nil {
		return Decision{}, fmt.Errorf("policy: deciding on %s: %w", o.ID, ctx.err)
	}
	return d, nil
}

func (p *Policy) decide(to Recipient, o *stix.Object, from string, ctx *Context, depth int) Decision {
	if to.Party == p.self || !p.parties[to.Party] {
		return Decision{Code: CodeUnknownRecipient, Subject: to.Party}
	}
	r := p.out[to.Party]
	if r == nil {
		return Decision{Code: CodeNoRule, Subject: to.Party}
	}
	if o.Type == "marking-definition" && publicMarking(o.ID) {
		// Objects that carry these markings reference their definitions,
		// which are published standards.
		return Decision{Verdict: Allow, Rule: r.id, Code: CodeAllowed, Conditions: r.conditions}
	}
	tlp, pap, bad := markings(o)
	if bad != "" {
		return Decision{Rule: r.id, Code: CodeMalformed, Subject: bad}
	}
	if tlp == stix.TLPNone {
		tlp = r.unmarked
	}
	d := Decision{Rule: r.id, TLP: tlp, PAP: pap}

	if revoked, _ := o.Props["revoked"].(bool); revoked && ctx.Released != nil && !ctx.Released(o.ID) {
		d.Code = CodeNotReleased
		return d
	}

	// Data goes back to the party it came from as if this party sent it;
	// to anyone else, only as the originator's rule allows.
	if from != "" && from != p.self && from != to.Party {
		in := p.in[from]
		switch {
		case in == nil:
			d.Code, d.Subject = CodeUnknownOrigin, from
			return d
		case !in.onward:
			d.Rule, d.Code, d.Subject = in.id, CodeOnwardTransfer, from
			return d
		case tlp >= stix.TLPAmber:
			d.Rule, d.Code, d.Subject = in.id, CodeOnwardTLP, from
			return d
		}
	}

	if origin, ok := sightingOrigin(o, ctx); ok && origin == to.Party {
		// A sighting of the recipient's own data goes back only if the
		// recipient's rule lets sightings flow back to it.
		if in := p.in[origin]; in == nil || !in.sightingsBack {
			d.Code, d.Subject = CodeSightingsBack, origin
			if in != nil {
				d.Rule = in.id
			}
			return d
		}
	} else if !r.types[o.Type] {
		d.Code, d.Subject = CodeType, o.Type
		return d
	}

	if c, subject := r.admitsTLP(tlp, to); c != CodeAllowed {
		d.Code, d.Subject = c, subject
		return d
	}
	if pap > r.pap {
		d.Code = CodePAP
		return d
	}
	if c, subject := r.excludes(o); c != CodeAllowed {
		d.Code, d.Subject = c, subject
		return d
	}

	for _, prop := range refProps(o.Type) {
		if c, id, inner := p.checkRefs(to, o.Props[prop], ctx, depth); c != CodeAllowed {
			d.Code, d.Subject, d.Inner = c, id, inner
			return d
		}
	}

	d.Conditions = r.conditions
	redact, c, subject := p.granular(o, r, to)
	switch {
	case c != CodeAllowed:
		d.Code, d.Subject, d.Conditions = c, subject, nil
	case len(redact) > 0:
		d.Verdict, d.Code, d.Redact = Redact, CodeRedacted, redact
	default:
		d.Verdict, d.Code = Allow, CodeAllowed
	}
	return d
}

// admitsTLP checks the recipient against TLP 2.0 at level t.
func (r *rule) admitsTLP(t stix.TLP, to Recipient) (Code, string) {
	switch {
	case t > r.tlp:
		return CodeTLP, ""
	case t == stix.TLPRed:
		if !contains(r.individuals, to.Individual) {
			return CodeIndividual, to.Individual
		}
	case t >= stix.TLPAmber:
		if !contains(r.orgs, to.Organization) {
			return CodeOrganization, to.Organization
		}
	}
	return CodeAllowed, ""
}

// contains is slices.Contains that never matches the empty string, so that
// a recipient with no organisation or individual matches no name.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s && s != "" {
			return true
		}
	}
	return false
}

// excludes checks the rule's excluded labels and capability classes.
func (r *rule) excludes(o *stix.Object) (Code, string) {
	for _, prop := range [...]struct {
		name     string
		excluded []string
		code     Code
	}{{"labels", r.labels, CodeLabel}, {"capabilities", r.capabilities, CodeCapability}} {
		if len(prop.excluded) == 0 {
			continue // nothing to exclude; skip the lookup on the hot path
		}
		v, ok := o.Props[prop.name]
		if !ok {
			continue
		}
		list, ok := v.([]any)
		if !ok {
			return CodeMalformed, prop.name
		}
		for _, x := range list {
			s, ok := x.(string)
			if !ok {
				return CodeMalformed, prop.name
			}
			if contains(prop.excluded, s) {
				return prop.code, s
			}
		}
	}
	return CodeAllowed, ""
}

// markings reads the object-level TLP and PAP: the most restrictive of each
// among object_marking_refs. bad names a malformed property.
func markings(o *stix.Object) (tlp stix.TLP, pap agreement.PAP, bad string) {
	v, ok := o.Props["object_marking_refs"]
	if !ok {
		return stix.TLPNone, agreement.PAPNone, ""
	}
	list, ok := v.([]any)
	if !ok {
		return 0, 0, "object_marking_refs"
	}
	for _, x := range list {
		id, ok := x.(string)
		if !ok {
			return 0, 0, "object_marking_refs"
		}
		if t, ok := stix.TLPOf(id); ok {
			tlp = max(tlp, t)
		} else if p, ok := agreement.PAPOf(id); ok {
			pap = max(pap, p)
		}
	}
	return tlp, pap, ""
}

// refProps lists the properties through which an object of type t
// references the objects it is about.
func refProps(t string) []string {
	switch t {
	case "relationship":
		return []string{"source_ref", "target_ref"}
	case "sighting":
		return []string{"sighting_of_ref", "observed_data_refs", "where_sighted_refs"}
	case "report", "note", "opinion", "grouping":
		return []string{"object_refs"}
	}
	return nil
}

// checkRefs checks that every object referenced by v (an id or a list of
// ids) could be released to the recipient.
func (p *Policy) checkRefs(to Recipient, v any, ctx *Context, depth int) (Code, string, Code) {
	switch v := v.(type) {
	case nil:
		return CodeAllowed, "", 0
	case string:
		return p.checkRef(to, v, ctx, depth)
	case []any:
		for _, x := range v {
			id, ok := x.(string)
			if !ok {
				return CodeMalformed, "references", 0
			}
			if c, id, inner := p.checkRef(to, id, ctx, depth); c != CodeAllowed {
				return c, id, inner
			}
		}
		return CodeAllowed, "", 0
	}
	return CodeMalformed, "references", 0
}

func (p *Policy) checkRef(to Recipient, id string, ctx *Context, depth int) (Code, string, Code) {
	if publicMarking(id) {
		return CodeAllowed, "", 0
	}
	if depth >= maxDepth {
		return CodeReferenceDepth, id, 0
	}
	if ctx.Lookup == nil {
		return CodeReferenceMissing, id, 0
	}
	ref, ok := ctx.lookup(id)
	if !ok || ref.Object == nil {
		return CodeReferenceMissing, id, 0
	}
	if ref.ReceivedFrom == to.Party {
		return CodeAllowed, "", 0 // the recipient sent it, so it has it
	}
	if d := p.decide(to, ref.Object, ref.ReceivedFrom, ctx, depth+1); d.Verdict == Deny {
		return CodeReference, id, d.Code
	}
	return CodeAllowed, "", 0
}

// publicMarking reports whether id is a TLP or PAP marking definition,
// which anyone may have.
func publicMarking(id string) bool {
	if _, ok := stix.TLPOf(id); ok {
		return true
	}
	_, ok := agreement.PAPOf(id)
	return ok
}

// sightingOrigin returns the party the sighted object was received from.
func sightingOrigin(o *stix.Object, ctx *Context) (string, bool) {
	if o.Type != "sighting" || ctx.Lookup == nil {
		return "", false
	}
	id, _ := o.Props["sighting_of_ref"].(string)
	ref, ok := ctx.lookup(id)
	if !ok || ref.ReceivedFrom == "" {
		return "", false
	}
	return ref.ReceivedFrom, true
}

// granular finds the properties marked, through granular_markings, more
// restrictively than the recipient may see. It returns their top-level
// names, or the code of a denial when one of them cannot be removed.
//
// A whole top-level property is removed even when a selector names a part
// of it: removing one list element would shift the indices that other
// selectors use, and over-redacting never leaks.
func (p *Policy) granular(o *stix.Object, r *rule, to Recipient) (redact []string, c Code, subject string) {
	v, ok := o.Props["granular_markings"]
	if !ok {
		return nil, CodeAllowed, ""
	}
	list, ok := v.([]any)
	if !ok {
		return nil, CodeMalformed, "granular_markings"
	}
	for _, x := range list {
		gm, ok := x.(map[string]any)
		if !ok {
			return nil, CodeMalformed, "granular_markings"
		}
		ref, _ := gm["marking_ref"].(string)
		withheld := false
		if t, ok := stix.TLPOf(ref); ok {
			c, _ := r.admitsTLP(t, to)
			withheld = c != CodeAllowed
		} else if pl, ok := agreement.PAPOf(ref); ok {
			withheld = pl > r.pap
		}
		if !withheld {
			continue
		}
		sels, ok := gm["selectors"].([]any)
		if !ok || len(sels) == 0 {
			return nil, CodeMalformed, "granular_markings"
		}
		for _, s := range sels {
			sel, ok := s.(string)
			if !ok || sel == "" {
				return nil, CodeMalformed, "granular_markings"
			}
			top, _, _ := strings.Cut(sel, ".")
			if required(o.Type, top) {
				return nil, CodeMarkedRequired, top
			}
			if _, present := o.Props[top]; present && !contains(redact, top) {
				redact = append(redact, top)
			}
		}
	}
	return redact, CodeAllowed, ""
}

// lookup calls Lookup, keeping its first error in ctx.err. Once a lookup
// has failed, every later one reports the object missing, so that the
// decision ends quickly; Decide then returns the error, not the decision.
func (ctx *Context) lookup(id string) (Ref, bool) {
	if ctx.err != nil {
		return Ref{}, false
	}
	ref, ok, err := ctx.Lookup(id)
	if err != nil {
		ctx.err = err
		return Ref{}, false
	}
	return ref, ok
}

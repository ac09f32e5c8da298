package web

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/node"
)

// routesAgreement registers the agreement page.
func (s *Server) routesAgreement(rt *router) {
	rt.page("GET /ui/agreement", roleReader, s.agreementPage)
}

// agreementView is what agreement.html shows: the agreement the node
// works under, in plain words.
type agreementView struct {
	None bool // the node works under no agreement

	ID, Title           string
	Version, Supersedes int
	Effective, Expires  string
	InForce             bool
	Force               string // "in force until …", or why not
	Self                string // this node's party
	Parties             []partyView
	Rules               []ruleView
	Deadlines           []agreement.Deadline
	Escalation          []agreement.EscalationStep
	Signatures          []signatureView
	AllSigned           bool
	Changes             []changeView
	ChangesNote         string
	PreviousVersion     int
	HasPrevious         bool
}

type partyView struct {
	ID, Name, Jurisdiction string
	Self                   bool
	Authorities            []authorityView
	Nodes                  []nodeView
	CI                     agreement.Infrastructure
	ASNs                   string
	AddressSpace           []string
	RefusalGrounds         string
}

type authorityView struct {
	ID, Name, Roles                      string
	Contact, Email, Phone, Hours, People string
	Always                               bool // a 24/7 contact point
}

type nodeView struct {
	ID, URL, Authority, Log string
	Key, Fingerprint        string
}

type ruleView struct {
	ID, From, To string
	Sentences    []string
}

type signatureView struct {
	Party  string
	OK     bool
	Status string
}

type changeView struct {
	Kind, Section, Path, Old, New string
}

func (s *Server) agreementPage(w http.ResponseWriter, r *http.Request, u *Session) {
	a, _ := s.node.Agreement()
	if a == nil {
		s.render(w, r, u, "agreement.html", agreementView{None: true})
		return
	}
	self, _ := s.node.SelfParty()
	v := agreementView{ID: a.ID, Title: a.Title, Version: a.Version, Supersedes: a.Supersedes,
		Effective: string(a.Validity.Effective), Expires: string(a.Validity.Expires), Self: self,
		Deadlines: a.Deadlines, Escalation: a.Escalation}
	if err := a.InForce(s.now()); err != nil {
		// The reasons agreement.InForce gives, in the catalog's words.
		switch eff, _ := a.Validity.Effective.Time(); {
		case s.now().Before(eff):
			v.Force = u.T("Not in force: it takes effect on %s.", a.Validity.Effective)
		default:
			v.Force = u.T("Not in force: it expired on %s; the parties must sign an amendment that extends it.", a.Validity.Expires)
		}
	} else {
		v.InForce = true
		v.Force = u.T("In force from %s until %s (00:00 UTC).", a.Validity.Effective, a.Validity.Expires)
	}
	v.Signatures, v.AllSigned = signatures(u, a)
	for i := range a.Parties {
		v.Parties = append(v.Parties, partyOf(u, &a.Parties[i], self))
	}
	for i := range a.Rules {
		v.Rules = append(v.Rules, ruleOf(u, a, &a.Rules[i]))
	}
	prev, err := s.node.PreviousAgreement(r.Context())
	switch {
	case err != nil:
		s.log.ErrorContext(r.Context(), "reading the agreement version the one in force amended", "error", err)
		v.ChangesNote = u.T("The version this one amended is stored but could not be read or fails verification; the node's log says why. Run entente ledger verify.")
	case prev != nil:
		v.HasPrevious, v.PreviousVersion = true, prev.Version
		cs, err := agreement.Diff(prev, a)
		if err != nil {
			s.internal(w, r, u, err)
			return
		}
		for _, c := range cs {
			v.Changes = append(v.Changes, changeView{Kind: u.T(c.Kind.String()), Section: u.T(c.Section), Path: c.Path, Old: c.Old, New: c.New})
		}
		if len(cs) == 0 {
			v.ChangesNote = u.T("The content did not change.")
		}
	case a.Supersedes > 0:
		v.ChangesNote = u.T("This version supersedes version %d, which this node does not hold: no earlier version known to this node.", a.Supersedes)
	default:
		v.ChangesNote = u.T("No earlier version known to this node.")
	}
	s.render(w, r, u, "agreement.html", v)
}

// signatures says, per party, whether its signature verifies.
func signatures(u *Session, a *agreement.Agreement) ([]signatureView, bool) {
	failed := map[string]error{}
	err := a.VerifySignatures()
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if err != nil {
		errs = []error{err}
	}
	var other error
	for _, e := range errs {
		var se *agreement.SignatureError
		if errors.As(e, &se) {
			failed[se.Party] = se.Err
		} else {
			other = e
		}
	}
	out := make([]signatureView, len(a.Parties))
	all := other == nil
	for i, p := range a.Parties {
		sv := signatureView{Party: partyName(a, p.ID), OK: true, Status: u.T("verified")}
		switch e, bad := failed[p.ID]; {
		case other != nil:
			sv.OK, sv.Status = false, u.T("could not be checked")
		case bad && errors.Is(e, agreement.ErrUnsigned):
			sv.OK, sv.Status = false, u.T("missing: the party has not signed this version")
		case bad:
			sv.OK, sv.Status = false, u.T("does not match the content")
		}
		all = all && sv.OK
		out[i] = sv
	}
	return out, all
}

func partyOf(u *Session, p *agreement.Party, self string) partyView {
	pv := partyView{ID: p.ID, Name: p.Name, Jurisdiction: p.Jurisdiction, Self: p.ID == self,
		CI: p.Declarations.CriticalInfrastructure, AddressSpace: p.Declarations.AddressSpace,
		RefusalGrounds: strings.Join(p.RefusalGrounds, ", ")}
	asns := make([]string, len(pv.CI.ASNs))
	for i, n := range pv.CI.ASNs {
		asns[i] = "AS" + strconv.FormatInt(n, 10)
	}
	pv.ASNs = strings.Join(asns, ", ")
	for _, au := range p.Authorities {
		people := make([]string, len(au.People))
		for i, pe := range au.People {
			people[i] = pe.Name + " (" + pe.ID + ")"
		}
		pv.Authorities = append(pv.Authorities, authorityView{ID: au.ID, Name: au.Name, Roles: strings.Join(au.Roles, ", "),
			Contact: au.Contact.Name, Email: au.Contact.Email, Phone: au.Contact.Phone, Hours: au.Contact.Hours,
			People: strings.Join(people, ", "), Always: au.Contact.Hours == agreement.Hours24x7})
	}
	for _, n := range p.Nodes {
		pv.Nodes = append(pv.Nodes, nodeView{ID: n.ID, URL: n.URL, Authority: n.Authority, Log: n.Log,
			Key: n.Key, Fingerprint: keyFingerprint(n.Key)})
	}
	return pv
}

// keyFingerprint is the SHA-256 of a signed-note verifier key's public
// key, as colon-separated hex pairs: what an operator reads out to a
// partner to compare keys.
func keyFingerprint(vkey string) string {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) < 2 {
		return ""
	}
	return node.Fingerprint(raw[1:]) // the key without its algorithm byte
}

// ruleOf says what rule r allows, in plain words.
func ruleOf(u *Session, a *agreement.Agreement, r *agreement.Rule) ruleView {
	from, to := partyName(a, r.From), partyName(a, r.To)
	up := strings.ToUpper
	var ss []string
	add := func(s string) { ss = append(ss, s) }
	add(u.T("%s may send %s these STIX types: %s.", from, to, strings.Join(r.Types, ", ")))
	add(u.T("Data marked up to TLP:%s may go; anything marked more restrictively stays home.", up(r.TLP)))
	unmarked := r.Unmarked
	if unmarked == "" {
		unmarked = "red"
	}
	add(u.T("Data without a TLP marking counts as TLP:%s.", up(unmarked)))
	add(u.T("PAP up to PAP:%s.", up(r.PAP)))
	if len(r.Organizations) > 0 {
		add(u.T("TLP:AMBER and TLP:AMBER+STRICT go only to: %s.", strings.Join(r.Organizations, ", ")))
	}
	if len(r.Individuals) > 0 {
		add(u.T("TLP:RED goes only to these individuals: %s.", strings.Join(r.Individuals, ", ")))
	}
	if len(r.ExcludeLabels) > 0 {
		add(u.T("Objects labelled %s stay home.", strings.Join(r.ExcludeLabels, ", ")))
	}
	if len(r.ExcludeCapabilities) > 0 {
		add(u.T("Malware with the capabilities %s stays home.", strings.Join(r.ExcludeCapabilities, ", ")))
	}
	add(u.T("Redactions: a property marked (granular marking) beyond what %s may see is removed before the object goes.", to))
	if r.OnwardTransfer {
		add(u.T("Onward transfer: %s may pass %s's TLP:CLEAR and TLP:GREEN data on to a third party, never TLP:AMBER or RED.", to, from))
	} else {
		add(u.T("Onward transfer: none; %s may pass none of %s's data on to a third party.", to, from))
	}
	if r.SightingsToOriginator {
		add(u.T("%s may send sightings of %s's data back to it.", to, from))
	}
	c := r.Conditions
	conf := u.T("not confidential")
	if c.Confidential {
		conf = u.T("confidential")
	}
	add(u.T("Conditions on every disclosure: %s; purposes: %s; third parties: %s; kept at most %d days.",
		conf, strings.Join(c.Purposes, ", "), c.ThirdParties, c.RetentionDays))
	return ruleView{ID: r.ID, From: from, To: to, Sentences: ss}
}

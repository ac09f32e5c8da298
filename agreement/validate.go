package agreement

import (
	"encoding/base64"
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/entente/entente/stix"
	"golang.org/x/mod/sumdb/note"
)

// Purposes are the uses an agreement may permit. The list is closed so that
// no disclosure can be made for a purpose outside the security of systems
// and the prosecution of crime against them.
var Purposes = []string{
	"network-defence",
	"incident-response",
	"vulnerability-coordination",
	"criminal-investigation",
	"judicial-proceedings",
}

// maxRetentionDays bounds retention to a century, far beyond any real
// agreement, so that a typo cannot mean "forever".
const maxRetentionDays = 36500

type validator struct {
	a    *Agreement
	errs []error
}

func (v *validator) fail(path, fix, format string, args ...any) {
	p := v.a.pos.at(path)
	v.errs = append(v.errs, &Error{Line: p.line, Column: p.column, Path: path, Msg: fmt.Sprintf(format, args...), Fix: fix})
}

func (a *Agreement) validate() []error {
	v := &validator{a: a}
	v.id("agreement", a.ID)
	v.required("title", a.Title)
	if a.Version < 1 {
		v.fail("version", "number the first text 1 and each amendment one more", "version %d is not a positive number", a.Version)
	}
	if a.Supersedes < 0 || (a.Supersedes >= a.Version && a.Version >= 1) {
		v.fail("supersedes", "an amendment supersedes an earlier version; remove the key for the first text",
			"version %d cannot supersede version %d", a.Version, a.Supersedes)
	}
	v.validity()

	if len(a.Parties) < 2 {
		v.fail("parties", "list every party to the agreement", "an agreement needs at least two parties, not %d", len(a.Parties))
	}
	ids := map[string]string{} // authority, person and node ids: first path
	keys := map[string]string{}
	for i := range a.Parties {
		v.party(i, ids, keys)
	}
	v.ledgers()
	v.addressSpaces()

	rules := map[string]string{}
	directions := map[string]string{}
	for i := range a.Rules {
		v.rule(i, rules, directions)
	}
	v.deadlines()
	v.escalation()
	v.signatures()
	return v.errs
}

func (v *validator) required(path, s string) bool {
	if strings.TrimSpace(s) == "" {
		v.fail(path, "fill it in; see the example agreement", "%s is required", lastKey(path))
		return false
	}
	return true
}

// id checks a short identifier: lower-case letters, digits and hyphens.
func (v *validator) id(path, s string) bool {
	if !v.required(path, s) {
		return false
	}
	if !isID(s) {
		v.fail(path, "use lower-case letters, digits and hyphens, starting with a letter (\"borealis-cert\")", "%q is not a valid id", s)
		return false
	}
	return true
}

func isID(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' || s[len(s)-1] == '-' {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func lastKey(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// unique records s under path and reports a duplicate.
func (v *validator) unique(seen map[string]string, path, kind, s string) {
	if first, ok := seen[s]; ok {
		p := v.a.pos.at(first)
		v.fail(path, "give each one its own "+kind, "duplicate %s %q (first used at %d:%d, %s)", kind, s, p.line, p.column, first)
		return
	}
	seen[s] = path
}

func (v *validator) validity() {
	eff, err1 := v.a.Validity.Effective.Time()
	if err1 != nil {
		v.fail("validity.effective", "write the date as YYYY-MM-DD", "%q is not a date", v.a.Validity.Effective)
	}
	exp, err2 := v.a.Validity.Expires.Time()
	if err2 != nil {
		v.fail("validity.expires", "write the date as YYYY-MM-DD", "%q is not a date", v.a.Validity.Expires)
	}
	if err1 == nil && err2 == nil && !exp.After(eff) {
		v.fail("validity.expires", "the expiry must come after the effective date; check both years",
			"expiry %s is not later than the effective date %s", v.a.Validity.Expires, v.a.Validity.Effective)
	}
}

func (v *validator) key(path, key string, keys map[string]string) {
	if !v.required(path, key) {
		return
	}
	if _, err := note.NewVerifier(key); err != nil {
		v.fail(path, "paste the public key that 'entente keygen' printed (name+hash+base64)", "invalid key: %v", err)
		return
	}
	v.unique(keys, path, "key", key)
}

func (v *validator) party(i int, ids, keys map[string]string) {
	p := &v.a.Parties[i]
	path := fmt.Sprintf("parties[%d]", i)
	if v.id(path+".id", p.ID) {
		v.unique(ids, path+".id", "id", p.ID)
	}
	v.required(path+".name", p.Name)
	v.required(path+".jurisdiction", p.Jurisdiction)
	v.key(path+".key", p.Key, keys)

	if len(p.Authorities) == 0 {
		v.fail(path+".authorities", "list at least one competent authority with a 24/7 contact point", "party %q has no authorities", p.ID)
	}
	has24x7 := false
	for j := range p.Authorities {
		au := &p.Authorities[j]
		ap := fmt.Sprintf("%s.authorities[%d]", path, j)
		if v.id(ap+".id", au.ID) {
			v.unique(ids, ap+".id", "id", au.ID)
		}
		v.required(ap+".name", au.Name)
		if len(au.Roles) == 0 {
			v.fail(ap+".roles", "list one or more of cert, law-enforcement, central-authority, diplomatic", "authority %q has no role", au.ID)
		}
		for k, r := range au.Roles {
			if !slices.Contains([]string{RoleCERT, RoleLawEnforcement, RoleCentralAuthority, RoleDiplomatic}, r) {
				v.fail(fmt.Sprintf("%s.roles[%d]", ap, k), "use cert, law-enforcement, central-authority or diplomatic", "unknown role %q", r)
			}
		}
		v.contact(ap+".contact", &au.Contact)
		has24x7 = has24x7 || au.Contact.Hours == Hours24x7
		for k := range au.People {
			pp := fmt.Sprintf("%s.people[%d]", ap, k)
			if v.id(pp+".id", au.People[k].ID) {
				v.unique(ids, pp+".id", "id", au.People[k].ID)
			}
			v.required(pp+".name", au.People[k].Name)
			v.email(pp+".email", au.People[k].Email)
		}
	}
	if len(p.Authorities) > 0 && !has24x7 {
		v.fail(path+".authorities", `set hours: "24/7" on the contact of the authority that is reachable at all times`,
			"party %q has no 24/7 contact point", p.ID)
	}

	for j := range p.Nodes {
		n := &p.Nodes[j]
		np := fmt.Sprintf("%s.nodes[%d]", path, j)
		if v.id(np+".id", n.ID) {
			v.unique(ids, np+".id", "id", n.ID)
		}
		if u, err := url.Parse(n.URL); err != nil || u.Scheme != "https" || u.Host == "" {
			v.fail(np+".url", "write the node's API root as https://host[:port]/path/", "%q is not an https URL", n.URL)
		}
		v.key(np+".key", n.Key, keys)
		if _, ok := p.Authority(n.Authority); !ok {
			v.fail(np+".authority", "name one of the party's own authorities", "%q is not an authority of party %q", n.Authority, p.ID)
		}
	}

	dp := path + ".declarations.critical_infrastructure"
	ci := &p.Declarations.CriticalInfrastructure
	v.prefixes(dp+".cidrs", ci.CIDRs)
	for j, d := range ci.Domains {
		if !isDomain(d) {
			v.fail(fmt.Sprintf("%s.domains[%d]", dp, j), "write a lower-case domain name such as grid.arcadia.example", "%q is not a domain name", d)
		}
	}
	for j, asn := range ci.ASNs {
		if asn < 1 || asn > 4294967294 {
			v.fail(fmt.Sprintf("%s.asns[%d]", dp, j), "write the AS number alone, without \"AS\"", "%d is not an AS number", asn)
		}
	}
	for j, s := range ci.Sectors {
		v.id(fmt.Sprintf("%s.sectors[%d]", dp, j), s)
	}
	v.prefixes(path+".declarations.address_space", p.Declarations.AddressSpace)

	grounds := map[string]string{}
	for j, g := range p.RefusalGrounds {
		gp := fmt.Sprintf("%s.refusal_grounds[%d]", path, j)
		if v.id(gp, g) {
			v.unique(grounds, gp, "refusal ground", g)
		}
	}
	for _, g := range RequiredRefusalGrounds {
		if _, ok := grounds[g]; !ok {
			v.fail(path+".refusal_grounds", "add it: political-offence, essential-interests and human-rights cannot be waived",
				"party %q does not list the refusal ground %q", p.ID, g)
		}
	}
}

func (v *validator) contact(path string, c *Contact) {
	v.required(path+".name", c.Name)
	v.email(path+".email", c.Email)
	if v.required(path+".phone", c.Phone) && !isPhone(c.Phone) {
		v.fail(path+".phone", "write it in international form, such as \"+999 555 0100\"", "%q is not a phone number", c.Phone)
	}
	v.required(path+".hours", c.Hours)
}

func (v *validator) email(path, s string) {
	if !v.required(path, s) {
		return
	}
	if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
		v.fail(path, "write a bare address such as duty@cert.arcadia.example", "%q is not an e-mail address", s)
	}
}

func isPhone(s string) bool {
	if !strings.HasPrefix(s, "+") {
		return false
	}
	digits := 0
	for _, c := range s[1:] {
		switch {
		case '0' <= c && c <= '9':
			digits++
		case c == ' ' || c == '-' || c == '(' || c == ')':
		default:
			return false
		}
	}
	return digits >= 5 && digits <= 15
}

func isDomain(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return strings.Contains(s, ".")
}

// prefixes checks a list of CIDR prefixes: each valid, written in its
// canonical form, and none overlapping another.
func (v *validator) prefixes(path string, list []string) {
	parsed := make([]netip.Prefix, len(list))
	for i, s := range list {
		pp := fmt.Sprintf("%s[%d]", path, i)
		p, err := netip.ParsePrefix(s)
		if err != nil {
			v.fail(pp, "write an address and prefix length such as 198.51.100.0/24 or 2001:db8::/32", "%q is not a CIDR prefix", s)
			continue
		}
		if p.Masked() != p {
			v.fail(pp, fmt.Sprintf("write %s", p.Masked()), "%q has bits set beyond the prefix length", s)
			continue
		}
		parsed[i] = p
		for j := range i {
			if parsed[j].IsValid() && parsed[j].Overlaps(p) {
				v.fail(pp, "remove the smaller prefix or split the larger one", "%s overlaps %s (%s[%d])", p, parsed[j], path, j)
			}
		}
	}
}

// addressSpaces checks that no two parties answer for the same addresses.
func (v *validator) addressSpaces() {
	type owned struct {
		p    netip.Prefix
		path string
	}
	var all []owned
	for i := range v.a.Parties {
		for j, s := range v.a.Parties[i].Declarations.AddressSpace {
			p, err := netip.ParsePrefix(s)
			if err != nil || p.Masked() != p {
				continue // reported by prefixes
			}
			path := fmt.Sprintf("parties[%d].declarations.address_space[%d]", i, j)
			for _, o := range all {
				if o.p.Overlaps(p) && !strings.HasPrefix(o.path, fmt.Sprintf("parties[%d].", i)) {
					v.fail(path, "each address belongs to one jurisdiction; agree which party answers for it",
						"%s overlaps %s declared at %s", p, o.p, o.path)
				}
			}
			all = append(all, owned{p, path})
		}
	}
}

func (v *validator) rule(i int, ids, directions map[string]string) {
	r := &v.a.Rules[i]
	path := fmt.Sprintf("rules[%d]", i)
	if v.id(path+".id", r.ID) {
		v.unique(ids, path+".id", "rule id", r.ID)
	}
	from, okFrom := v.a.Party(r.From)
	if !okFrom {
		v.fail(path+".from", "name a party listed under parties", "unknown party %q", r.From)
	}
	to, okTo := v.a.Party(r.To)
	if !okTo {
		v.fail(path+".to", "name a party listed under parties", "unknown party %q", r.To)
	}
	if okFrom && okTo {
		if from == to {
			v.fail(path+".to", "a rule governs what one party sends another", "rule goes from %q to itself", r.From)
		}
		v.unique(directions, path+".to", "direction", r.From+" → "+r.To)
	}

	if len(r.Types) == 0 {
		v.fail(path+".types", "list the STIX types this direction may carry, such as [indicator, malware]",
			"no types listed, so nothing could be sent")
	}
	types := map[string]string{}
	for j, t := range r.Types {
		tp := fmt.Sprintf("%s.types[%d]", path, j)
		if !isSTIXType(t) {
			v.fail(tp, "write a STIX 2.1 type name such as indicator or x-entente-notification", "%q is not a STIX type name", t)
			continue
		}
		v.unique(types, tp, "type", t)
	}

	ceiling, ok := stix.ParseTLP(r.TLP)
	if !ok {
		v.fail(path+".tlp", "use clear, green, amber, amber+strict or red", "%q is not a TLP 2.0 label", r.TLP)
	}
	if r.Unmarked != "" {
		if _, ok := stix.ParseTLP(r.Unmarked); !ok {
			v.fail(path+".unmarked", "use clear, green, amber, amber+strict or red", "%q is not a TLP 2.0 label", r.Unmarked)
		}
	}
	if _, ok := ParsePAP(r.PAP); !ok {
		v.fail(path+".pap", "use clear, green, amber or red", "%q is not a PAP label", r.PAP)
	}
	if okTo {
		for j, o := range r.Organizations {
			if _, ok := to.Authority(o); !ok {
				v.fail(fmt.Sprintf("%s.organizations[%d]", path, j), fmt.Sprintf("name an authority of party %q", r.To),
					"%q is not an authority of the recipient %q", o, r.To)
			}
		}
		for j, id := range r.Individuals {
			if !hasPerson(to, id) {
				v.fail(fmt.Sprintf("%s.individuals[%d]", path, j), fmt.Sprintf("name a person listed under one of %q's authorities", r.To),
					"%q is not a person of the recipient %q", id, r.To)
			}
		}
	}
	if ceiling >= stix.TLPAmber && len(r.Organizations) == 0 {
		v.fail(path+".organizations", "name the organisations that may receive TLP:AMBER, or lower tlp to green",
			"tlp allows %s but no organisations are named to receive it", ceiling)
	}
	if ceiling == stix.TLPRed && len(r.Individuals) == 0 {
		v.fail(path+".individuals", "name the people who may receive TLP:RED, or lower tlp to amber+strict",
			"tlp allows TLP:RED but no individual recipients are named")
	}
	for j, l := range r.ExcludeLabels {
		v.required(fmt.Sprintf("%s.exclude_labels[%d]", path, j), l)
	}
	for j, c := range r.ExcludeCapabilities {
		v.id(fmt.Sprintf("%s.exclude_capabilities[%d]", path, j), c)
	}

	c := &r.Conditions
	cp := path + ".conditions"
	if len(c.Purposes) == 0 {
		v.fail(cp+".purposes", "list the permitted uses: "+strings.Join(Purposes, ", "), "no permitted use is listed")
	}
	for j, p := range c.Purposes {
		if !slices.Contains(Purposes, p) {
			v.fail(fmt.Sprintf("%s.purposes[%d]", cp, j), "use one of "+strings.Join(Purposes, ", "), "unknown purpose %q", p)
		}
	}
	switch c.ThirdParties {
	case ThirdPartiesWrittenConsent:
	case ThirdPartiesNever:
		if r.OnwardTransfer {
			v.fail(cp+".third_parties", "set it to written-consent, or set onward_transfer to false",
				"onward transfer is allowed but the conditions forbid any third-party disclosure")
		}
	default:
		v.fail(cp+".third_parties", "use written-consent or never", "%q is not a third-party condition", c.ThirdParties)
	}
	if c.RetentionDays < 1 || c.RetentionDays > maxRetentionDays {
		v.fail(cp+".retention_days", fmt.Sprintf("give a number of days from 1 to %d", maxRetentionDays),
			"retention of %d days is out of range", c.RetentionDays)
	}
}

func hasPerson(p *Party, id string) bool {
	for i := range p.Authorities {
		for j := range p.Authorities[i].People {
			if p.Authorities[i].People[j].ID == id {
				return true
			}
		}
	}
	return false
}

// isSTIXType reports whether s is a STIX 2.1 type name (§3.1): 3 to 250
// lower-case ASCII letters, digits and hyphens.
func isSTIXType(s string) bool {
	if len(s) < 3 || len(s) > 250 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func (v *validator) deadlines() {
	seen := map[string]string{}
	for i, d := range v.a.Deadlines {
		path := fmt.Sprintf("deadlines[%d]", i)
		if !slices.Contains(Workflows, d.Workflow) {
			v.fail(path+".workflow", "use one of "+strings.Join(Workflows, ", "), "unknown workflow %q", d.Workflow)
		} else {
			v.unique(seen, path+".workflow", "workflow", d.Workflow)
		}
		if d.AcknowledgeHours < 1 || d.AcknowledgeHours > 24*30 {
			v.fail(path+".acknowledge_hours", "give a number of hours from 1 to 720", "%d hours is out of range", d.AcknowledgeHours)
		}
		if d.AnswerDays < 1 || d.AnswerDays > 365 {
			v.fail(path+".answer_days", "give a number of days from 1 to 365", "%d days is out of range", d.AnswerDays)
		}
		switch {
		case d.Workflow == "preservation-request" && d.PreserveDays < MinPreserveDays:
			v.fail(path+".preserve_days", fmt.Sprintf("preserve data for at least %d days", MinPreserveDays),
				"preservation of %d days is shorter than the minimum", d.PreserveDays)
		case d.Workflow != "preservation-request" && d.PreserveDays != 0:
			v.fail(path+".preserve_days", "remove it; only preservation-request keeps data", "preserve_days does not apply to %s", d.Workflow)
		}
	}
}

func (v *validator) escalation() {
	if len(v.a.Escalation) == 0 {
		v.fail("escalation", "list the levels a stalled request climbs: technical, competent-authority, diplomatic", "no escalation ladder")
	}
	last, lastHours := -1, -1
	for i, s := range v.a.Escalation {
		path := fmt.Sprintf("escalation[%d]", i)
		lvl := slices.Index(EscalationLevels, s.Level)
		switch {
		case lvl < 0:
			v.fail(path+".level", "use technical, competent-authority or diplomatic", "unknown level %q", s.Level)
		case lvl <= last:
			v.fail(path+".level", "list the levels once each, lowest first", "level %q is out of order", s.Level)
		default:
			last = lvl
		}
		if s.AfterHours < 0 || s.AfterHours <= lastHours && i > 0 {
			v.fail(path+".after_hours", "each level must come later than the one before it", "%d hours does not follow %d", s.AfterHours, lastHours)
		}
		lastHours = s.AfterHours
	}
}

func (v *validator) signatures() {
	seen := map[string]string{}
	for i, s := range v.a.Signatures {
		path := fmt.Sprintf("signatures[%d]", i)
		if _, ok := v.a.Party(s.Party); !ok {
			v.fail(path+".party", "name a party listed under parties, or remove the signature", "unknown party %q", s.Party)
		} else {
			v.unique(seen, path+".party", "signature of party", s.Party)
		}
		if _, err := base64.StdEncoding.DecodeString(s.Signature); err != nil {
			v.fail(path+".signature", "re-sign with 'entente agreement sign'", "signature is not base64")
		}
	}
}

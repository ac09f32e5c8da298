// Package agreement reads, validates, signs and verifies the treaty document
// under which Entente nodes exchange threat intelligence.
//
// An agreement is a YAML file (YAML 1.2, https://yaml.org/spec/1.2.2/) decoded
// strictly: every key must be one this package knows, so a clause the format
// does not define cannot be slipped in. It names the parties, their competent
// authorities and 24/7 contact points, their nodes' keys, the sharing rules for
// each direction, the handling conditions attached to every disclosure, each
// party's declared critical infrastructure and address space, the deadlines of
// the treaty workflows and the refusal grounds each party may invoke. The
// format reference is doc/agreement.md; examples/arcadia-borealis.yaml is a
// commented example.
//
// Parties sign the content of the document, not its text: an Ed25519 signature
// (RFC 8032) over the RFC 8785 canonical JSON of everything except the
// signatures block, so reformatting the YAML or editing comments never breaks
// a signature. Keys use the C2SP signed-note format
// (https://c2sp.org/signed-note) so that the same keys sign ledger checkpoints.
//
// By design the format has no rule, category or request type that controls
// speech or content: sharing is about the security of systems, and the
// strict decoder rejects any attempt to add such a clause as an unknown key.
package agreement

import "time"

// Agreement is a decoded and validated agreement document. Obtain one from
// Parse; the zero value is not a valid agreement.
type Agreement struct {
	// ID names the agreement across its versions ("arcadia-borealis-cti").
	ID string `yaml:"agreement" json:"agreement"`
	// Title is the agreement's name as the parties wrote it.
	Title string `yaml:"title" json:"title"`
	// Version numbers the text; each amendment is a new version.
	Version int `yaml:"version" json:"version"`
	// Supersedes is the version this one replaces, or 0 for the first text.
	Supersedes int `yaml:"supersedes,omitempty" json:"supersedes,omitempty"`
	// Validity says when the agreement is in force.
	Validity Validity `yaml:"validity" json:"validity"`
	// Parties are the states bound by the agreement.
	Parties []Party `yaml:"parties" json:"parties,omitempty"`
	// Rules are the sharing rules, one per direction (from, to).
	Rules []Rule `yaml:"rules" json:"rules,omitempty"`
	// Deadlines are the time limits of each treaty workflow.
	Deadlines []Deadline `yaml:"deadlines" json:"deadlines,omitempty"`
	// Escalation is the ladder a stalled request climbs, lowest level first.
	Escalation []EscalationStep `yaml:"escalation" json:"escalation,omitempty"`

	// Signatures are the parties' signatures over the content. They are
	// not part of the signed content.
	Signatures []Signature `yaml:"signatures,omitempty" json:"-"`

	pos positions
}

// Validity is the period in which an agreement is in force.
type Validity struct {
	// Effective is the first day in force (YYYY-MM-DD, from 00:00 UTC).
	Effective Date `yaml:"effective" json:"effective"`
	// Expires is the first day no longer in force (YYYY-MM-DD, from 00:00 UTC).
	Expires Date `yaml:"expires" json:"expires"`
}

// Date is a calendar day written YYYY-MM-DD. It is kept as text so that the
// signed content is exactly what the parties wrote.
type Date string

// Time returns the start of the day in UTC.
func (d Date) Time() (time.Time, error) { return time.Parse(time.DateOnly, string(d)) }

// Party is a state bound by the agreement.
type Party struct {
	// ID is the short name rules and signatures refer to ("arcadia").
	ID string `yaml:"id" json:"id"`
	// Name is the state's official name.
	Name string `yaml:"name" json:"name"`
	// Jurisdiction names the territory whose law the party applies.
	Jurisdiction string `yaml:"jurisdiction" json:"jurisdiction"`
	// Key is the party's signing key, a C2SP signed-note verifier key
	// ("arcadia+1a2b3c4d+AQ..."), as printed by entente keygen.
	Key string `yaml:"key" json:"key"`
	// Authorities are the party's competent authorities.
	Authorities []Authority `yaml:"authorities" json:"authorities,omitempty"`
	// Nodes are the Entente nodes the party runs.
	Nodes []Node `yaml:"nodes" json:"nodes,omitempty"`
	// Declarations are the party's protected infrastructure and address space.
	Declarations Declarations `yaml:"declarations" json:"declarations"`
	// RefusalGrounds are the grounds on which the party may refuse a request.
	RefusalGrounds []string `yaml:"refusal_grounds" json:"refusal_grounds,omitempty"`
}

// Authority roles.
const (
	RoleCERT             = "cert"
	RoleLawEnforcement   = "law-enforcement"
	RoleCentralAuthority = "central-authority"
	RoleDiplomatic       = "diplomatic"
)

// Authority is a competent authority of a party: an organisation that may
// receive data under the agreement.
type Authority struct {
	// ID names the authority in rules ("borealis-cert").
	ID string `yaml:"id" json:"id"`
	// Name is the authority's official name.
	Name string `yaml:"name" json:"name"`
	// Roles are what the authority is competent for: cert, law-enforcement,
	// central-authority or diplomatic.
	Roles []string `yaml:"roles" json:"roles,omitempty"`
	// Contact is the authority's point of contact.
	Contact Contact `yaml:"contact" json:"contact"`
	// People are the individuals who may receive TLP:RED.
	People []Person `yaml:"people,omitempty" json:"people,omitempty"`
}

// Contact is a point of contact. Hours "24/7" makes it a 24/7 contact point.
type Contact struct {
	// Name is the desk or function to ask for ("CERT duty officer").
	Name string `yaml:"name" json:"name"`
	// Email is a bare address.
	Email string `yaml:"email" json:"email"`
	// Phone is in international form ("+999 555 0100").
	Phone string `yaml:"phone" json:"phone"`
	// Hours says when the contact answers: "24/7", or the office hours.
	Hours string `yaml:"hours" json:"hours"`
}

// Hours24x7 is the value of Contact.Hours for a point reachable at all times.
const Hours24x7 = "24/7"

// Person is a named individual recipient.
type Person struct {
	// ID names the person in rules.
	ID string `yaml:"id" json:"id"`
	// Name is the person's name or function.
	Name string `yaml:"name" json:"name"`
	// Email is a bare address.
	Email string `yaml:"email" json:"email"`
}

// Node is an Entente node a party runs.
type Node struct {
	// ID names the node.
	ID string `yaml:"id" json:"id"`
	// URL is the node's TAXII API root; it must be https.
	URL string `yaml:"url" json:"url"`
	// Key is the node's Ed25519 key as a C2SP signed-note verifier key.
	Key string `yaml:"key" json:"key"`
	// Authority is the organisation that operates the node; data sent to the
	// node is received by that organisation.
	Authority string `yaml:"authority" json:"authority"`
	// Log is the name of the node's ledger: the origin line of its
	// checkpoints (C2SP tlog-checkpoint), a schema-less URL unique in the
	// agreement ("cti.cert.arcadia.example/ledger").
	Log string `yaml:"log" json:"log"`
	// WitnessKey is the key the node cosigns its partners' checkpoints
	// with, a C2SP tlog-cosignature verifier key (type 0x04) as entente
	// keygen and entente serve print it.
	WitnessKey string `yaml:"witness_key" json:"witness_key"`
	// Witnesses cosign the node's checkpoints.
	Witnesses []Witness `yaml:"witnesses,omitempty" json:"witnesses,omitempty"`
	// WitnessThreshold is how many of Witnesses must cosign a checkpoint
	// before partners rely on it: the policy "k of these n".
	WitnessThreshold int `yaml:"witness_threshold,omitempty" json:"witness_threshold,omitempty"`
}

// Witness is a witness of a node's log: another node of the agreement, or
// a third party (a neutral state, an international organisation) running
// any C2SP tlog-witness.
type Witness struct {
	// Node names a node of the agreement; its witness_key cosigns, and it
	// answers at its URL's host under /ledger/. Leave Name, Key and URL
	// empty then.
	Node string `yaml:"node,omitempty" json:"node,omitempty"`
	// Name says who runs a third-party witness.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Key is a third-party witness's verifier key: type 0x04
	// (tlog-cosignature) or an Ed25519 key (type 0x01) it cosigns with.
	Key string `yaml:"key,omitempty" json:"key,omitempty"`
	// URL is a third-party witness's https prefix; it answers
	// add-checkpoint requests at URL + "add-checkpoint". Plain http is
	// accepted to a loopback address only.
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
}

// Declarations are what a party declares about its networks.
type Declarations struct {
	// CriticalInfrastructure is the infrastructure the party declares protected.
	CriticalInfrastructure Infrastructure `yaml:"critical_infrastructure" json:"critical_infrastructure"`
	// AddressSpace is the address space of the jurisdiction the party answers for.
	AddressSpace []string `yaml:"address_space" json:"address_space,omitempty"`
}

// Infrastructure identifies networks by prefix, domain, AS number and sector.
type Infrastructure struct {
	// CIDRs are IPv4 and IPv6 prefixes in canonical form.
	CIDRs []string `yaml:"cidrs,omitempty" json:"cidrs,omitempty"`
	// Domains are domain names; each covers its subdomains.
	Domains []string `yaml:"domains,omitempty" json:"domains,omitempty"`
	// ASNs are autonomous system numbers.
	ASNs []int64 `yaml:"asns,omitempty" json:"asns,omitempty"`
	// Sectors are the party's own sector names ("energy").
	Sectors []string `yaml:"sectors,omitempty" json:"sectors,omitempty"`
}

// Rule is what one party may send another. Everything a rule does not allow
// is denied.
type Rule struct {
	// ID names the rule in decisions and their explanations.
	ID string `yaml:"id" json:"id"`
	// From is the sending party.
	From string `yaml:"from" json:"from"`
	// To is the receiving party.
	To string `yaml:"to" json:"to"`
	// Types are the STIX object types that may be sent.
	Types []string `yaml:"types" json:"types,omitempty"`
	// TLP is the most restrictive TLP 2.0 label that may be sent
	// ("clear", "green", "amber", "amber+strict" or "red").
	TLP string `yaml:"tlp" json:"tlp"`
	// Unmarked is the TLP label an object without one is treated as;
	// empty means "red", so an unmarked object goes nowhere by default.
	Unmarked string `yaml:"unmarked,omitempty" json:"unmarked,omitempty"`
	// PAP is the most restrictive PAP label that may be sent
	// ("clear", "green", "amber" or "red").
	PAP string `yaml:"pap" json:"pap"`
	// Organizations are the recipient's authorities that may receive
	// TLP:AMBER and TLP:AMBER+STRICT.
	Organizations []string `yaml:"organizations,omitempty" json:"organizations,omitempty"`
	// Individuals are the recipient's people who may receive TLP:RED.
	Individuals []string `yaml:"individuals,omitempty" json:"individuals,omitempty"`
	// ExcludeLabels are labels that keep an object from being sent.
	ExcludeLabels []string `yaml:"exclude_labels,omitempty" json:"exclude_labels,omitempty"`
	// ExcludeCapabilities are capability classes (values of a malware's
	// "capabilities") that keep an object from being sent.
	ExcludeCapabilities []string `yaml:"exclude_capabilities,omitempty" json:"exclude_capabilities,omitempty"`
	// SightingsToOriginator lets the recipient send back sightings of the
	// sender's objects.
	SightingsToOriginator bool `yaml:"sightings_to_originator,omitempty" json:"sightings_to_originator,omitempty"`
	// OnwardTransfer lets the recipient pass the sender's objects on to a
	// third party. It is false unless the rule says otherwise.
	OnwardTransfer bool `yaml:"onward_transfer,omitempty" json:"onward_transfer,omitempty"`
	// Conditions are attached to every disclosure under the rule.
	Conditions Conditions `yaml:"conditions" json:"conditions"`
}

// Conditions are the handling conditions attached to a disclosure.
type Conditions struct {
	// Confidential requires the recipient to keep the data confidential.
	Confidential bool `yaml:"confidential" json:"confidential"`
	// Purposes are the uses the data may be put to.
	Purposes []string `yaml:"purposes" json:"purposes,omitempty"`
	// ThirdParties says how the recipient may disclose the data to a third
	// party: "written-consent" or "never".
	ThirdParties string `yaml:"third_parties" json:"third_parties"`
	// RetentionDays is how long the recipient may keep the data.
	RetentionDays int `yaml:"retention_days" json:"retention_days"`
}

// Third-party disclosure conditions.
const (
	ThirdPartiesWrittenConsent = "written-consent"
	ThirdPartiesNever          = "never"
)

// Deadline is the time limits of one treaty workflow.
type Deadline struct {
	// Workflow is one of the workflows in Workflows.
	Workflow string `yaml:"workflow" json:"workflow"`
	// AcknowledgeHours is the time to acknowledge receipt.
	AcknowledgeHours int `yaml:"acknowledge_hours" json:"acknowledge_hours"`
	// AnswerDays is the time to give a substantive answer.
	AnswerDays int `yaml:"answer_days" json:"answer_days"`
	// PreserveDays is how long preserved data is kept; preservation
	// requests need at least MinPreserveDays.
	PreserveDays int `yaml:"preserve_days,omitempty" json:"preserve_days,omitempty"`
}

// Workflows are the treaty workflows an agreement can set deadlines for.
// None of them concerns speech or content; see the package documentation.
var Workflows = []string{
	"incident-notification",
	"assistance-request",
	"preservation-request",
	"mutual-legal-assistance",
	"consultation",
}

// MinPreserveDays is the shortest preservation period (Budapest Convention, Art. 29.7).
const MinPreserveDays = 60

// EscalationStep is one level of the escalation ladder.
type EscalationStep struct {
	// Level is "technical", "competent-authority" or "diplomatic".
	Level string `yaml:"level" json:"level"`
	// AfterHours is how long a request may stall before it reaches this level.
	AfterHours int `yaml:"after_hours" json:"after_hours"`
}

// EscalationLevels are the levels of the escalation ladder, lowest first.
var EscalationLevels = []string{"technical", "competent-authority", "diplomatic"}

// RequiredRefusalGrounds are the refusal grounds every party must list: they
// protect people from the misuse of cooperation and cannot be waived.
var RequiredRefusalGrounds = []string{"political-offence", "essential-interests", "human-rights"}

// Signature is one party's signature over the agreement's content.
type Signature struct {
	// Party is the id of the signing party.
	Party string `yaml:"party"`
	// Signature is the base64 Ed25519 signature.
	Signature string `yaml:"signature"`
}

// Party returns the party with the given id.
func (a *Agreement) Party(id string) (*Party, bool) {
	for i := range a.Parties {
		if a.Parties[i].ID == id {
			return &a.Parties[i], true
		}
	}
	return nil, false
}

// Rule returns the rule for the direction from → to.
func (a *Agreement) Rule(from, to string) (*Rule, bool) {
	for i := range a.Rules {
		if a.Rules[i].From == from && a.Rules[i].To == to {
			return &a.Rules[i], true
		}
	}
	return nil, false
}

// Node returns the node with the given id and the party that runs it.
func (a *Agreement) Node(id string) (*Party, *Node, bool) {
	for i := range a.Parties {
		for j := range a.Parties[i].Nodes {
			if a.Parties[i].Nodes[j].ID == id {
				return &a.Parties[i], &a.Parties[i].Nodes[j], true
			}
		}
	}
	return nil, nil, false
}

// Deadline returns the deadlines of a workflow.
func (a *Agreement) Deadline(workflow string) (Deadline, bool) {
	for _, d := range a.Deadlines {
		if d.Workflow == workflow {
			return d, true
		}
	}
	return Deadline{}, false
}

// Authority returns the party's authority with the given id.
func (p *Party) Authority(id string) (*Authority, bool) {
	for i := range p.Authorities {
		if p.Authorities[i].ID == id {
			return &p.Authorities[i], true
		}
	}
	return nil, false
}

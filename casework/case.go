package casework

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/stix"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"
)

// Case is one case: a treaty obligation between two parties, with its
// state and clocks. A Case is a value: Step returns a new one and never
// changes the one it is given, and the field structs it points to are
// shared between versions and never modified.
type Case struct {
	// ID is the STIX id of the case's SDO ("entente-consultation--<UUID>").
	ID    string
	Type  Type
	State State
	// Agreement is the id of the agreement the case runs under.
	Agreement string
	// From is the party that opened the case, To the party it is addressed to.
	From, To string
	// Created is when the case was opened; Modified when it last changed,
	// and Actor the party that changed it.
	Created, Modified time.Time
	Actor             string
	// Event is the step that made this version; zero for a new draft.
	Event EventKind
	// TLP is the TLP 2.0 label of the case object.
	TLP stix.TLP

	// The clocks' anchors: when the case was sent (its clocks start),
	// first acknowledged, and first answered in substance.
	Sent, Acknowledged, Answered time.Time
	// Level is how far up the escalation ladder the case has been taken:
	// 0 not escalated, i the agreement's i-th level.
	Level int
	// Ground is the refusal ground given when the case was refused or
	// declined.
	Ground string
	// Partial says assistance or preservation was given in part only.
	Partial bool
	// Note is free text attached to the last step.
	Note string
	// Flags are what the content screen found in the case's free text; a
	// flagged case waits for an operator. They are recomputed on decoding,
	// never trusted from the sender: those of the fields and action items,
	// and those of the last step's note.
	Flags Flags
	base  Flags // those of the fields and action items

	// Exactly one of these is set, the one of the case's type.
	Incident     *Incident
	Assistance   *Assistance
	Preservation *Preservation
	Consultation *Consultation
	Reachability *Reachability
	Declaration  *Declaration

	// Stage of an incident notification.
	Stage Stage
	// Until is when preserved data may be deleted (preservation), or when
	// the agreed meeting is (consultation).
	Until time.Time
	// Extensions counts the extensions of a preservation.
	Extensions int
	// Link is the reference of the mutual legal assistance request a
	// preservation now waits for, or of a consultation's minutes.
	Link string
	// ProposedBy is the party whose proposal of a meeting time stands,
	// made at ProposedAt; Held is when the meeting took place.
	ProposedBy       string
	ProposedAt, Held time.Time
	// Approvals are the parties that approved the minutes: bit 0 the
	// initiator, bit 1 the recipient.
	Approvals uint8
	// Actions are a consultation's action items; the slice is replaced,
	// never modified in place.
	Actions []ActionItem
	// Reconfirmed is when a declaration was last declared or re-confirmed.
	Reconfirmed time.Time
}

// Stage is the stage of an incident notification (NIS2 art. 23 staging).
type Stage uint8

const (
	StageEarlyWarning Stage = iota + 1
	StageNotification
	StageUpdate
	StageFinal
)

var stageNames = [...]string{StageEarlyWarning: "early-warning", StageNotification: "notification", StageUpdate: "update", StageFinal: "final"}

func (s Stage) String() string {
	if s > 0 && int(s) < len(stageNames) {
		return stageNames[s]
	}
	return ""
}

func parseStage(name string) (Stage, bool) {
	for i, n := range stageNames {
		if n != "" && n == name {
			return Stage(i), true
		}
	}
	return 0, false
}

// ActionItem is an action agreed at a consultation.
type ActionItem struct {
	// Owner is the party that must act.
	Owner string `json:"owner"`
	// Due is its deadline.
	Due time.Time `json:"due"`
	// Text says what is to be done.
	Text string `json:"text"`
	// Done is when the owner completed it; zero while open.
	Done time.Time `json:"done,omitzero"`
}

// Closed lists. Nothing outside them can be said, and none of them
// concerns content or speech (doc/casework.md, "The content boundary").
var (
	// Categories are the classes of the reference incident taxonomy
	// (RSIT) that concern the security of systems. "abusive-content"
	// (spam, harmful speech) is left out on purpose: speech is not a
	// security incident between states, and genuinely criminal content
	// goes to the judicially supervised channels.
	Categories = []string{"malicious-code", "availability", "information-gathering", "intrusion-attempts",
		"intrusions", "information-content-security", "fraud", "vulnerable", "other"}
	// Severities are ordinal, lowest first (after NCISS).
	Severities = []string{"low", "medium", "high", "severe", "emergency"}
	// RequestedActions are what an incident notification may ask of the
	// recipient: all of them act on systems, none on content.
	RequestedActions = []string{"acknowledge-only", "block-indicators", "investigate-source", "mitigate-activity",
		"share-information", "preserve-data"}
	// AssistanceKinds are the kinds of assistance a request may ask for
	// (GGE 2015 norm 13(h)). "sinkhole" concerns malicious infrastructure
	// (botnet command and control), never published content.
	AssistanceKinds = []string{"mitigate-activity", "technical-analysis", "sinkhole", "information-request", "expert-support"}
	// PreservationPurposes are the agreement purposes a preservation
	// request may serve (Budapest Convention art. 29: a criminal
	// investigation or proceeding).
	PreservationPurposes = []string{"criminal-investigation", "judicial-proceedings"}
	// Channels are how a reachability test reaches its contact point.
	Channels = []string{"node", "email", "phone"}
)

// ciSeverityFloor is the lowest severity of an incident that affects
// declared critical infrastructure (§5.12: such incidents are escalated).
const ciSeverityFloor = "high"

// Incident is the content of an incident notification (§5.3).
type Incident struct {
	TLP string `json:"tlp,omitempty"`
	// Stage is where the notification starts: early-warning or notification.
	Stage    string    `json:"stage"`
	Category string    `json:"category"`
	Severity string    `json:"severity"`
	Sectors  []string  `json:"sectors"`
	Detected time.Time `json:"detected"`
	// AffectsDeclaredCI says the incident hit infrastructure the notifying
	// party declared protected.
	AffectsDeclaredCI bool     `json:"affects_declared_ci"`
	CrossBorder       bool     `json:"cross_border,omitzero"`
	Summary           string   `json:"summary"`
	RequestedActions  []string `json:"requested_actions,omitzero"`
	// Observables are the ids of the STIX objects (observed-data, SCOs,
	// indicators, sightings) that travel beside the notification; see
	// ParseFields, which takes them from a bundle.
	Observables []string `json:"observable_refs,omitzero"`
}

// Assistance is a request for assistance (§5.4).
type Assistance struct {
	TLP     string `json:"tlp,omitempty"`
	Kind    string `json:"assistance_type"`
	Purpose string `json:"purpose"`
	// Related are the ids of related cases (incident notifications).
	Related     []string  `json:"related_case_refs,omitzero"`
	Urgent      bool      `json:"urgent,omitzero"`
	RespondBy   time.Time `json:"respond_by,omitzero"`
	AffectsCI   bool      `json:"affects_declared_ci,omitzero"`
	Description string    `json:"description"`
}

// Preservation is an expedited preservation request, Budapest Convention
// art. 29 (§5.5). The six fields of art. 29(2) are required.
type Preservation struct {
	TLP string `json:"tlp,omitempty"`
	// (a) the authority seeking the preservation
	RequestingAuthority string `json:"requesting_authority"`
	// (b) the offence and a brief summary of the related facts
	Offence string `json:"offence"`
	Facts   string `json:"facts_summary"`
	// (c) the data to be preserved and its relationship to the offence
	Data         string   `json:"data_to_preserve"`
	Identifiers  []string `json:"identifiers,omitzero"`
	Relationship string   `json:"relationship_to_offence"`
	// (d) what is known of the custodian or the location of the system
	Custodian string `json:"custodian_or_location"`
	// (e) the necessity of the preservation
	Necessity string `json:"necessity"`
	// (f) that a request for mutual assistance will follow
	IntendsMLA bool `json:"intends_mla_request"`
	// PeriodDays is the period asked for, at least 60 days (art. 29(7)).
	PeriodDays int    `json:"period_days"`
	LegalBasis string `json:"legal_basis"`
	Purpose    string `json:"purpose"`
}

// Consultation is a request for consultations (§5.10).
type Consultation struct {
	TLP   string `json:"tlp,omitempty"`
	Topic string `json:"topic"`
	// Level is technical, competent-authority or diplomatic.
	Level string `json:"level"`
	// Scheduled marks a regular consultation of the agreement's cadence;
	// otherwise it is ad hoc.
	Scheduled bool      `json:"scheduled"`
	Proposed  time.Time `json:"proposed"`
	Venue     string    `json:"venue"`
	Related   []string  `json:"related_case_refs,omitzero"`
}

// Reachability is a ping of a contact point (§5.2).
type Reachability struct {
	TLP string `json:"tlp,omitempty"`
	// Authority is the recipient's authority whose contact point is tested.
	Authority string `json:"authority"`
	Channel   string `json:"channel"`
}

// Declaration is a declaration of protected critical infrastructure
// (§5.12). It is what the signed agreement lists for the declaring party,
// or part of it; the case records its exchange and acknowledgement.
type Declaration struct {
	TLP     string   `json:"tlp,omitempty"`
	Sectors []string `json:"sectors,omitzero"`
	CIDRs   []string `json:"cidrs,omitzero"`
	Domains []string `json:"domains,omitzero"`
	ASNs    []int64  `json:"asns,omitzero"`
}

// Pledge is the statement a party records when it acknowledges a
// declaration: the observable form of the non-attack commitment (RU–CN
// art. 4.3, GGE 2015 norm (f)).
const Pledge = "We do not conduct or knowingly support activity against the infrastructure declared here."

// Fields are the content of a new case: one of *Incident, *Assistance,
// *Preservation, *Consultation, *Reachability or *Declaration.
type Fields interface{ caseType() Type }

func (*Incident) caseType() Type     { return TypeIncident }
func (*Assistance) caseType() Type   { return TypeAssistance }
func (*Preservation) caseType() Type { return TypePreservation }
func (*Consultation) caseType() Type { return TypeConsultation }
func (*Reachability) caseType() Type { return TypeReachability }
func (*Declaration) caseType() Type  { return TypeDeclaration }

// FieldError says which field of a case is wrong and what to do.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return "casework: field " + e.Field + ": " + e.Msg }

// ParseFields decodes the JSON content of a new case of type t. Decoding
// is strict: a member the type does not define is an error that names it,
// as is a duplicate one. For an incident notification, observables may be
// given as a STIX bundle in "observables"; their ids become
// observable_refs and the objects are returned to be stored beside the case.
func ParseFields(t Type, data []byte) (Fields, []*stix.Object, error) {
	var f Fields
	switch t {
	case TypeIncident:
		var in struct {
			Incident
			Observables jsonRaw `json:"observables,omitzero"`
		}
		if err := json.Unmarshal(data, &in, json.RejectUnknownMembers(true)); err != nil {
			return nil, nil, fmt.Errorf("casework: %s fields: %w", t, err)
		}
		inc := in.Incident
		var objs []*stix.Object
		if len(in.Observables) > 0 {
			b, err := stix.ParseBundle(in.Observables)
			if err != nil {
				return nil, nil, &FieldError{"observables", "not a STIX bundle: " + err.Error()}
			}
			if err := b.Validate(); err != nil {
				return nil, nil, &FieldError{"observables", err.Error()}
			}
			for _, o := range b.Objects {
				inc.Observables = append(inc.Observables, o.ID)
			}
			objs = b.Objects
		}
		return &inc, objs, nil
	case TypeAssistance:
		f = new(Assistance)
	case TypePreservation:
		f = new(Preservation)
	case TypeConsultation:
		f = new(Consultation)
	case TypeReachability:
		f = new(Reachability)
	case TypeDeclaration:
		f = new(Declaration)
	default:
		return nil, nil, errUnknownType
	}
	if err := json.Unmarshal(data, f, json.RejectUnknownMembers(true)); err != nil {
		return nil, nil, fmt.Errorf("casework: %s fields: %w", t, err)
	}
	return f, nil, nil
}

// jsonRaw keeps a member's JSON as it is.
type jsonRaw = jsontext.Value

// NewID returns a fresh id for a case of type t.
func NewID(t Type) string { return t.STIXType() + "--" + uuid.NewString() }

// New opens a case of the type of f, in its first state (draft), with from
// as the initiator and to as the recipient. It checks every field against
// the agreement and the closed lists, and screens the free text; the error
// names the first field that is wrong.
func New(id string, f Fields, from, to string, a *agreement.Agreement, now time.Time) (Case, error) {
	if f == nil {
		return Case{}, errUnknownType
	}
	t := f.caseType()
	if a == nil {
		return Case{}, errNoAgreement
	}
	if typ, ok := splitID(id); !ok || typ != t.STIXType() {
		return Case{}, &FieldError{"id", fmt.Sprintf("%q is not an id of a %s case: want %s--<UUID>", id, t, t.STIXType())}
	}
	if _, ok := a.Party(from); !ok {
		return Case{}, &FieldError{"from", fmt.Sprintf("%q is not a party to agreement %s", from, a.ID)}
	}
	if _, ok := a.Party(to); !ok {
		return Case{}, &FieldError{"to", fmt.Sprintf("%q is not a party to agreement %s", to, a.ID)}
	}
	if from == to {
		return Case{}, &FieldError{"to", "a case is between two parties; name the other party"}
	}
	now = stamp(now)
	c := Case{ID: id, Type: t, State: machines[t].States[0], Agreement: a.ID, From: from, To: to,
		Created: now, Modified: now, Actor: from}
	var tlp string
	var err error
	switch f := f.(type) {
	case *Incident:
		g := *f
		tlp, err = g.TLP, g.check()
		c.Incident = &g
		c.Stage, _ = parseStage(g.Stage)
		c.Flags = Screen(g.Summary)
	case *Assistance:
		g := *f
		tlp, err = g.TLP, g.check()
		c.Assistance = &g
		c.Flags = Screen(g.Description)
	case *Preservation:
		g := *f
		tlp, err = g.TLP, g.check(a, from)
		c.Preservation = &g
		c.Flags = Screen(g.Offence) | Screen(g.Facts) | Screen(g.Data) | Screen(g.Relationship) | Screen(g.Necessity)
	case *Consultation:
		g := *f
		tlp, err = g.TLP, g.check(now)
		c.Consultation = &g
		c.Until, c.ProposedBy, c.ProposedAt = g.Proposed, from, now
		c.Flags = Screen(g.Topic)
	case *Reachability:
		g := *f
		tlp, err = g.TLP, g.check(a, to)
		c.Reachability = &g
	case *Declaration:
		g := *f
		tlp, err = g.TLP, g.check(a, from)
		c.Declaration = &g
	}
	if err != nil {
		return Case{}, err
	}
	clearTLP(&c) // the case's TLP is c.TLP from here on
	c.base = c.Flags
	if c.TLP, err = parseTLP(tlp); err != nil {
		return Case{}, err
	}
	return c, nil
}

func clearTLP(c *Case) {
	switch {
	case c.Incident != nil:
		c.Incident.TLP = ""
	case c.Assistance != nil:
		c.Assistance.TLP = ""
	case c.Preservation != nil:
		c.Preservation.TLP = ""
	case c.Consultation != nil:
		c.Consultation.TLP = ""
	case c.Reachability != nil:
		c.Reachability.TLP = ""
	case c.Declaration != nil:
		c.Declaration.TLP = ""
	}
}

// parseTLP reads a case's TLP 2.0 label; cases default to TLP:AMBER,
// disclosure to the recipient's organisations only.
func parseTLP(s string) (stix.TLP, error) {
	if s == "" {
		return stix.TLPAmber, nil
	}
	t, ok := stix.ParseTLP(s)
	if !ok {
		return 0, &FieldError{"tlp", fmt.Sprintf("%q is not a TLP 2.0 label: use clear, green, amber, amber+strict or red", s)}
	}
	return t, nil
}

// stamp is a time as a STIX timestamp keeps it: UTC, milliseconds.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func splitID(id string) (string, bool) {
	i := len(id) - 38
	if i < 1 || id[i:i+2] != "--" {
		return "", false
	}
	if _, err := uuid.Parse(id[i+2:]); err != nil {
		return "", false
	}
	return id[:i], true
}

func required(field, v string) error {
	if v == "" {
		return &FieldError{field, "is required"}
	}
	return nil
}

func oneOf(field, v string, list []string) error {
	if v == "" {
		return &FieldError{field, "is required; use one of " + strings.Join(list, ", ")}
	}
	if !slices.Contains(list, v) {
		return &FieldError{field, fmt.Sprintf("%q is not one of %s", v, strings.Join(list, ", "))}
	}
	return nil
}

func allOf(field string, vs []string, list []string) error {
	for i, v := range vs {
		if err := oneOf(fmt.Sprintf("%s[%d]", field, i), v, list); err != nil {
			return err
		}
	}
	return nil
}

func refs(field string, ids []string) error {
	for i, id := range ids {
		if !stix.ValidID(id) {
			return &FieldError{fmt.Sprintf("%s[%d]", field, i), fmt.Sprintf("%q is not a STIX identifier", id)}
		}
	}
	return nil
}

func (f *Incident) check() error {
	if err := oneOf("stage", f.Stage, []string{"early-warning", "notification"}); err != nil {
		return err
	}
	if f.Category == "abusive-content" {
		return &FieldError{"category", "abusive content (spam, speech) is not a security incident between states; " +
			"criminal content goes to the judicially supervised channels, not to this workflow"}
	}
	if err := oneOf("category", f.Category, Categories); err != nil {
		return err
	}
	if err := oneOf("severity", f.Severity, Severities); err != nil {
		return err
	}
	if f.AffectsDeclaredCI && slices.Index(Severities, f.Severity) < slices.Index(Severities, ciSeverityFloor) {
		return &FieldError{"severity", fmt.Sprintf("an incident that affects declared critical infrastructure is at least %q", ciSeverityFloor)}
	}
	if len(f.Sectors) == 0 {
		return &FieldError{"sectors", "name at least one affected sector"}
	}
	if f.Detected.IsZero() {
		return &FieldError{"detected", "is required: when the incident was detected"}
	}
	f.Detected = stamp(f.Detected)
	if err := required("summary", f.Summary); err != nil {
		return err
	}
	if err := allOf("requested_actions", f.RequestedActions, RequestedActions); err != nil {
		return err
	}
	return refs("observable_refs", f.Observables)
}

func (f *Assistance) check() error {
	if err := oneOf("assistance_type", f.Kind, AssistanceKinds); err != nil {
		return err
	}
	if err := oneOf("purpose", f.Purpose, agreement.Purposes); err != nil {
		return err
	}
	if err := required("description", f.Description); err != nil {
		return err
	}
	f.RespondBy = stamp(f.RespondBy)
	return refs("related_case_refs", f.Related)
}

func (f *Preservation) check(a *agreement.Agreement, from string) error {
	if err := f.checkContent(); err != nil {
		return err
	}
	p, _ := a.Party(from)
	if _, ok := p.Authority(f.RequestingAuthority); !ok {
		return &FieldError{"requesting_authority", fmt.Sprintf("%q is not an authority of %s in the agreement", f.RequestingAuthority, from)}
	}
	return nil
}

// checkContent checks what needs no agreement: the six fields of
// art. 29(2), the period and the purpose.
func (f *Preservation) checkContent() error {
	if err := required("requesting_authority", f.RequestingAuthority); err != nil {
		return err
	}
	for _, r := range []struct{ field, v string }{
		{"offence", f.Offence}, {"facts_summary", f.Facts}, {"data_to_preserve", f.Data},
		{"relationship_to_offence", f.Relationship}, {"custodian_or_location", f.Custodian},
		{"necessity", f.Necessity}, {"legal_basis", f.LegalBasis},
	} {
		if err := required(r.field, r.v); err != nil {
			return err
		}
	}
	if !f.IntendsMLA {
		return &FieldError{"intends_mla_request", "must be true: art. 29(2)(f) requires the intention to submit a request for mutual assistance"}
	}
	if f.PeriodDays < agreement.MinPreserveDays {
		return &FieldError{"period_days", fmt.Sprintf("%d days is shorter than the %d days of art. 29(7)", f.PeriodDays, agreement.MinPreserveDays)}
	}
	if f.PeriodDays > 3650 {
		return &FieldError{"period_days", "give at most 3650 days; extend a preservation rather than ask for more"}
	}
	if err := oneOf("purpose", f.Purpose, agreement.Purposes); err != nil {
		return err
	}
	return oneOf("purpose", f.Purpose, PreservationPurposes)
}

func (f *Consultation) check(now time.Time) error {
	if err := required("topic", f.Topic); err != nil {
		return err
	}
	if err := oneOf("level", f.Level, escalationLevels); err != nil {
		return err
	}
	if f.Proposed.IsZero() {
		return &FieldError{"proposed", "is required: the proposed date and time of the meeting"}
	}
	f.Proposed = stamp(f.Proposed)
	if !f.Proposed.After(now) {
		return &FieldError{"proposed", "propose a time in the future"}
	}
	if err := required("venue", f.Venue); err != nil {
		return err
	}
	return refs("related_case_refs", f.Related)
}

func (f *Reachability) check(a *agreement.Agreement, to string) error {
	p, _ := a.Party(to)
	if err := required("authority", f.Authority); err != nil {
		return err
	}
	if _, ok := p.Authority(f.Authority); !ok {
		return &FieldError{"authority", fmt.Sprintf("%q is not an authority of %s in the agreement", f.Authority, to)}
	}
	return oneOf("channel", f.Channel, Channels)
}

// check requires the declaration to be part of what the agreement lists
// for the party: the pledge is given against the signed text, and changing
// the list is an amendment of the agreement.
func (f *Declaration) check(a *agreement.Agreement, from string) error {
	p, _ := a.Party(from)
	ci := p.Declarations.CriticalInfrastructure
	if len(f.Sectors)+len(f.CIDRs)+len(f.Domains)+len(f.ASNs) == 0 {
		return &FieldError{"sectors", "declare at least one sector, prefix, domain or AS number"}
	}
	if err := subset("sectors", f.Sectors, ci.Sectors); err != nil {
		return err
	}
	for i, c := range f.CIDRs {
		pfx, err := netip.ParsePrefix(c)
		if err != nil || pfx.Masked() != pfx {
			return &FieldError{fmt.Sprintf("cidrs[%d]", i), fmt.Sprintf("%q is not a prefix in canonical form", c)}
		}
	}
	if err := subset("cidrs", f.CIDRs, ci.CIDRs); err != nil {
		return err
	}
	if err := subset("domains", f.Domains, ci.Domains); err != nil {
		return err
	}
	for i, n := range f.ASNs {
		if !slices.Contains(ci.ASNs, n) {
			return &FieldError{fmt.Sprintf("asns[%d]", i), fmt.Sprintf("AS%d is not declared for %s in the agreement", n, from)}
		}
	}
	return nil
}

func subset(field string, vs, declared []string) error {
	for i, v := range vs {
		if !slices.Contains(declared, v) {
			return &FieldError{fmt.Sprintf("%s[%d]", field, i), fmt.Sprintf("%q is not declared in the agreement; declaring more is an amendment", v)}
		}
	}
	return nil
}

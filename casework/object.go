package casework

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/entente/entente/stix"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/google/uuid"
)

// ExtensionCreator is the identity that publishes Entente's extension
// definitions.
const ExtensionCreator = "identity--f965b6fe-f67f-4ef1-aebe-381ec8a65d37"

// extensionsPublished is the creation time of the extension definitions;
// a change to a case format is a new extension definition, never a new
// version of one.
const extensionsPublished = "2026-11-29T00:00:00.000Z"

// IncidentCoreExtension is the OASIS Incident Core extension of the STIX
// incident SDO (property-extension). An incident notification's
// incident_ref names an incident object that carries it (IncidentObject),
// so that plain STIX tools see an incident.
const IncidentCoreExtension = "extension-definition--ef765651-680c-498d-9894-99799f2fa126"

// ExtensionDefinitions returns the extension-definition objects, one per
// case type, that define the case SDOs (STIX 2.1 §7.3, extension type
// new-sdo), in the order of Types. Their ids never change.
func ExtensionDefinitions() []*stix.Object {
	out := make([]*stix.Object, 0, len(Types))
	for _, t := range Types {
		ti := typeInfos[t]
		o, err := stix.New(map[string]any{
			"type": "extension-definition", "spec_version": "2.1", "id": ti.extension,
			"created": extensionsPublished, "modified": extensionsPublished, "created_by_ref": ExtensionCreator,
			"name":            "Entente " + ti.name,
			"description":     ti.title + ": a case of the treaty workflow " + ti.name + ", as Entente runs it; each version is one step, naming the party that took it.",
			"schema":          "https://github.com/entente/entente/blob/main/doc/casework.md#" + ti.name,
			"version":         "1.0.0",
			"extension_types": []string{"new-sdo"},
		})
		if err != nil {
			panic(err) // constant input
		}
		out = append(out, o)
	}
	return out
}

// ExtensionCreatorIdentity returns the identity object named by the
// extension definitions' created_by_ref.
func ExtensionCreatorIdentity() *stix.Object {
	o, err := stix.New(map[string]any{
		"type": "identity", "spec_version": "2.1", "id": ExtensionCreator,
		"created": extensionsPublished, "modified": extensionsPublished,
		"name": "Entente", "identity_class": "system",
	})
	if err != nil {
		panic(err)
	}
	return o
}

// stateKeys are the properties each type's SDO carries besides the common
// ones and its fields.
var stateKeys = [numTypes][]string{
	TypeIncident:     {"stage", "incident_ref"},
	TypeAssistance:   {"partial"},
	TypePreservation: {"partial", "preserved_until", "extensions_granted", "mla_request"},
	TypeConsultation: {"meeting_at", "proposed_by", "proposed_at", "held", "minutes", "minutes_approved_by", "action_items"},
	TypeReachability: {},
	TypeDeclaration:  {"reconfirmed", "pledge"},
}

var commonKeys = []string{"type", "spec_version", "id", "created", "modified", "extensions", "object_marking_refs",
	"agreement", "initiator", "recipient", "actor", "state", "sent", "acknowledged", "answered",
	"escalation_level", "refusal_ground", "note", "event"}

// Encode returns the case as a STIX 2.1 object: the version of the case's
// SDO whose modified time is c.Modified and whose actor is the party that
// took the step. Each step is a new version of the same object.
func Encode(c Case) (*stix.Object, error) {
	if !c.Type.valid() || !hasFields(&c) {
		return nil, errUnknownType
	}
	m := map[string]any{}
	raw, err := jsonv2.Marshal(fieldsOf(&c), jsonv2.Deterministic(true))
	if err != nil {
		return nil, fmt.Errorf("casework: encoding %s: %w", c.ID, err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("casework: encoding %s: %w", c.ID, err)
	}
	if c.Type == TypeIncident {
		m["first_stage"] = m["stage"]
		m["stage"] = c.Stage.String()
		m["incident_ref"] = incidentID(c.ID)
	}
	ts := func(k string, t time.Time) {
		if !t.IsZero() {
			m[k] = stix.FormatTime(t)
		}
	}
	str := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	m["type"], m["spec_version"], m["id"] = c.Type.STIXType(), "2.1", c.ID
	ts("created", c.Created)
	ts("modified", c.Modified)
	m["extensions"] = map[string]any{typeInfos[c.Type].extension: map[string]any{"extension_type": "new-sdo"}}
	if c.TLP != stix.TLPNone {
		m["object_marking_refs"] = []string{stix.TLP2ID(c.TLP)}
	}
	m["agreement"], m["initiator"], m["recipient"], m["actor"], m["state"] = c.Agreement, c.From, c.To, c.Actor, c.State.String()
	ts("sent", c.Sent)
	ts("acknowledged", c.Acknowledged)
	ts("answered", c.Answered)
	if c.Level > 0 {
		m["escalation_level"] = c.Level
	}
	str("refusal_ground", c.Ground)
	str("note", c.Note)
	if c.Event != 0 {
		m["event"] = c.Event.String()
	}
	if c.Partial {
		m["partial"] = true
	}
	switch c.Type {
	case TypePreservation:
		ts("preserved_until", c.Until)
		if c.Extensions > 0 {
			m["extensions_granted"] = c.Extensions
		}
		str("mla_request", c.Link)
	case TypeConsultation:
		ts("meeting_at", c.Until)
		str("proposed_by", c.ProposedBy)
		ts("proposed_at", c.ProposedAt)
		ts("held", c.Held)
		str("minutes", c.Link)
		var by []string
		if c.Approvals&1 != 0 {
			by = append(by, c.From)
		}
		if c.Approvals&2 != 0 {
			by = append(by, c.To)
		}
		if len(by) > 0 {
			m["minutes_approved_by"] = by
		}
		if len(c.Actions) > 0 {
			items := make([]map[string]any, len(c.Actions))
			for i, it := range c.Actions {
				items[i] = map[string]any{"owner": it.Owner, "due": stix.FormatTime(it.Due), "text": it.Text}
				if !it.Done.IsZero() {
					items[i]["done"] = stix.FormatTime(it.Done)
				}
			}
			m["action_items"] = items
		}
	case TypeDeclaration:
		ts("reconfirmed", c.Reconfirmed)
		if c.State == StateAcknowledged {
			m["pledge"] = Pledge
		}
	}
	return stix.New(m)
}

func fieldsOf(c *Case) any {
	switch c.Type {
	case TypeIncident:
		return c.Incident
	case TypeAssistance:
		return c.Assistance
	case TypePreservation:
		return c.Preservation
	case TypeConsultation:
		return c.Consultation
	case TypeReachability:
		return c.Reachability
	case TypeDeclaration:
		return c.Declaration
	}
	return nil
}

// incidentID is the id of the OASIS incident object of a notification:
// a UUIDv5 of the case id, so both parties derive the same one.
func incidentID(caseID string) string {
	return "incident--" + uuid.NewSHA1(uuid.MustParse(ExtensionCreator[len("identity--"):]), []byte(caseID)).String()
}

// criticality maps a severity onto the OASIS extension's 0–100 scale.
var criticality = map[string]int{"low": 10, "medium": 30, "high": 60, "severe": 80, "emergency": 100}

// IncidentObject returns the STIX incident SDO, with the OASIS Incident
// Core extension, that an incident notification's incident_ref names:
// determination (suspected until the final report, then confirmed),
// investigation_status (new, open, closed), criticality from the severity
// and incident_types from the category. It is versioned with the case.
func IncidentObject(c Case) (*stix.Object, error) {
	if c.Type != TypeIncident || c.Incident == nil {
		return nil, errUnknownType
	}
	status, determination := "new", "suspected"
	switch c.State {
	case StateAcknowledged, StateFinal:
		status = "open"
	case StateClosed, StateWithdrawn:
		status = "closed"
	}
	if c.Stage == StageFinal {
		determination = "confirmed"
	}
	ext := map[string]any{
		"extension_type": "property-extension", "determination": determination, "investigation_status": status,
		"criticality": criticality[c.Incident.Severity], "incident_types": []string{c.Incident.Category},
	}
	if len(c.Incident.Observables) > 0 {
		ext["other_object_refs"] = c.Incident.Observables
	}
	m := map[string]any{
		"type": "incident", "spec_version": "2.1", "id": incidentID(c.ID),
		"created": stix.FormatTime(c.Created), "modified": stix.FormatTime(c.Modified),
		"name":        c.Incident.Category + " incident notified by " + c.From + " to " + c.To,
		"description": c.Incident.Summary,
		"extensions":  map[string]any{IncidentCoreExtension: ext},
	}
	if c.TLP != stix.TLPNone {
		m["object_marking_refs"] = []string{stix.TLP2ID(c.TLP)}
	}
	return stix.New(m)
}

// DecodeError says what in a case object is wrong.
type DecodeError struct {
	Property string
	Msg      string
}

func (e *DecodeError) Error() string {
	return "casework: case object: " + e.Property + ": " + e.Msg
}

// Decode reads a case from one version of its STIX object. It is strict:
// the type must be a case type, the extension definition its own, every
// property one the type defines, every field valid as New checks it
// (except that the times may lie in the past), and the state one of the
// type's machine. The content screen runs again on the text; flags are
// never taken from the sender.
func Decode(o *stix.Object) (Case, error) {
	if o == nil || o.Props == nil {
		return Case{}, &DecodeError{"type", "no object"}
	}
	var c Case
	t, ok := ParseType(strings.TrimPrefix(o.Type, "entente-"))
	if !ok || !strings.HasPrefix(o.Type, "entente-") {
		return Case{}, &DecodeError{"type", fmt.Sprintf("%q is not a case type; %s", o.Type, errUnknownType.Msg)}
	}
	if _, err := stix.Check(o); err != nil {
		return Case{}, &DecodeError{"", err.Error()}
	}
	c.Type = t
	d := decoder{m: o.Props, used: map[string]bool{}}
	if typ, ok := splitID(o.ID); !ok || typ != o.Type {
		return Case{}, &DecodeError{"id", fmt.Sprintf("%q is not an id of type %s", o.ID, o.Type)}
	}
	c.ID = o.ID
	d.use("type", "id", "spec_version")
	exts, _ := d.take("extensions").(map[string]any)
	want := typeInfos[t].extension
	if e, ok := exts[want].(map[string]any); !ok || len(exts) != 1 || e["extension_type"] != "new-sdo" || len(e) != 1 {
		return Case{}, &DecodeError{"extensions", "must hold exactly " + want + " with extension_type new-sdo"}
	}
	c.Created, c.Modified = d.time("created", true), d.time("modified", true)
	if marks, ok := d.take("object_marking_refs").([]any); ok {
		id, _ := marks[0].(string)
		tlp, known := stix.TLPOf(id)
		if len(marks) != 1 || !known || stix.TLP2ID(tlp) != id {
			d.fail("object_marking_refs", "must be one TLP 2.0 marking")
		}
		c.TLP = tlp
	}
	c.Agreement, c.From, c.To, c.Actor = d.str("agreement", true), d.str("initiator", true), d.str("recipient", true), d.str("actor", true)
	if c.From == c.To || (c.Actor != c.From && c.Actor != c.To) {
		d.fail("actor", "initiator and recipient must differ, and the actor be one of them")
	}
	st, ok := ParseState(d.str("state", true))
	if !ok || !contains(machines[t].States, st) {
		d.fail("state", "not a state of "+t.String())
	}
	c.State = st
	c.Sent, c.Acknowledged, c.Answered = d.time("sent", false), d.time("acknowledged", false), d.time("answered", false)
	c.Level = d.int("escalation_level", 1, 3)
	c.Ground, c.Note = d.str("refusal_ground", false), d.str("note", false)
	if ev := d.str("event", false); ev != "" {
		k, ok := ParseEvent(ev)
		if !ok || !contains(machines[t].Events, k) {
			d.fail("event", "not an event of "+t.String())
		}
		c.Event = k
	}
	if slices.Contains(stateKeys[t], "partial") {
		c.Partial = d.bool("partial")
	}
	switch t {
	case TypeIncident:
		s, ok := parseStage(d.str("stage", true))
		if !ok {
			d.fail("stage", "not a stage")
		}
		c.Stage = s
		if d.str("incident_ref", true) != incidentID(c.ID) {
			d.fail("incident_ref", "must be the incident derived from the case id")
		}
	case TypePreservation:
		c.Until, c.Extensions, c.Link = d.time("preserved_until", false), d.int("extensions_granted", 1, 1000), d.str("mla_request", false)
	case TypeConsultation:
		c.Until, c.ProposedBy, c.ProposedAt = d.time("meeting_at", true), d.str("proposed_by", false), d.time("proposed_at", false)
		c.Held, c.Link = d.time("held", false), d.str("minutes", false)
		if by, ok := d.take("minutes_approved_by").([]any); ok {
			for _, p := range by {
				switch {
				case p == c.From && c.Approvals&1 == 0:
					c.Approvals |= 1
				case p == c.To && c.Approvals&2 == 0:
					c.Approvals |= 2
				default:
					d.fail("minutes_approved_by", "lists each party at most once")
				}
			}
		}
		if items, ok := d.take("action_items").([]any); ok {
			for i, raw := range items {
				c.Actions = append(c.Actions, d.item(fmt.Sprintf("action_items[%d]", i), raw, &c))
			}
		}
	case TypeDeclaration:
		c.Reconfirmed = d.time("reconfirmed", false)
		p := d.str("pledge", false)
		if (c.State == StateAcknowledged) != (p == Pledge) {
			d.fail("pledge", "an acknowledged declaration carries the pledge, word for word, and only then")
		}
	}
	// What remains are the type's fields.
	rest := map[string]any{}
	for k, v := range o.Props {
		if !d.used[k] {
			rest[k] = v
		}
	}
	if t == TypeIncident {
		rest["stage"] = rest["first_stage"]
		delete(rest, "first_stage")
	}
	if _, ok := rest["tlp"]; ok {
		d.fail("tlp", "a case's TLP is its object_marking_refs")
	}
	if d.err != nil {
		return Case{}, d.err
	}
	raw, err := json.Marshal(rest)
	if err != nil {
		return Case{}, &DecodeError{"", err.Error()}
	}
	f, _, err := ParseFields(t, raw)
	if err != nil {
		return Case{}, &DecodeError{"fields", err.Error()}
	}
	if err := checkDecoded(&c, f); err != nil {
		return Case{}, err
	}
	return c, nil
}

// checkDecoded validates the fields as New does, with the case's own
// creation time for the checks that look at the clock.
func checkDecoded(c *Case, f Fields) error {
	var err error
	switch f := f.(type) {
	case *Incident:
		err, c.Incident = f.check(), f
		c.base = Screen(f.Summary)
	case *Assistance:
		err, c.Assistance = f.check(), f
		c.base = Screen(f.Description)
	case *Preservation:
		err, c.Preservation = f.checkContent(), f
		c.base = Screen(f.Offence) | Screen(f.Facts) | Screen(f.Data) | Screen(f.Relationship) | Screen(f.Necessity)
	case *Consultation:
		err, c.Consultation = f.check(time.Time{}), f
		c.base = Screen(f.Topic)
	case *Reachability:
		err, c.Reachability = oneOf("channel", f.Channel, Channels), f
		if err == nil {
			err = required("authority", f.Authority)
		}
	case *Declaration:
		c.Declaration = f
		if len(f.Sectors)+len(f.CIDRs)+len(f.Domains)+len(f.ASNs) == 0 {
			err = &FieldError{"sectors", "declare at least one sector, prefix, domain or AS number"}
		}
	}
	if err != nil {
		return &DecodeError{"fields", err.Error()}
	}
	for _, it := range c.Actions {
		c.base |= Screen(it.Text)
	}
	c.Flags = c.base | Screen(c.Note)
	return nil
}

type decoder struct {
	m    map[string]any
	used map[string]bool
	err  error
}

func (d *decoder) fail(prop, msg string) {
	if d.err == nil {
		d.err = &DecodeError{prop, msg}
	}
}

func (d *decoder) use(keys ...string) {
	for _, k := range keys {
		d.used[k] = true
	}
}

func (d *decoder) take(k string) any {
	d.used[k] = true
	return d.m[k]
}

func (d *decoder) str(k string, req bool) string {
	v, present := d.m[k]
	d.used[k] = true
	s, ok := v.(string)
	switch {
	case !present && req:
		d.fail(k, "is required")
	case present && (!ok || s == ""):
		d.fail(k, "must be a non-empty string")
	}
	return s
}

func (d *decoder) time(k string, req bool) time.Time {
	s := d.str(k, req)
	if s == "" {
		return time.Time{}
	}
	t, err := stix.ParseTime(s)
	if err != nil {
		d.fail(k, err.Error())
	}
	if t.Truncate(time.Millisecond) != t {
		d.fail(k, "cases keep times to the millisecond")
	}
	return t.UTC()
}

func (d *decoder) int(k string, lo, hi int) int {
	v, present := d.m[k]
	d.used[k] = true
	if !present {
		return 0
	}
	n, ok := v.(json.Number)
	i, err := n.Int64()
	if !ok || err != nil || i < int64(lo) || i > int64(hi) {
		d.fail(k, fmt.Sprintf("must be an integer from %d to %d", lo, hi))
		return 0
	}
	return int(i)
}

func (d *decoder) bool(k string) bool {
	v, present := d.m[k]
	d.used[k] = true
	if b, ok := v.(bool); present && (!ok || !b) {
		d.fail(k, "is true when present; omit it otherwise")
	}
	return present
}

func (d *decoder) item(path string, raw any, c *Case) ActionItem {
	m, ok := raw.(map[string]any)
	if !ok {
		d.fail(path, "must be an object")
		return ActionItem{}
	}
	sub := decoder{m: m, used: map[string]bool{}}
	it := ActionItem{Owner: sub.str("owner", true), Due: sub.time("due", true), Text: sub.str("text", true), Done: sub.time("done", false)}
	for k := range m {
		if !sub.used[k] {
			sub.fail(k, "is not a property of an action item")
		}
	}
	if it.Owner != c.From && it.Owner != c.To {
		sub.fail("owner", "must be a party to the case")
	}
	if sub.err != nil {
		e := sub.err.(*DecodeError)
		d.fail(path+"."+e.Property, e.Msg)
	}
	return it
}

// Canonical returns the RFC 8785 form of the case's object: what both
// parties hash and sign.
func Canonical(c Case) ([]byte, error) {
	o, err := Encode(c)
	if err != nil {
		return nil, err
	}
	return stix.Canonical(o.Raw)
}

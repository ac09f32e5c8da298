package misp

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/entente/entente/stix"
)

// Namespace is the UUIDv5 namespace of the identifiers ToSTIX derives from
// MISP uuids: an object of type T made from the MISP item with uuid U has
// the id T--UUIDv5(Namespace, T + "/" + lower(U)). Derived ids are the same
// on every import and on every node, and valid RFC 4122 ids even where a
// MISP uuid is not.
var Namespace = uuid.MustParse("0a31c6c5-1503-4309-8b06-c3f5dbf9dc68")

// ID returns the identifier of the STIX object of type typ made from the
// MISP item with the given uuid.
func ID(typ, mispUUID string) string {
	return typ + "--" + uuid.NewSHA1(Namespace, []byte(typ+"/"+strings.ToLower(mispUUID))).String()
}

// Options tunes ToSTIX.
type Options struct {
	// DefaultTLP marks events that carry neither a distribution level nor
	// a TLP tag. Zero means TLP:AMBER: what the source did not say may be
	// shared is not shared beyond the recipients' organisations.
	DefaultTLP stix.TLP
}

// Result is the STIX form of one MISP event.
type Result struct {
	// Objects are the STIX 2.1 objects, each once, in an order in which
	// every reference points to an object before it (markings, identity,
	// observables, then indicators and observed data, then the report).
	Objects []json.RawMessage
	// IDs holds the id of each object, and Origin the uuid of the MISP
	// attribute each came from ("" for what the event as a whole gave).
	IDs, Origin []string
	// Attributes counts the event's attributes, those of its objects
	// included; Mapped those that became STIX objects.
	Attributes, Mapped int
	// Skipped lists what was not mapped, with the reason.
	Skipped []Skip
}

// Skip is an attribute (or galaxy cluster) that ToSTIX left out.
type Skip struct {
	Event     string // the event's uuid
	Attribute string // the attribute's (or cluster's) uuid
	Type      string // the attribute's type, "galaxy cluster" or "event"
	// Rule names the kind of reason, from a small fixed set, so that
	// skips can be counted by kind: unmapped-type, deleted, duplicate,
	// no-observable, bad-value, unmapped-galaxy, empty-event; and, from
	// FromSTIX, no-misp-form.
	Rule   string
	Reason string
}

func (s Skip) String() string {
	return fmt.Sprintf("event %s, %s %s: %s", s.Event, s.Type, s.Attribute, s.Reason)
}

// epoch is the created time of identities, which stand for a MISP
// organisation in every event it made and so must not vary between them.
const epoch = "1970-01-01T00:00:00.000Z"

// converter holds the state of one event's conversion.
type converter struct {
	e      *Event
	res    *Result
	seen   map[string]bool
	orgRef string
	// eventTLP is the event's level: its distribution and tags, or the
	// default.
	eventTLP stix.TLP
	created  time.Time
	refs     []string // the report's object_refs
	markings map[stix.TLP]bool
	// clusters holds the galaxy clusters mapped so far, by cluster uuid:
	// the id of their SDO.
	clusters map[string]string
	levels   map[string]stix.TLP // the level of each object marked
	attrs    map[string]bool     // the uuids of the attributes seen
}

// ToSTIX maps one MISP event to STIX 2.1. It fails only on an event that
// DecodeEvents would have refused; what cannot be mapped is in
// Result.Skipped.
func ToSTIX(e *Event, opts Options) (*Result, error) {
	if e.UUID == "" {
		return nil, &DecodeError{Path: "Event.uuid", Msg: "missing; every MISP event has a uuid"}
	}
	c := &converter{e: e, res: &Result{}, seen: map[string]bool{}, markings: map[stix.TLP]bool{}, clusters: map[string]string{}, levels: map[string]stix.TLP{}, attrs: map[string]bool{}}
	def := opts.DefaultTLP
	if def == stix.TLPNone {
		def = stix.TLPAmber
	}
	c.eventTLP = levelOf(e.Distribution, e.Tags)
	if c.eventTLP == stix.TLPNone {
		c.eventTLP = def
	}
	// created is the event's date, which does not change when the event
	// does; failing that its timestamp, failing that the Unix epoch.
	c.created = e.Timestamp.unix()
	if d, err := time.Parse(time.DateOnly, e.Date); err == nil {
		c.created = d
	} else if c.created.IsZero() {
		c.created = time.Unix(0, 0).UTC()
	}
	if e.Orgc != nil && e.Orgc.UUID != "" {
		c.orgRef = ID("identity", e.Orgc.UUID)
		c.add("", map[string]any{
			"type": "identity", "spec_version": "2.1", "id": c.orgRef,
			"created": epoch, "modified": epoch,
			"name": e.Orgc.Name, "identity_class": "organization", "x_misp_uuid": e.Orgc.UUID,
		})
	}
	for _, g := range e.Galaxies {
		for _, cl := range g.Clusters {
			if id := c.cluster(g, cl, c.eventTLP); id != "" {
				c.refs = append(c.refs, id)
			}
		}
	}
	for i := range e.Attributes {
		c.attribute(&e.Attributes[i], nil, c.eventTLP)
	}
	for i := range e.Objects {
		o := &e.Objects[i]
		level := max(c.eventTLP, distributionTLP(o.Distribution))
		for j := range o.Attributes {
			if o.Deleted {
				c.res.Attributes++
				c.skip(o.Attributes[j].UUID, o.Attributes[j].Type, "deleted", "its MISP object "+o.UUID+" is deleted")
				continue
			}
			c.attribute(&o.Attributes[j], o, level)
		}
	}
	c.report()
	c.prependMarkings()
	return c.res, nil
}

func (c *converter) skip(uuid, typ, rule, reason string) {
	c.res.Skipped = append(c.res.Skipped, Skip{Event: c.e.UUID, Attribute: uuid, Type: typ, Rule: rule, Reason: reason})
}

// add encodes one object, unless an object with its id was added already
// (observables shared by several attributes).
func (c *converter) add(origin string, props map[string]any) string {
	id := props["id"].(string)
	if c.seen[id] {
		return id
	}
	raw := appendJSON(make([]byte, 0, 512), props)
	c.seen[id] = true
	c.res.Objects = append(c.res.Objects, raw)
	c.res.IDs = append(c.res.IDs, id)
	c.res.Origin = append(c.res.Origin, origin)
	return id
}

// common sets the properties every SDO and SRO of the event has.
func (c *converter) common(typ, id string, created, modified time.Time, level stix.TLP) map[string]any {
	if modified.Before(created) {
		created = modified
	}
	m := map[string]any{
		"type": typ, "spec_version": "2.1", "id": id,
		"created": stix.FormatTime(created), "modified": stix.FormatTime(modified),
		"object_marking_refs": []string{stix.TLP2ID(level)},
	}
	c.markings[level] = true
	c.levels[id] = level
	if c.orgRef != "" {
		m["created_by_ref"] = c.orgRef
	}
	return m
}

// attribute maps one attribute, of the event or of one of its objects.
func (c *converter) attribute(a *Attribute, obj *Object, level stix.TLP) {
	c.res.Attributes++
	if a.Deleted {
		c.skip(a.UUID, a.Type, "deleted", "deleted in MISP")
		return
	}
	if c.attrs[strings.ToLower(a.UUID)] {
		c.skip(a.UUID, a.Type, "duplicate", "another attribute of the event has this uuid; the first was imported")
		return
	}
	c.attrs[strings.ToLower(a.UUID)] = true
	t := typeByName[a.Type]
	if t == nil {
		c.skip(a.UUID, a.Type, "unmapped-type", fmt.Sprintf("MISP attribute type %q has no STIX 2.1 mapping", a.Type))
		return
	}
	if a.Value == "" {
		c.skip(a.UUID, a.Type, "bad-value", "the value is empty")
		return
	}
	level = max(level, levelOf(a.Distribution, a.Tags))
	modified := a.Timestamp.unix()
	if modified.IsZero() {
		modified = later(c.e.Timestamp.unix(), c.created)
	}
	var labels []string
	labels = append(labels, label("type", a.Type))
	if a.Category != "" {
		labels = append(labels, label("category", a.Category))
	}
	if a.ToIDs {
		labels = append(labels, `misp:to_ids="True"`)
	}
	labels = append(labels, tagLabels(a.Tags)...)
	base := func(typ string) map[string]any {
		m := c.common(typ, ID(typ, a.UUID), c.created, modified, level)
		m["labels"] = labels
		m["x_misp_uuid"] = a.UUID
		if a.Comment != "" {
			m["description"] = a.Comment
		}
		if obj != nil {
			x := map[string]any{"uuid": obj.UUID, "name": obj.Name, "relation": a.ObjectRelation}
			if obj.MetaCategory != "" {
				x["meta_category"] = obj.MetaCategory
			}
			if obj.Comment != "" {
				x["comment"] = obj.Comment
			}
			if obj.TemplateUUID != "" {
				x["template_uuid"] = obj.TemplateUUID
			}
			if obj.Timestamp != "" {
				x["timestamp"] = string(obj.Timestamp)
			}
			if obj.Distribution != "" {
				x["distribution"] = string(obj.Distribution)
			}
			m["x_misp_object"] = x
		}
		return m
	}
	var main string
	switch {
	case t.rule:
		m := base("indicator")
		m["pattern_type"] = t.name
		m["pattern"] = a.Value
		c.validity(m, a)
		main = c.add(a.UUID, m)
	case t.sdo != "":
		m := base(t.sdo)
		m["name"] = a.Value
		if t.sdo == "vulnerability" && strings.HasPrefix(strings.ToUpper(a.Value), "CVE-") {
			m["external_references"] = []any{map[string]any{"source_name": "cve", "external_id": a.Value}}
		}
		main = c.add(a.UUID, m)
	default:
		parts := strings.Split(a.Value, "|")
		if len(parts) != len(t.paths) {
			c.skip(a.UUID, a.Type, "bad-value", fmt.Sprintf("the value %q has %d parts separated by |; type %s has %d", a.Value, len(parts), a.Type, len(t.paths)))
			return
		}
		values := make([]any, len(parts))
		exact := true
		for i, p := range parts {
			v, same, err := partValue(t.paths[i], p)
			if err != nil {
				c.skip(a.UUID, a.Type, "bad-value", err.Error())
				return
			}
			values[i], exact = v, exact && same
		}
		if a.ToIDs {
			m := base("indicator")
			m["pattern_type"] = "stix"
			m["pattern_version"] = "2.1"
			m["pattern"] = writePattern(t.paths, values)
			m["kill_chain_phases"] = []any{map[string]any{"kill_chain_name": "misp-category", "phase_name": a.Category}}
			if a.Category == "" {
				delete(m, "kill_chain_phases")
			}
			c.validity(m, a)
			if !exact {
				m["x_misp_value"] = a.Value
			}
			main = c.add(a.UUID, m)
			break
		}
		if t.patternOnly {
			c.skip(a.UUID, a.Type, "no-observable", fmt.Sprintf("STIX 2.1 has no cyber-observable for a %s alone; such attributes map only when to_ids is set, as indicators", a.Type))
			return
		}
		scos := observables(t.paths, values, a.UUID)
		refs := make([]string, len(scos))
		for i, s := range scos {
			refs[i] = s["id"].(string)
		}
		m := base("observed-data")
		first, last := modified, modified
		if a.FirstSeen != "" {
			first, _ = parseSeen(a.FirstSeen)
			last = first
		}
		if a.LastSeen != "" {
			if l, err := parseSeen(a.LastSeen); err == nil && !l.Before(first) {
				last = l
			}
		}
		m["first_observed"] = stix.FormatTime(first)
		m["last_observed"] = stix.FormatTime(last)
		m["number_observed"] = 1
		m["object_refs"] = refs
		if !exact {
			m["x_misp_value"] = a.Value
		}
		// Observables first, so that the observed data's references
		// point back.
		for i := len(scos) - 1; i >= 0; i-- {
			c.add(a.UUID, scos[i])
		}
		main = c.add(a.UUID, m)
	}
	c.res.Mapped++
	c.refs = append(c.refs, main)
	for _, g := range a.Galaxies {
		for _, cl := range g.Clusters {
			target := c.cluster(g, cl, level)
			if target == "" {
				continue
			}
			c.refs = append(c.refs, target)
			rel := "related-to"
			if strings.HasPrefix(main, "indicator--") && indicates[strings.SplitN(target, "--", 2)[0]] {
				rel = "indicates"
			}
			r := c.common("relationship", ID("relationship", a.UUID+"/"+cl.UUID), c.created, modified, level)
			r["relationship_type"] = rel
			r["source_ref"] = main
			r["target_ref"] = target
			c.refs = append(c.refs, c.add(a.UUID, r))
		}
	}
}

// indicates lists the types an indicator may indicate (STIX 2.1 §4.7).
var indicates = map[string]bool{"attack-pattern": true, "campaign": true, "infrastructure": true,
	"intrusion-set": true, "malware": true, "threat-actor": true, "tool": true}

// validity sets an indicator's valid_from and valid_until from the
// attribute's first_seen and last_seen, as misp-stix does.
func (c *converter) validity(m map[string]any, a *Attribute) {
	from := m["created"].(string)
	if a.FirstSeen != "" {
		if t, err := parseSeen(a.FirstSeen); err == nil {
			from = stix.FormatTime(t)
		}
	}
	m["valid_from"] = from
	if a.LastSeen != "" {
		if t, err := parseSeen(a.LastSeen); err == nil && stix.FormatTime(t) > from {
			m["valid_until"] = stix.FormatTime(t)
		}
	}
}

// partValue converts one part of a value for its path: integers for
// ports, numbers and sizes ("AS174" is the number 174). same reports
// whether the export's text of the result is the part again.
func partValue(p path, part string) (v any, same bool, err error) {
	if part == "" {
		return nil, false, fmt.Errorf("a part of the value is empty")
	}
	last := p.steps[len(p.steps)-1].key
	if !intProps[last] {
		return part, true, nil
	}
	digits := part
	if last == "number" {
		digits = strings.TrimPrefix(strings.TrimPrefix(part, "AS"), "as")
	}
	n, err := strconv.ParseUint(digits, 10, 63)
	if err != nil || last != "number" && last != "size" && n > 65535 {
		return nil, false, fmt.Errorf("%q is not a valid %s", part, last)
	}
	return int64(n), strconv.FormatUint(n, 10) == part, nil
}

// writePattern writes the indicator pattern of an observable attribute: each
// path compared with its value, and for network traffic the type of the
// referenced address, as misp-stix does.
func writePattern(paths []path, values []any) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, p := range paths {
		if i > 0 {
			b.WriteString(" AND ")
		}
		if p.root == "network-traffic" && p.steps[0].isRef() {
			s, _ := values[i].(string)
			b.WriteString(p.root + ":" + p.steps[0].key + ".type = " + quote(p.steps[0].refType(s)) + " AND ")
		}
		b.WriteString(patternPath(p))
		b.WriteString(" = ")
		switch v := values[i].(type) {
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case string:
			b.WriteString(quote(v))
		}
	}
	b.WriteByte(']')
	return b.String()
}

func patternPath(p path) string {
	var b strings.Builder
	b.WriteString(p.root)
	b.WriteByte(':')
	for i, s := range p.steps {
		if i > 0 {
			b.WriteByte('.')
		}
		if simpleKey(s.key) {
			b.WriteString(s.key)
		} else {
			b.WriteString(quote(s.key))
		}
		if s.isList() {
			b.WriteString("[*]")
		}
	}
	return b.String()
}

func simpleKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return k != "" && !('0' <= k[0] && k[0] <= '9')
}

// quote writes a STIX pattern string literal (§9.4: \' and \\ escaped).
func quote(s string) string {
	if !strings.ContainsAny(s, `'\`) {
		return "'" + s + "'"
	}
	return "'" + quoter.Replace(s) + "'"
}

var quoter = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

// observables builds the cyber-observables of an attribute, the root first
// and those it references after it, each with its deterministic id
// (STIX 2.1 §2.9).
func observables(paths []path, values []any, origin string) []map[string]any {
	root := map[string]any{"type": paths[0].root, "spec_version": "2.1"}
	type child struct {
		obj    map[string]any
		parent map[string]any
		key    string
		list   bool
	}
	var children []child
	for i, p := range paths {
		cur := root
		for j, s := range p.steps {
			lastStep := j == len(p.steps)-1
			switch {
			case lastStep:
				cur[s.key] = values[i]
			case s.isRef():
				str, _ := values[i].(string)
				obj := map[string]any{"type": s.refType(str), "spec_version": "2.1"}
				children = append(children, child{obj, cur, s.key, s.isList()})
				cur = obj
			case s.isList():
				d := map[string]any{}
				cur[s.key] = []any{d}
				cur = d
			default:
				d, ok := cur[s.key].(map[string]any)
				if !ok {
					d = map[string]any{}
					cur[s.key] = d
				}
				cur = d
			}
		}
	}
	switch root["type"] {
	case "network-traffic":
		root["protocols"] = []string{"tcp"} // misp-stix's choice; the property is required
	case "email-message":
		root["is_multipart"] = false
	}
	// Ids are given leaves first: a reference contributes to its
	// referrer's id.
	for i := len(children) - 1; i >= 0; i-- {
		ch := children[i]
		ch.obj["id"] = scoID(ch.obj, origin)
		if ch.list {
			ch.parent[ch.key] = append(asList(ch.parent[ch.key]), ch.obj["id"])
		} else {
			ch.parent[ch.key] = ch.obj["id"]
		}
	}
	root["id"] = scoID(root, origin)
	out := []map[string]any{root}
	for _, ch := range children {
		out = append(out, ch.obj)
	}
	return out
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// scoID is the deterministic id of an observable (§2.9). An observable
// without any ID contributing property (an email message known only by
// its recipient) gets a UUIDv4 as §2.9 recommends, but one drawn from the
// attribute's uuid rather than at random, so that a re-import finds it
// again. So does a domain name that resolves to an address: its
// resolves_to_refs does not contribute to its id, so the deterministic id
// would be that of the bare domain name with other content.
func scoID(m map[string]any, origin string) string {
	id, err := stix.SCOID(m)
	if err != nil {
		// Every type in the table is a STIX 2.1 observable.
		panic("misp: " + err.Error())
	}
	typ := m["type"].(string)
	if u, err := uuid.Parse(strings.TrimPrefix(id, typ+"--")); err == nil && (u.Version() == 4 || m["resolves_to_refs"] != nil) {
		d := uuid.NewSHA1(Namespace, []byte(typ+"/"+strings.ToLower(origin)))
		d[6] = d[6]&0x0f | 0x40 // version 4
		return typ + "--" + d.String()
	}
	return id
}

// tagLabels returns the labels of tags: their names, except TLP tags
// (markings) and galaxy tags (which the galaxies map).
func tagLabels(tags []Tag) []string {
	var out []string
	for _, t := range tags {
		if _, ok := tagTLP(t.Name); ok || isGalaxyTag(t.Name) || t.Name == "" {
			continue
		}
		out = append(out, t.Name)
	}
	return out
}

// galaxyTypes maps MISP galaxy types to the STIX 2.1 SDO types misp-stix
// gives their clusters.
var galaxyTypes = map[string]string{
	"threat-actor": "threat-actor", "mitre-threat-actor": "threat-actor",
	"mitre-attack-pattern": "attack-pattern", "attack-pattern": "attack-pattern", "mitre-enterprise-attack-attack-pattern": "attack-pattern",
	"mitre-malware": "malware", "malware": "malware", "malpedia": "malware", "ransomware": "malware", "botnet": "malware", "rat": "malware", "banker": "malware", "stealer": "malware", "android": "malware", "backdoor": "malware", "exploit-kit": "malware",
	"mitre-intrusion-set": "intrusion-set", "intrusion-set": "intrusion-set",
	"mitre-tool": "tool", "tool": "tool",
	"mitre-course-of-action": "course-of-action", "course-of-action": "course-of-action",
	"branded-vulnerability": "vulnerability",
}

// cluster maps one galaxy cluster to an SDO, once per event, and returns
// its id, or "" when the galaxy's type has no STIX mapping.
func (c *converter) cluster(g Galaxy, cl Cluster, level stix.TLP) string {
	typ := galaxyTypes[g.Type]
	if typ == "" {
		c.skip(cl.UUID, "galaxy cluster", "unmapped-galaxy", fmt.Sprintf("galaxy type %q has no STIX 2.1 mapping", g.Type))
		return ""
	}
	if cl.UUID == "" || cl.Value == "" {
		c.skip(cl.UUID, "galaxy cluster", "unmapped-galaxy", "a galaxy cluster needs a uuid and a value")
		return ""
	}
	if id, ok := c.clusters[cl.UUID]; ok {
		return id
	}
	m := c.common(typ, ID(typ, cl.UUID), c.created, later(c.e.Timestamp.unix(), c.created), level)
	m["name"] = cl.Value
	m["x_misp_uuid"] = cl.UUID
	galaxy := map[string]any{"name": g.Name, "type": g.Type}
	if g.UUID != "" {
		galaxy["uuid"] = g.UUID
	}
	if g.Description != "" {
		galaxy["description"] = g.Description
	}
	if g.Namespace != "" {
		galaxy["namespace"] = g.Namespace
	}
	m["x_misp_galaxy"] = galaxy
	m["labels"] = []string{label("galaxy-name", g.Name), label("galaxy-type", g.Type)}
	if cl.Description != "" {
		m["description"] = cl.Description
	}
	if cl.TagName != "" {
		m["x_misp_tag_name"] = cl.TagName
	}
	if typ == "malware" {
		m["is_family"] = true
	}
	var ext []any
	for _, id := range metaStrings(cl.Meta["external_id"]) {
		ext = append(ext, map[string]any{"source_name": g.Type, "external_id": id})
	}
	for _, u := range metaStrings(cl.Meta["refs"]) {
		ext = append(ext, map[string]any{"source_name": "url", "url": u})
	}
	if len(ext) > 0 {
		m["external_references"] = ext
	}
	if syn := metaStrings(cl.Meta["synonyms"]); len(syn) > 0 && typ != "attack-pattern" && typ != "course-of-action" && typ != "vulnerability" {
		m["aliases"] = syn
	}
	id := c.add("", m)
	c.clusters[cl.UUID] = id
	return id
}

func metaStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// report adds the event's report, unless nothing of the event was mapped.
//
// A report is released only where everything it refers to may be
// (policy closes references), so an event whose attributes are marked
// differently gets one report per level, each referring to the objects of
// its level: a recipient gets the reports of the levels it may read, and
// the export joins them into one event again. The report of the event's
// own level has the id derived from the event's uuid; the others' ids
// derive from the uuid and the level.
func (c *converter) report() {
	e := c.e
	if len(c.refs) == 0 {
		c.skip(e.UUID, "event", "empty-event", "no attribute or galaxy cluster of the event maps to STIX, and a report needs object_refs")
		return
	}
	byLevel := map[stix.TLP][]string{}
	seen := make(map[string]bool, len(c.refs))
	for _, r := range c.refs {
		if seen[r] {
			continue
		}
		seen[r] = true
		l := c.levels[r]
		byLevel[l] = append(byLevel[l], r)
	}
	modified := later(e.Timestamp.unix(), c.created)
	published := e.PublishTimestamp.unix()
	if published.IsZero() {
		published = modified
	}
	labels := []string{label("threat_level_id", string(e.ThreatLevelID)), label("analysis", string(e.Analysis)), label("published", strconv.FormatBool(bool(e.Published)))}
	if e.Date != "" {
		labels = append(labels, label("date", e.Date))
	}
	labels = append(labels, tagLabels(e.Tags)...)
	for level := stix.TLPNone; level <= stix.TLPRed; level++ {
		refs := byLevel[level]
		if len(refs) == 0 {
			continue
		}
		id := ID("report", e.UUID)
		if level != c.eventTLP {
			id = ID("report", e.UUID+"/"+tlpTag(level))
		}
		m := c.common("report", id, c.created, modified, level)
		m["name"] = e.Info
		if e.Info == "" {
			m["name"] = "MISP event " + e.UUID
		}
		m["published"] = stix.FormatTime(published)
		m["report_types"] = []string{"misp-event"}
		m["object_refs"] = refs
		m["x_misp_uuid"] = e.UUID
		m["labels"] = labels
		c.add("", m)
	}
}

// prependMarkings puts the TLP 2.0 marking definitions used, and the
// extension definition they use, before everything else.
func (c *converter) prependMarkings() {
	pub := published()
	objs := []json.RawMessage{pub.extension.Raw}
	ids := []string{pub.extension.ID}
	for _, o := range pub.markings {
		if t, _ := stix.TLPOf(o.ID); c.markings[t] {
			objs = append(objs, o.Raw)
			ids = append(ids, o.ID)
		}
	}
	c.res.Objects = slices.Concat(objs, c.res.Objects)
	c.res.IDs = slices.Concat(ids, c.res.IDs)
	c.res.Origin = slices.Concat(make([]string, len(ids)), c.res.Origin)
}

// published holds the TLP 2.0 marking definitions and their extension
// definition, parsed once.
var published = sync.OnceValue(func() (p struct {
	extension *stix.Object
	markings  []*stix.Object
}) {
	p.extension = stix.TLP2ExtensionDefinition()
	for _, o := range stix.TLPMarkingDefinitions() {
		if t, ok := stix.TLPOf(o.ID); ok && stix.TLP2ID(t) == o.ID {
			p.markings = append(p.markings, o)
		}
	}
	return p
})

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// label writes a misp-stix label: misp:name="value".
func label(name, value string) string { return "misp:" + name + `="` + value + `"` }

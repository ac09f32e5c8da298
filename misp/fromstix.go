package misp

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/entente/entente/stix"
	"github.com/entente/entente/stix/pattern"
)

// ExportOptions tunes FromSTIX.
type ExportOptions struct {
	// Loose is the event that collects the indicators, observed data,
	// vulnerabilities and campaigns that no report refers to: its UUID,
	// Info and Date are used. With an empty UUID they are left out.
	Loose Event
}

// FromSTIX maps STIX 2.1 objects, one version of each, to MISP events: each
// report becomes an event, and what it refers to its attributes, objects
// and galaxies. Objects that ToSTIX made come back as the MISP items they
// came from (their uuids, types, values, categories, comments, times, tags
// and object membership); indicators and observed data from elsewhere
// become attributes of the type their pattern or observables call for.
// What has no MISP form is returned as a Skip, with the reason.
func FromSTIX(objs []*stix.Object, opts ExportOptions) ([]Event, []Skip) {
	x := &exporter{byID: make(map[string]*stix.Object, len(objs)), used: map[string]bool{}}
	for _, o := range objs {
		x.byID[o.ID] = o
	}
	// The reports of one MISP event (one per TLP level, see ToSTIX) make
	// one event again: the least restrictive gives the event's header,
	// and all give their objects.
	var groups [][]*stix.Object
	group := map[string]int{}
	for _, o := range objs {
		if o.Type != "report" {
			continue
		}
		key := cmp.Or(str(o.Props["x_misp_uuid"]), o.ID)
		i, ok := group[key]
		if !ok {
			i = len(groups)
			group[key] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], o)
	}
	var events []Event
	for _, g := range groups {
		slices.SortStableFunc(g, func(a, b *stix.Object) int { return cmp.Compare(a.TLP(), b.TLP()) })
		var refs []string
		for _, r := range g {
			refs = append(refs, stringList(r.Props["object_refs"])...)
		}
		events = append(events, x.event(g[0], refs))
	}
	if opts.Loose.UUID != "" {
		var loose []string
		for _, o := range objs {
			if !x.used[o.ID] && attributeTypes[o.Type] {
				loose = append(loose, o.ID)
			}
		}
		if len(loose) > 0 {
			e := opts.Loose
			x.fill(&e, loose, stix.TLPNone)
			looseHeader(&e)
			events = append(events, e)
		}
	}
	slices.SortFunc(events, func(a, b Event) int { return cmp.Compare(a.UUID, b.UUID) })
	return events, x.skipped
}

// attributeTypes are the STIX types that become attributes.
var attributeTypes = map[string]bool{"indicator": true, "observed-data": true, "vulnerability": true, "campaign": true}

type exporter struct {
	byID      map[string]*stix.Object
	used      map[string]bool // objects some report refers to
	skipped   []Skip
	eventUUID string // of the event being built, for skips
}

func (x *exporter) skip(o *stix.Object, reason string) {
	x.skipped = append(x.skipped, Skip{Event: x.eventUUID, Attribute: o.ID, Type: o.Type, Rule: "no-misp-form", Reason: reason})
}

// event builds the event of a report.
func (x *exporter) event(r *stix.Object, refs []string) Event {
	labels := labelMap(r.Labels())
	e := Event{
		UUID:          cmp.Or(str(r.Props["x_misp_uuid"]), idUUID(r.ID)),
		Info:          str(r.Props["name"]),
		Date:          cmp.Or(labels["date"], r.Created[:min(len(r.Created), 10)]),
		Timestamp:     unixText(r.Version()),
		ThreatLevelID: Text(cmp.Or(labels["threat_level_id"], "4")),
		Analysis:      Text(cmp.Or(labels["analysis"], "2")),
		Published:     labels["published"] != "false",
	}
	if p := str(r.Props["published"]); p != "" {
		e.PublishTimestamp = unixText(p)
	}
	level := r.TLP()
	e.Distribution = tlpDistribution(level)
	if level != stix.TLPNone {
		e.Tags = append(e.Tags, Tag{Name: tlpTag(level)})
	}
	for _, l := range r.Labels() {
		if !strings.HasPrefix(l, "misp:") {
			e.Tags = append(e.Tags, Tag{Name: l})
		}
	}
	if id := r.CreatedByRef(); id != "" {
		if org := x.byID[id]; org != nil && org.Type == "identity" {
			e.Orgc = &Org{UUID: cmp.Or(str(org.Props["x_misp_uuid"]), idUUID(org.ID)), Name: str(org.Props["name"])}
		}
	}
	x.fill(&e, refs, level)
	return e
}

// fill adds to e the attributes, objects and galaxies of the referred
// objects.
func (x *exporter) fill(e *Event, refs []string, level stix.TLP) {
	x.eventUUID = e.UUID
	objIndex := map[string]int{} // MISP object uuid → index in e.Objects
	galaxies := map[string]int{} // galaxy type → index in e.Galaxies
	attrOf := map[string][]attrRef{}
	// Clusters that a relationship ties to an attribute are that
	// attribute's, not the event's.
	attrCluster := map[string]bool{}
	for _, id := range refs {
		if o := x.byID[id]; o != nil && o.Type == "relationship" {
			if src := x.byID[str(o.Props["source_ref"])]; src != nil && attributeTypes[src.Type] {
				attrCluster[str(o.Props["target_ref"])] = true
			}
		}
	}
	for _, id := range refs {
		o := x.byID[id]
		if o == nil {
			continue // released without it, or never had it
		}
		x.used[id] = true
		switch {
		case o.Type == "relationship":
			continue // with the attributes below
		case attributeTypes[o.Type] && (o.Props["x_misp_galaxy"] == nil):
			attrs := x.attributes(o, level)
			for _, a := range attrs {
				attrOf[o.ID] = append(attrOf[o.ID], x.place(e, o, a, objIndex))
			}
		case galaxyOf(o) != "" && attrCluster[o.ID]:
			continue // with the attributes below
		case galaxyOf(o) != "":
			g, cl := x.cluster(o)
			i, ok := galaxies[g.Type]
			if !ok {
				i = len(e.Galaxies)
				galaxies[g.Type] = i
				e.Galaxies = append(e.Galaxies, g)
			}
			e.Galaxies[i].Clusters = append(e.Galaxies[i].Clusters, cl)
			// MISP attaches clusters through their tags.
			e.Tags = append(e.Tags, Tag{Name: cl.TagName})
		default:
			x.skip(o, fmt.Sprintf("a STIX %s has no MISP form", o.Type))
		}
	}
	// Relationships from an attribute's object to a galaxy cluster's
	// become the attribute's galaxies.
	for _, id := range refs {
		o := x.byID[id]
		if o == nil || o.Type != "relationship" {
			continue
		}
		src, tgt := x.byID[str(o.Props["source_ref"])], x.byID[str(o.Props["target_ref"])]
		if src == nil || tgt == nil || galaxyOf(tgt) == "" || len(attrOf[src.ID]) == 0 {
			x.skip(o, "only relationships from an attribute to a galaxy cluster have a MISP form")
			continue
		}
		g, cl := x.cluster(tgt)
		g.Clusters = []Cluster{cl}
		for _, ar := range attrOf[src.ID] {
			a := ar.get(e)
			a.Galaxies = append(a.Galaxies, g)
			a.Tags = append(a.Tags, Tag{Name: cl.TagName})
		}
	}
}

// attrRef finds an attribute placed in an event or in one of its objects.
type attrRef struct{ obj, i int }

func (r attrRef) get(e *Event) *Attribute {
	if r.obj < 0 {
		return &e.Attributes[r.i]
	}
	return &e.Objects[r.obj].Attributes[r.i]
}

// place adds an attribute to the event, or to its MISP object when the
// STIX object says it belongs to one.
func (x *exporter) place(e *Event, o *stix.Object, a Attribute, objIndex map[string]int) attrRef {
	xo, _ := o.Props["x_misp_object"].(map[string]any)
	if xo == nil || str(xo["uuid"]) == "" {
		e.Attributes = append(e.Attributes, a)
		return attrRef{-1, len(e.Attributes) - 1}
	}
	u := str(xo["uuid"])
	i, ok := objIndex[u]
	if !ok {
		i = len(e.Objects)
		objIndex[u] = i
		e.Objects = append(e.Objects, Object{
			UUID: u, Name: str(xo["name"]), MetaCategory: str(xo["meta_category"]), Comment: str(xo["comment"]),
			TemplateUUID: str(xo["template_uuid"]), Timestamp: Text(str(xo["timestamp"])), Distribution: Text(str(xo["distribution"])),
		})
	}
	a.ObjectRelation = str(xo["relation"])
	e.Objects[i].Attributes = append(e.Objects[i].Attributes, a)
	return attrRef{i, len(e.Objects[i].Attributes) - 1}
}

// attributes maps one indicator, observed data, vulnerability or campaign
// to the attributes it stands for: one for what ToSTIX made, and for
// others one per value their pattern or observables hold.
func (x *exporter) attributes(o *stix.Object, eventLevel stix.TLP) []Attribute {
	labels := labelMap(o.Labels())
	hint := typeByName[labels["type"]]
	base := Attribute{
		UUID:      cmp.Or(str(o.Props["x_misp_uuid"]), idUUID(o.ID)),
		Category:  labels["category"],
		Comment:   str(o.Props["description"]),
		Timestamp: unixText(o.Version()),
	}
	switch level := o.TLP(); {
	case level != eventLevel && level != stix.TLPNone:
		base.Distribution = tlpDistribution(level)
		base.Tags = append(base.Tags, Tag{Name: tlpTag(level)})
	case level == stix.TLPNone && eventLevel == stix.TLPNone:
		// Nothing says it may go further: this organisation only.
		base.Distribution = tlpDistribution(stix.TLPNone)
	default:
		base.Distribution = "5"
	}
	for _, l := range o.Labels() {
		if !strings.HasPrefix(l, "misp:") {
			base.Tags = append(base.Tags, Tag{Name: l})
		}
	}
	var found []typedValue
	switch o.Type {
	case "vulnerability":
		found = []typedValue{{typeByName["vulnerability"], str(o.Props["name"])}}
	case "campaign":
		found = []typedValue{{typeByName["campaign-name"], str(o.Props["name"])}}
	case "indicator":
		pt := str(o.Props["pattern_type"])
		if t := typeByName[pt]; t != nil && t.rule {
			found = []typedValue{{t, str(o.Props["pattern"])}}
		} else if pt != "stix" {
			x.skip(o, fmt.Sprintf("pattern_type %q has no MISP attribute type", pt))
			return nil
		} else {
			var reason string
			if found, reason = fromPattern(str(o.Props["pattern"]), hint); reason != "" {
				x.skip(o, reason)
				return nil
			}
		}
		from, until := str(o.Props["valid_from"]), str(o.Props["valid_until"])
		if from != "" && from != o.Created {
			base.FirstSeen = seenText(from)
		}
		if until != "" {
			base.LastSeen = seenText(until)
		}
	case "observed-data":
		var reason string
		if found, reason = x.fromObservables(o, hint); reason != "" {
			x.skip(o, reason)
			return nil
		}
		first, last := str(o.Props["first_observed"]), str(o.Props["last_observed"])
		if first != o.Modified {
			base.FirstSeen = seenText(first)
			if last != first {
				base.LastSeen = seenText(last)
			}
		}
	}
	// An indicator is for detection unless misp-stix's labels say that
	// the attribute it came from was not.
	base.ToIDs = o.Type == "indicator" && (labels["type"] == "" || labels["to_ids"] == "True") ||
		o.Type != "indicator" && labels["to_ids"] == "True"
	if v := str(o.Props["x_misp_value"]); v != "" && len(found) == 1 {
		found[0].value = v
	}
	out := make([]Attribute, 0, len(found))
	for i, f := range found {
		a := base
		a.Tags = slices.Clone(base.Tags)
		a.Type, a.Value = f.t.name, f.value
		if a.Category == "" {
			a.Category = f.t.category
		}
		if i > 0 {
			// Further values of one STIX object get uuids of their own,
			// stable across exports.
			a.UUID = uuid.NewSHA1(Namespace, []byte(o.ID+"/"+strconv.Itoa(i))).String()
		}
		out = append(out, a)
	}
	return out
}

type typedValue struct {
	t     *attrType
	value string
}

// pair is one property of an observable or one comparison of a pattern:
// its path (in path.key form) and value.
type pair struct {
	key, value string
	refType    string // for a path through a reference, the referenced type when known
}

// fromPattern reads the values of a pattern that compares properties with
// = only, joined by AND (one attribute) or OR (one attribute per side).
func fromPattern(src string, hint *attrType) ([]typedValue, string) {
	p, err := pattern.Parse(src)
	if err != nil {
		return nil, "the pattern does not parse: " + err.Error()
	}
	var groups [][]pair
	var walkObs func(e pattern.ObservationExpr) bool
	walkObs = func(e pattern.ObservationExpr) bool {
		switch e := e.(type) {
		case *pattern.ObservationSimple:
			gs, ok := orGroups(e.Comparison)
			groups = append(groups, gs...)
			return ok
		case *pattern.ObservationBinary:
			return e.Op == pattern.ObsOr && walkObs(e.Left) && walkObs(e.Right)
		}
		return false
	}
	if !walkObs(p.Expr) {
		return nil, "only patterns of = comparisons joined by AND and OR, without qualifiers, have a MISP form"
	}
	var out []typedValue
	for _, g := range groups {
		tv, reason := match(g, hint)
		if reason != "" {
			return nil, reason
		}
		out = append(out, tv...)
	}
	return out, ""
}

// orGroups splits a comparison expression at its ORs into groups of
// comparisons joined by AND.
func orGroups(e pattern.ComparisonExpr) ([][]pair, bool) {
	switch e := e.(type) {
	case *pattern.ComparisonBinary:
		l, ok1 := orGroups(e.Left)
		r, ok2 := orGroups(e.Right)
		if !ok1 || !ok2 {
			return nil, false
		}
		if e.Op == pattern.BoolOr {
			return append(l, r...), true
		}
		if len(l) != 1 || len(r) != 1 {
			return nil, false // (a OR b) AND c
		}
		return [][]pair{append(l[0], r[0]...)}, true
	case *pattern.Comparison:
		if e.Op != pattern.OpEqual || e.Negated {
			return nil, false
		}
		var v string
		switch e.Value.Kind {
		case pattern.KindString:
			v = e.Value.Str
		case pattern.KindInt:
			v = strconv.FormatInt(e.Value.Int, 10)
		default:
			return nil, false
		}
		keys := make([]string, 0, len(e.Path.Steps))
		for _, s := range e.Path.Steps {
			if s.Kind == pattern.StepKey {
				keys = append(keys, s.Key)
			}
		}
		return [][]pair{{{key: e.Path.Type + ":" + strings.Join(keys, "."), value: v}}}, true
	}
	return nil, false
}

// aliases name the MISP type of single paths that no type of the table
// has: plain addresses, which misp-stix writes as network traffic.
var aliases = map[string]string{"ipv4-addr:value": "ip-dst", "ipv6-addr:value": "ip-dst"}

// match finds the attribute types of a group of pairs: one type whose
// paths are exactly the group's (the hint first), else one single-path
// type per pair.
func match(g []pair, hint *attrType) ([]typedValue, string) {
	// The type of a referenced object ("dst_ref.type = 'ipv4-addr'") is
	// a constraint, not a value.
	refTypes := map[string]string{}
	var vals []pair
	for _, p := range g {
		if prefix, ok := strings.CutSuffix(p.key, ".type"); ok && strings.HasSuffix(prefix, "_ref") {
			refTypes[prefix] = p.value
			continue
		}
		vals = append(vals, p)
	}
	for i := range vals {
		prefix := vals[i].key[:strings.LastIndexByte(vals[i].key, '.')+1]
		vals[i].refType = refTypes[strings.TrimSuffix(prefix, ".")]
	}
	if hint != nil {
		if v, ok := fits(hint, vals); ok {
			return []typedValue{{hint, v}}, ""
		}
	}
	for i := range attrTypes {
		t := &attrTypes[i]
		if t.rule || t.sdo != "" {
			continue
		}
		if v, ok := fits(t, vals); ok {
			return []typedValue{{t, v}}, ""
		}
	}
	// One attribute per value, where each value alone has a type.
	var out []typedValue
	for _, p := range vals {
		t := typeByName[aliases[p.key]]
		if t != nil {
			out = append(out, typedValue{t, p.value})
			continue
		}
		for i := range attrTypes {
			if v, ok := fits(&attrTypes[i], []pair{p}); ok && !attrTypes[i].rule && attrTypes[i].sdo == "" {
				t = &attrTypes[i]
				out = append(out, typedValue{t, v})
				break
			}
		}
		if t == nil {
			return nil, fmt.Sprintf("no MISP attribute type holds %s", p.key)
		}
	}
	return out, ""
}

// fits reports whether pairs are exactly t's paths, each once, and
// returns the value they make.
func fits(t *attrType, pairs []pair) (string, bool) {
	if len(t.paths) != len(pairs) || len(pairs) == 0 {
		return "", false
	}
	parts := make([]string, len(t.paths))
	used := make([]bool, len(pairs))
	for i, p := range t.paths {
		k := p.key()
		found := false
		for j, q := range pairs {
			if used[j] || q.key != k || !targetFits(p, q) {
				continue
			}
			used[j], found, parts[i] = true, true, q.value
			break
		}
		if !found {
			return "", false
		}
	}
	if t.name == "AS" {
		parts[0] = "AS" + parts[0]
	}
	return strings.Join(parts, "|"), true
}

// targetFits checks the type of the object a path's reference points to.
func targetFits(p path, q pair) bool {
	for _, s := range p.steps {
		switch {
		case !s.isRef():
		case s.target == "ip":
			if q.refType != "" {
				return q.refType == "ipv4-addr" || q.refType == "ipv6-addr"
			}
			_, err := netip.ParseAddr(q.value)
			return err == nil
		case q.refType != "":
			return q.refType == s.target
		case s.target == "domain-name":
			_, err := netip.ParseAddr(q.value)
			return err != nil
		}
	}
	return true
}

// fromObservables reads the values of observed data's observables: those
// its object_refs name that no other of them refers to are the roots, and
// each root with what it refers to is one group.
func (x *exporter) fromObservables(o *stix.Object, hint *attrType) ([]typedValue, string) {
	refs := stringList(o.Props["object_refs"])
	referenced := map[string]bool{}
	for _, id := range refs {
		if s := x.byID[id]; s != nil {
			for _, r := range s.Refs() {
				referenced[r] = true
			}
		}
	}
	var out []typedValue
	for _, id := range refs {
		s := x.byID[id]
		if s == nil {
			return nil, "observable " + id + " is not in the collection"
		}
		if referenced[id] {
			continue
		}
		var g []pair
		x.flatten(&g, s.Type+":", s.Props, 0)
		if len(g) == 0 {
			return nil, "observable " + id + " holds no value a MISP attribute type has"
		}
		tv, reason := match(g, hint)
		if reason != "" {
			return nil, reason
		}
		out = append(out, tv...)
	}
	return out, ""
}

// skipProps are properties of observables that hold no value of an
// attribute.
var skipProps = map[string]bool{"type": true, "id": true, "spec_version": true, "protocols": true,
	"is_multipart": true, "defanged": true, "object_marking_refs": true, "granular_markings": true}

// flatten lists the values of an observable as path, value pairs,
// following references into the observables they name.
func (x *exporter) flatten(out *[]pair, prefix string, m map[string]any, depth int) {
	if depth > 4 {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if skipProps[k] || strings.HasPrefix(k, "x_") {
			continue
		}
		var visit func(v any)
		visit = func(v any) {
			switch v := v.(type) {
			case string:
				if strings.HasSuffix(k, "_ref") || strings.HasSuffix(k, "_refs") {
					if s := x.byID[v]; s != nil {
						n := len(*out)
						x.flatten(out, prefix+k+".", s.Props, depth+1)
						for i := n; i < len(*out); i++ {
							if (*out)[i].refType == "" {
								(*out)[i].refType = s.Type
							}
						}
					}
					return
				}
				*out = append(*out, pair{key: prefix + k, value: v})
			case json.Number:
				*out = append(*out, pair{key: prefix + k, value: v.String()})
			case map[string]any:
				x.flatten(out, prefix+k+".", v, depth+1)
			case []any:
				for _, e := range v {
					visit(e)
				}
			}
		}
		visit(m[k])
	}
}

// cluster returns the galaxy and cluster a galaxy SDO stands for.
func (x *exporter) cluster(o *stix.Object) (Galaxy, Cluster) {
	g := Galaxy{Type: galaxyOf(o)}
	if xg, ok := o.Props["x_misp_galaxy"].(map[string]any); ok {
		g = Galaxy{UUID: str(xg["uuid"]), Name: str(xg["name"]), Type: str(xg["type"]), Description: str(xg["description"]), Namespace: str(xg["namespace"])}
	}
	if g.Name == "" {
		g.Name = g.Type
	}
	name := str(o.Props["name"])
	cl := Cluster{
		UUID:        cmp.Or(str(o.Props["x_misp_uuid"]), idUUID(o.ID)),
		Type:        g.Type,
		Value:       name,
		Description: str(o.Props["description"]),
		TagName:     cmp.Or(str(o.Props["x_misp_tag_name"]), fmt.Sprintf("misp-galaxy:%s=%q", g.Type, name)),
	}
	meta := map[string]any{}
	var ext, refs []any
	refList, _ := o.Props["external_references"].([]any)
	for _, r := range refList {
		m, _ := r.(map[string]any)
		switch {
		case str(m["external_id"]) != "" && str(m["source_name"]) == g.Type:
			ext = append(ext, str(m["external_id"]))
		case str(m["url"]) != "" && str(m["source_name"]) == "url":
			refs = append(refs, str(m["url"]))
		}
	}
	if len(ext) > 0 {
		meta["external_id"] = ext
	}
	if len(refs) > 0 {
		meta["refs"] = refs
	}
	if aliases, _ := o.Props["aliases"].([]any); len(aliases) > 0 {
		meta["synonyms"] = aliases
	}
	if len(meta) > 0 {
		cl.Meta = meta
	}
	return g, cl
}

// galaxyOf is the MISP galaxy type of an SDO that stands for a galaxy
// cluster, or "".
func galaxyOf(o *stix.Object) string {
	if xg, ok := o.Props["x_misp_galaxy"].(map[string]any); ok {
		return str(xg["type"])
	}
	return nativeGalaxies[o.Type]
}

// nativeGalaxies gives SDOs from other sources the galaxy MISP gives the
// same kind of object, MITRE ATT&CK's where there is one.
var nativeGalaxies = map[string]string{
	"threat-actor": "threat-actor", "attack-pattern": "mitre-attack-pattern", "malware": "mitre-malware",
	"intrusion-set": "mitre-intrusion-set", "tool": "mitre-tool", "course-of-action": "mitre-course-of-action",
}

// labelMap reads misp-stix's labels, misp:name="value".
func labelMap(labels []string) map[string]string {
	m := map[string]string{}
	for _, l := range labels {
		rest, ok := strings.CutPrefix(l, "misp:")
		if !ok {
			continue
		}
		name, v, ok := strings.Cut(rest, "=")
		if ok && len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			m[name] = v[1 : len(v)-1]
		}
	}
	return m
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func stringList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// idUUID is the uuid part of a STIX id.
func idUUID(id string) string {
	_, u, _ := strings.Cut(id, "--")
	return u
}

func unixText(ts string) Text {
	t, err := stix.ParseTime(ts)
	if err != nil {
		return ""
	}
	return Text(strconv.FormatInt(t.Unix(), 10))
}

// seenText writes a STIX timestamp as MISP writes first_seen.
func seenText(ts string) string {
	t, err := stix.ParseTime(ts)
	if err != nil {
		return ""
	}
	return t.UTC().Format(seenOut)
}

// seenOut writes UTC as +00:00, as MISP does.
const seenOut = "2006-01-02T15:04:05.000000-07:00"

// looseHeader completes the event that collects objects no report refers
// to: its time is its latest attribute's, and its distribution the least
// restrictive of its attributes' (each of which carries its own), an
// attribute's being the stricter of its distribution and its TLP tags.
func looseHeader(e *Event) {
	var latest int64
	least := stix.TLPRed
	for _, a := range allAttributesOf(e) {
		if n, err := strconv.ParseInt(string(a.Timestamp), 10, 64); err == nil && n > latest {
			latest = n
		}
		// An attribute is as restricted as the stricter of its
		// distribution and its TLP tags; the event is as loose as its
		// loosest attribute, and no looser.
		own := distributionTLP(a.Distribution)
		for _, t := range a.Tags {
			if l, ok := tagTLP(t.Name); ok {
				own = max(own, l)
			}
		}
		if own != stix.TLPNone {
			least = min(least, own)
		}
	}
	if e.Timestamp == "" && latest > 0 {
		e.Timestamp = Text(strconv.FormatInt(latest, 10))
	}
	if e.Date == "" && latest > 0 {
		e.Date = time.Unix(latest, 0).UTC().Format(time.DateOnly)
	}
	e.Distribution = tlpDistribution(least)
	e.ThreatLevelID = cmp.Or(e.ThreatLevelID, "4")
	e.Analysis = cmp.Or(e.Analysis, "2")
	e.Published = true
}

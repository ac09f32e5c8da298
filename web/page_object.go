package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/node"
	"github.com/entente/entente/policy"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// The object page's bounds: the versions it lists, the relationships it
// shows, and the relationship versions one request reads looking for
// those that reference the object. No index finds them: the page reads
// the collection's relationships in order, relScanCap at a time, from
// the object's first version on, and says so when it stopped before the
// end.
const (
	maxVersions      = 100
	maxRelationships = 24
	relScanCap       = 500
)

type versionRow struct {
	Version   string
	DateAdded time.Time
	Current   bool
}

// relation is a relationship where the object is source or target.
type relation struct {
	ID, Type          string // the relationship's id and relationship_type
	Outgoing          bool   // the object is the source
	Other             string // the other end's id
	OtherLabel        string
	OtherLink         string // "" when the other end is not in the collection
	RelLink           string
	X, Y, LX, LY      int // the other end's place in the graph, and the edge label's
	TextX, TextAnchor string
}

type decisionRow struct {
	Party    string // the party's name
	Verdict  string // "released", "redacted", "withheld"
	Class    string // the badge's class
	Sentence string
	Rule     string
	Reason   string
	Shared   bool
}

type disclosureRow struct {
	Party, Node, Version, Rule, Redactions string
	Time                                   time.Time
	Entry                                  int64
}

type objectData struct {
	ID, Collection, CollectionTitle string
	Summary                         summary
	Latest                          store.Object
	Versions                        []versionRow
	MoreVersions                    bool
	JSON                            string
	Origin                          string
	Provenance                      node.Provenance
	Relations                       []relation
	RelScanned                      int
	RelNext                         string // continue the relationship search from here, "" when it reached the end
	RelMore                         bool   // more relationships were found than shown
	GraphLabel                      string
	Decisions                       []decisionRow
	NoAgreement                     bool
	Disclosures                     []disclosureRow
	MoreDisclosures                 bool
	ListLink                        string
	RemovedText                     string // the properties a redacted copy lacks
	RelFromStart                    string // search for relationships from the collection's start
	firstSeq                        int64  // the object's first stored version
}

func (s *Server) objectPage(w http.ResponseWriter, r *http.Request, u *Session) {
	ctx := r.Context()
	id := r.PathValue("id")
	colID := r.URL.Query().Get("collection")
	notFound := func() {
		s.fail(w, r, u, http.StatusNotFound, u.T("No such object in a collection you may read."))
	}
	if !stix.ValidID(id) {
		notFound()
		return
	}
	// The collections are read once: they give the default collection
	// and the chosen one's title.
	cols, err := s.node.ReadableCollections(ctx, u.Caller)
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	if colID == "" {
		if len(cols) == 0 {
			notFound()
			return
		}
		colID = cols[0].ID
	}
	fail := func(err error) {
		if errors.Is(err, taxii.ErrNotFound) {
			notFound()
			return
		}
		s.internal(w, r, u, err)
	}
	vp, err := s.node.ConsoleObjects(ctx, u.Caller, store.Query{Collection: colID, IDs: []string{id},
		Versions: store.VersionFilter{All: true}, Limit: maxVersions, WithoutContent: true})
	if err != nil {
		fail(err)
		return
	}
	lp, err := s.node.ConsoleObjects(ctx, u.Caller, store.Query{Collection: colID, IDs: []string{id}, Limit: 1})
	if err != nil {
		fail(err)
		return
	}
	if len(lp.Objects) == 0 {
		notFound()
		return
	}
	latest := lp.Objects[0]
	d := objectData{ID: id, Collection: colID, Latest: latest, Summary: summarize(latest.Raw),
		Origin: s.originName(u, latest.FromParty), MoreVersions: vp.More,
		ListLink: Prefix + "objects?collection=" + url.QueryEscape(colID)}
	for _, c := range cols {
		if c.ID == colID {
			d.CollectionTitle = c.Title
		}
	}
	d.firstSeq = latest.Seq
	if len(vp.Objects) > 0 {
		d.firstSeq = vp.Objects[0].Seq
	}
	for i := len(vp.Objects) - 1; i >= 0; i-- {
		v := vp.Objects[i]
		d.Versions = append(d.Versions, versionRow{Version: v.Version, DateAdded: v.DateAdded, Current: v.Seq == latest.Seq})
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, latest.Raw, "", "  ") == nil {
		d.JSON = pretty.String()
	} else {
		d.JSON = string(latest.Raw)
	}
	if d.Provenance, err = s.node.ObjectProvenance(ctx, u.Caller, colID, &latest); err != nil {
		fail(err)
		return
	}
	d.RemovedText = strings.Join(d.Provenance.Removed, ", ")
	if err := s.relations(r, u, &d); err != nil {
		fail(err)
		return
	}
	decisions, err := s.node.ExplainRelease(ctx, u.Caller, colID, &latest)
	if err != nil {
		fail(err)
		return
	}
	a, _ := s.node.Agreement()
	d.NoAgreement = a == nil
	for _, pd := range decisions {
		d.Decisions = append(d.Decisions, s.decisionRow(u, a, pd))
	}
	ds, more, err := s.node.ObjectDisclosures(ctx, u.Caller, colID, id)
	if err != nil {
		fail(err)
		return
	}
	d.MoreDisclosures = more
	for _, x := range ds {
		d.Disclosures = append(d.Disclosures, disclosureRow{Party: partyName(a, x.Party), Node: x.Node, Version: x.Version,
			Rule: x.Rule, Redactions: strings.Join(x.Redactions, ", "), Time: x.Time, Entry: x.Ledger})
	}
	s.render(w, r, u, "object.html", d)
}

// relations finds the relationships of the collection that have the
// object as source or target, reading at most relScanCap relationship
// versions from the cursor rel (the query string's), and lays them out
// as a star around the object. A relationship object itself shows its
// own source and target.
func (s *Server) relations(r *http.Request, u *Session, d *objectData) error {
	ctx := r.Context()
	var rels []relation
	if d.Summary.Type == "relationship" {
		for _, end := range []struct {
			id  string
			out bool
		}{{d.Summary.TargetRef, true}, {d.Summary.SourceRef, false}} {
			if end.id != "" {
				rels = append(rels, relation{ID: d.ID, Type: d.Summary.RelationshipType, Outgoing: end.out, Other: end.id})
			}
		}
	} else {
		// Relationships are mostly stored with or after the objects they
		// join: the search starts at the object's first version, and can
		// be asked to start from the beginning (rel=0).
		after := d.firstSeq - 1
		if v := r.URL.Query().Get("rel"); v != "" {
			after, _ = strconv.ParseInt(v, 10, 64)
			after = max(after, 0)
		} else if after > 0 {
			d.RelFromStart = Prefix + "objects/" + url.PathEscape(d.ID) + "?" + url.Values{"collection": {d.Collection}, "rel": {"0"}}.Encode()
		}
		q := store.Query{Collection: d.Collection, Types: []string{"relationship"}, After: after, Limit: relScanCap}
		p, err := s.node.ConsoleObjects(ctx, u.Caller, q)
		if err != nil {
			return err
		}
		d.RelScanned = len(p.Objects)
		needle := []byte(`"` + d.ID + `"`)
		for i := range p.Objects {
			o := &p.Objects[i]
			if !bytes.Contains(o.Raw, needle) && bytes.IndexByte(o.Raw, '\\') < 0 {
				continue // cannot name the object: it holds no escapes either
			}
			sm := summarize(o.Raw)
			switch d.ID {
			case sm.SourceRef:
				rels = append(rels, relation{ID: o.ID, Type: sm.RelationshipType, Outgoing: true, Other: sm.TargetRef})
			case sm.TargetRef:
				rels = append(rels, relation{ID: o.ID, Type: sm.RelationshipType, Other: sm.SourceRef})
			}
		}
		if p.More && len(p.Objects) > 0 {
			v := url.Values{"collection": {d.Collection}, "rel": {strconv.FormatInt(p.Objects[len(p.Objects)-1].Seq, 10)}}
			d.RelNext = Prefix + "objects/" + url.PathEscape(d.ID) + "?" + v.Encode()
		}
	}
	if len(rels) > maxRelationships {
		rels, d.RelMore = rels[:maxRelationships], true
	}
	// The other ends' names, in one read.
	var ids []string
	for _, rl := range rels {
		if stix.ValidID(rl.Other) {
			ids = append(ids, rl.Other)
		}
	}
	names := map[string]summary{}
	if len(ids) > 0 {
		p, err := s.node.ConsoleObjects(ctx, u.Caller, store.Query{Collection: d.Collection, IDs: ids, Limit: len(ids)})
		if err != nil {
			return err
		}
		for _, o := range p.Objects {
			names[o.ID] = summarize(o.Raw)
		}
	}
	for i := range rels {
		rl := &rels[i]
		rl.RelLink = objectLink(rl.ID, d.Collection)
		rl.OtherLabel = rl.Other
		if sm, ok := names[rl.Other]; ok {
			rl.OtherLink = objectLink(rl.Other, d.Collection)
			if sm.Excerpt != "" {
				rl.OtherLabel = sm.Type + ": " + sm.Excerpt
			}
		}
		// A star: the object in the middle, the other ends on a circle.
		a := 2*math.Pi*float64(i)/float64(len(rels)) - math.Pi/2
		rl.X = graphCX + int(math.Round(graphR*math.Cos(a)))
		rl.Y = graphCY + int(math.Round(graphR*math.Sin(a)))
		rl.LX, rl.LY = (graphCX+rl.X)/2, (graphCY+rl.Y)/2
		switch {
		case rl.X < graphCX-10:
			rl.TextX, rl.TextAnchor = strconv.Itoa(rl.X-10), "end"
		case rl.X > graphCX+10:
			rl.TextX, rl.TextAnchor = strconv.Itoa(rl.X+10), "start"
		default:
			rl.TextX, rl.TextAnchor = strconv.Itoa(rl.X), "middle"
		}
	}
	d.Relations = rels
	d.GraphLabel = u.T("The relationships listed below, as a graph around this object.")
	return nil
}

// The graph's geometry, in SVG user units.
const (
	graphCX = 360
	graphCY = 210
	graphR  = 160
)

func objectLink(id, collection string) string {
	return Prefix + "objects/" + url.PathEscape(id) + "?collection=" + url.QueryEscape(collection)
}

// decisionRow says in plain words what release would do for one partner.
func (s *Server) decisionRow(u *Session, a *agreement.Agreement, pd node.PartnerDecision) decisionRow {
	name := partyName(a, pd.Party)
	row := decisionRow{Party: name, Shared: pd.Shared, Rule: pd.Decision.Rule}
	d := pd.Decision
	switch {
	case pd.FromRecipient:
		row.Verdict, row.Class = u.T("withheld"), "warn"
		row.Sentence = u.T("would not go back to %s: it came from %s, which holds it already", name, name)
		return row
	case d.Verdict == policy.Allow:
		row.Verdict, row.Class = u.T("released"), "ok"
		row.Sentence = u.T("would go to %s as it is, rule %s", name, d.Rule)
	case d.Verdict == policy.Redact:
		row.Verdict, row.Class = u.T("redacted"), "warn"
		row.Sentence = u.T("would go to %s as redacted, rule %s, without %s", name, d.Rule, strings.Join(d.Redact, ", "))
	default:
		row.Verdict, row.Class = u.T("withheld"), "bad"
		if d.Rule != "" {
			row.Sentence = u.T("would be withheld from %s, rule %s", name, d.Rule)
		} else {
			row.Sentence = u.T("would be withheld from %s", name)
		}
	}
	row.Reason = s.reason(u, a, d)
	return row
}

// reason explains a decision in the console's language; it says what
// policy.Decision.Reason says.
func (s *Server) reason(u *Session, a *agreement.Agreement, d policy.Decision) string {
	switch d.Code {
	case policy.CodeAllowed:
		if d.Rule == node.CaseRule {
			return u.T("the case's parties receive its versions")
		}
		return u.T("the rule allows it")
	case policy.CodeRedacted:
		return u.T("the rule allows it without the properties marked beyond what the recipient may see: %s", strings.Join(d.Redact, ", "))
	case policy.CodeUnknownRecipient:
		return u.T("%s is not another party to the agreement", d.Subject)
	case policy.CodeNoRule:
		if d.Subject == "" {
			return u.T("the case is not this party's, or is a draft")
		}
		return u.T("no rule lets this party send to %s", partyName(a, d.Subject))
	case policy.CodeMalformed:
		return u.T("the object's %s is malformed, so its markings cannot be trusted", d.Subject)
	case policy.CodeNotReleased:
		return u.T("it revokes an object that was never released to the recipient")
	case policy.CodeUnknownOrigin:
		return u.T("it was received from %s, which has no rule towards this party", partyName(a, d.Subject))
	case policy.CodeOnwardTransfer:
		return u.T("it was received from %s, whose rule does not allow onward transfer", partyName(a, d.Subject))
	case policy.CodeOnwardTLP:
		return u.T("it was received from %s at %s, which is never forwarded", partyName(a, d.Subject), d.TLP)
	case policy.CodeSightingsBack:
		return u.T("it is a sighting of %s's data, and that rule does not let sightings flow back", partyName(a, d.Subject))
	case policy.CodeType:
		return u.T("type %s is not among the types the rule allows", d.Subject)
	case policy.CodeTLP:
		return u.T("%s is above the rule's TLP ceiling", d.TLP)
	case policy.CodeOrganization:
		return u.T("%s goes only to the organisations the rule names, and %s is not one", d.TLP, d.Subject)
	case policy.CodeIndividual:
		return u.T("TLP:RED goes only to the individuals the rule names, and none is named here")
	case policy.CodePAP:
		return u.T("%s is above the rule's PAP ceiling", d.PAP)
	case policy.CodeLabel:
		return u.T("label %s is excluded", d.Subject)
	case policy.CodeCapability:
		return u.T("capability %s is excluded", d.Subject)
	case policy.CodeReference:
		return u.T("it references %s, which cannot be released (its %s check fails)", d.Subject, d.Inner.String())
	case policy.CodeReferenceMissing:
		return u.T("it references %s, which is not available to check", d.Subject)
	case policy.CodeReferenceDepth:
		return u.T("its references nest too deep, at %s", d.Subject)
	case policy.CodeMarkedRequired:
		return u.T("its required property %s is marked beyond what the recipient may see, so it cannot be redacted", d.Subject)
	}
	return u.T("denied (%s)", fmt.Sprint(d.Code))
}

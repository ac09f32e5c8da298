package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// routesObjects registers the objects page and the object page.
func (s *Server) routesObjects(rt *router) {
	rt.page("GET /ui/objects", roleReader, s.objectsPage)
	rt.page("GET /ui/objects/{id}", roleReader, s.objectPage)
}

// The objects list reads the collection in the store's keyset order
// (sequence number, which is date_added order) and filters in Go what the
// store cannot: labels, TLP, origin, text. Its cost is bounded whatever is
// stored: one request reads at most scanCap versions, in reads of at most
// scanBatch.
const (
	objectsPageSize = 50
	scanCap         = 2000
	scanBatch       = 500
)

// objectFilter is the list's query string.
type objectFilter struct {
	Collection string
	Type       string
	Label      string
	TLP        string // "", "none", or a level's name in lower case ("amber+strict")
	Origin     string // "", "own", or a partner party's id
	After      string // as typed: YYYY-MM-DD or RFC 3339
	Before     string
	Text       string
	Cursor     int64 // list versions with a sequence number above it

	after, before time.Time
	tlp           stix.TLP
}

// query is f as a query string, for the next page's link.
func (f objectFilter) query(cursor int64) string {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("collection", f.Collection)
	set("type", f.Type)
	set("label", f.Label)
	set("tlp", f.TLP)
	set("origin", f.Origin)
	set("after", f.After)
	set("before", f.Before)
	set("q", f.Text)
	if cursor > 0 {
		v.Set("cursor", strconv.FormatInt(cursor, 10))
	}
	return "?" + v.Encode()
}

// tlpChoices are the TLP filter's values, with their catalog labels.
var tlpChoices = []struct{ Value, Label string }{
	{"", "Any marking"},
	{"none", "No TLP marking"},
	{"clear", "TLP:CLEAR"},
	{"green", "TLP:GREEN"},
	{"amber", "TLP:AMBER"},
	{"amber+strict", "TLP:AMBER+STRICT"},
	{"red", "TLP:RED"},
}

// commonTypes are offered for the type filter; any other type can be typed.
var commonTypes = []string{
	"attack-pattern", "campaign", "course-of-action", "grouping", "identity", "indicator", "infrastructure",
	"intrusion-set", "location", "malware", "malware-analysis", "note", "observed-data", "opinion", "report",
	"threat-actor", "tool", "vulnerability", "relationship", "sighting", "marking-definition",
	"domain-name", "ipv4-addr", "ipv6-addr", "url", "file", "email-addr",
}

// parseFilter reads the list's query string. A value it cannot read is an
// error for the operator, shown on the page.
func (s *Server) parseFilter(r *http.Request, u *Session) (objectFilter, string) {
	q := r.URL.Query()
	f := objectFilter{
		Collection: q.Get("collection"),
		Type:       strings.TrimSpace(q.Get("type")),
		Label:      strings.TrimSpace(q.Get("label")),
		TLP:        strings.ToLower(strings.TrimSpace(q.Get("tlp"))),
		Origin:     strings.TrimSpace(q.Get("origin")),
		After:      strings.TrimSpace(q.Get("after")),
		Before:     strings.TrimSpace(q.Get("before")),
		Text:       q.Get("q"),
	}
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 0 {
			return f, u.T("The page cursor %q is not valid; start again from the first page.", c)
		}
		f.Cursor = n
	}
	switch f.TLP {
	case "", "none":
	default:
		t, ok := stix.ParseTLP(f.TLP)
		if !ok {
			return f, u.T("%q is not a TLP level; choose one from the list.", f.TLP)
		}
		f.tlp = t
	}
	var ok bool
	if f.after, ok = parseWhen(f.After); !ok {
		return f, u.T("The date %q is not valid; write it as 2026-11-29 or 2026-11-29T10:00:00Z.", f.After)
	}
	if f.before, ok = parseWhen(f.Before); !ok {
		return f, u.T("The date %q is not valid; write it as 2026-11-29 or 2026-11-29T10:00:00Z.", f.Before)
	}
	if len(f.Text) > 200 || len(f.Label) > 200 || len(f.Type) > 250 {
		return f, u.T("A search term is too long; use at most 200 characters.")
	}
	return f, ""
}

// parseWhen reads a date (midnight UTC) or an RFC 3339 time; "" is the
// zero time.
func parseWhen(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

// summary is what the list and the object page read from an object's
// JSON. Fields of unexpected JSON types are left empty.
type summary struct {
	Type             string
	Name             string
	Excerpt          string
	Labels           []string
	Markings         []string
	TLP              stix.TLP
	PAP              agreement.PAP
	SourceRef        string
	TargetRef        string
	RelationshipType string
}

func summarize(raw []byte) summary {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return summary{}
	}
	str := func(k string) string {
		var s string
		if v, ok := m[k]; ok {
			json.Unmarshal(v, &s)
		}
		return s
	}
	strs := func(k string) []string {
		var s []string
		if v, ok := m[k]; ok {
			if json.Unmarshal(v, &s) != nil {
				return nil
			}
		}
		return s
	}
	sm := summary{Type: str("type"), Name: str("name"), Labels: strs("labels"), Markings: strs("object_marking_refs"),
		SourceRef: str("source_ref"), TargetRef: str("target_ref"), RelationshipType: str("relationship_type")}
	for _, id := range sm.Markings {
		if t, ok := stix.TLPOf(id); ok {
			sm.TLP = max(sm.TLP, t)
		} else if p, ok := agreement.PAPOf(id); ok {
			sm.PAP = max(sm.PAP, p)
		}
	}
	switch {
	case sm.Name != "":
		sm.Excerpt = sm.Name
	case str("pattern") != "":
		sm.Excerpt = str("pattern")
	case str("value") != "":
		sm.Excerpt = str("value")
	case sm.Type == "relationship":
		sm.Excerpt = sm.SourceRef + " " + sm.RelationshipType + " " + sm.TargetRef
	}
	sm.Excerpt = excerpt(sm.Excerpt, 120)
	return sm
}

// excerpt cuts s to at most n runes.
func excerpt(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// MarkingText is the summary's TLP and PAP as a cell shows them.
func (sm summary) MarkingText() string {
	var parts []string
	if sm.TLP != stix.TLPNone {
		parts = append(parts, sm.TLP.String())
	}
	if sm.PAP != agreement.PAPNone {
		parts = append(parts, sm.PAP.String())
	}
	return strings.Join(parts, ", ")
}

// objectRow is one row of the list.
type objectRow struct {
	ID, Type, Excerpt, Markings, Origin string
	Added                               time.Time
	Link                                string
}

type collectionChoice struct {
	ID, Title string
}

type partyChoice struct {
	ID, Name string
}

type objectsData struct {
	F           objectFilter
	Collections []collectionChoice
	Parties     []partyChoice
	TLPs        []struct{ Value, Label string }
	Types       []string
	Error       string
	Rows        []objectRow
	Scanned     int
	Next        string // the next page's query string, "" on the last page
	Capped      bool   // the scan cap stopped the search before the page filled
	First       string // the first page's query string, "" on the first page
	NoReadable  bool
	Recent      string // the query string of the versions added in the last 24 hours
}

func (s *Server) objectsPage(w http.ResponseWriter, r *http.Request, u *Session) {
	ctx := r.Context()
	cols, err := s.node.ReadableCollections(ctx, u.Caller)
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	d := objectsData{TLPs: tlpChoices, Types: commonTypes, Parties: s.partnerChoices()}
	for _, c := range cols {
		d.Collections = append(d.Collections, collectionChoice{c.ID, c.Title})
	}
	var msg string
	d.F, msg = s.parseFilter(r, u)
	if len(cols) == 0 {
		d.NoReadable = true
		s.render(w, r, u, "objects.html", d)
		return
	}
	if d.F.Collection == "" {
		d.F.Collection = cols[0].ID
	}
	if msg != "" {
		d.Error = msg
		s.renderStatus(w, r, u, http.StatusBadRequest, "objects.html", d, "")
		return
	}
	if d.F.Cursor > 0 {
		d.First = d.F.query(0)
	}
	recent := objectFilter{Collection: d.F.Collection, After: s.now().UTC().Add(-24 * time.Hour).Format(time.RFC3339)}
	d.Recent = recent.query(0)
	res, err := s.searchObjects(r, u, d.F)
	if errors.Is(err, taxii.ErrNotFound) {
		d.Error = u.T("You may not read this collection, or it does not exist. Choose one from the list.")
		s.renderStatus(w, r, u, http.StatusNotFound, "objects.html", d, "")
		return
	}
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	d.Scanned, d.Capped = res.scanned, res.capped
	if res.next > 0 {
		d.Next = d.F.query(res.next)
	}
	for _, o := range res.rows {
		sm := summarize(o.Raw)
		d.Rows = append(d.Rows, objectRow{
			ID: o.ID, Type: o.Type, Excerpt: sm.Excerpt, Markings: sm.MarkingText(),
			Origin: s.originName(u, o.FromParty), Added: o.DateAdded,
			Link: objectLink(o.ID, d.F.Collection),
		})
	}
	s.render(w, r, u, "objects.html", d)
}

// searchResult is one request's search.
type searchResult struct {
	rows    []store.Object
	scanned int
	next    int64 // the cursor to go on from, 0 when nothing follows
	capped  bool
}

// searchObjects reads f's collection from f.Cursor on and keeps what f
// selects, until a page is full, the collection ends, the versions pass
// f.before, or scanCap versions have been read.
func (s *Server) searchObjects(r *http.Request, u *Session, f objectFilter) (searchResult, error) {
	q := store.Query{Collection: f.Collection, After: f.Cursor, AddedAfter: f.after}
	if f.Type != "" {
		q.Types = []string{f.Type}
	}
	goFilters := f.Label != "" || f.TLP != "" || f.Origin != "" || f.Text != ""
	needle := []byte(strings.ToLower(f.Text))
	var res searchResult
	for {
		q.Limit = min(scanBatch, scanCap-res.scanned)
		if !goFilters {
			q.Limit = min(q.Limit, objectsPageSize-len(res.rows))
		}
		p, err := s.node.ConsoleObjects(r.Context(), u.Caller, q)
		if err != nil {
			return searchResult{}, err
		}
		for i := range p.Objects {
			o := &p.Objects[i]
			if !f.before.IsZero() && !o.DateAdded.Before(f.before) {
				// date_added increases with the sequence number: nothing
				// after this one is earlier.
				res.next = 0
				return res, nil
			}
			res.scanned++
			if f.matches(o, needle) {
				res.rows = append(res.rows, *o)
				if len(res.rows) == objectsPageSize {
					if i < len(p.Objects)-1 || p.More {
						res.next = o.Seq
					}
					return res, nil
				}
			}
		}
		if !p.More || len(p.Objects) == 0 {
			return res, nil
		}
		q.After = p.Objects[len(p.Objects)-1].Seq
		if res.scanned >= scanCap {
			res.capped, res.next = true, q.After
			return res, nil
		}
	}
}

// matches applies the filters the store does not.
func (f objectFilter) matches(o *store.Object, needle []byte) bool {
	switch f.Origin {
	case "":
	case "own":
		if o.FromParty != "" {
			return false
		}
	default:
		if o.FromParty != f.Origin {
			return false
		}
	}
	if len(needle) > 0 && !containsFoldBytes(o.Raw, needle) {
		return false
	}
	if f.Label == "" && f.TLP == "" {
		return true
	}
	// Before decoding: JSON without escapes holds a label, and a marking
	// id, literally, so a version that lacks them cannot match.
	if bytes.IndexByte(o.Raw, '\\') < 0 {
		if f.Label != "" && !containsFoldBytes(o.Raw, []byte(strings.ToLower(`"`+f.Label+`"`))) {
			return false
		}
		if f.tlp != stix.TLPNone && !slices.ContainsFunc(tlpIDs[f.tlp], func(id []byte) bool { return bytes.Contains(o.Raw, id) }) {
			return false
		}
	}
	sm := summarize(o.Raw)
	if f.Label != "" && !containsFold(sm.Labels, f.Label) {
		return false
	}
	switch f.TLP {
	case "":
	case "none":
		return sm.TLP == stix.TLPNone
	default:
		return sm.TLP == f.tlp
	}
	return true
}

// tlpIDs lists each TLP level's marking-definition ids, TLP 2.0 and 1.0.
var tlpIDs = func() map[stix.TLP][][]byte {
	m := map[stix.TLP][][]byte{}
	for _, id := range []string{stix.TLP2Clear, stix.TLP2Green, stix.TLP2Amber, stix.TLP2AmberStrict, stix.TLP2Red,
		stix.TLP1White, stix.TLP1Green, stix.TLP1Amber, stix.TLP1Red, stix.OpenCTIAmberStrict} {
		t, _ := stix.TLPOf(id)
		m[t] = append(m[t], []byte(id))
	}
	return m
}()

// containsFoldBytes reports whether b holds lower, a lower-case string,
// in any case. An ASCII needle is searched without copying b.
func containsFoldBytes(b, lower []byte) bool {
	for _, c := range lower {
		if c >= utf8.RuneSelf {
			return bytes.Contains(bytes.ToLower(b), lower)
		}
	}
	first, upper := lower[0], lower[0]
	if 'a' <= first && first <= 'z' {
		upper = first - 'a' + 'A'
	}
	for i := 0; i+len(lower) <= len(b); i++ {
		if c := b[i]; (c == first || c == upper) && bytes.EqualFold(b[i:i+len(lower)], lower) {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// partnerChoices lists the agreement's other parties.
func (s *Server) partnerChoices() []partyChoice {
	a, p := s.node.Agreement()
	if a == nil {
		return nil
	}
	var out []partyChoice
	for _, party := range a.Parties {
		if party.ID != p.Self() {
			out = append(out, partyChoice{party.ID, party.Name})
		}
	}
	return out
}

// originName says where a version came from: this node's party, or the
// partner party it was received from.
func (s *Server) originName(u *Session, fromParty string) string {
	if fromParty == "" {
		return u.T("own")
	}
	a, _ := s.node.Agreement()
	return partyName(a, fromParty)
}

package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/federation"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// routesOverview registers the overview page.
func (s *Server) routesOverview(rt *router) {
	// The counts of days that have ended are kept, so that each is
	// counted once (node.ActivityCache).
	cache := &node.ActivityCache{}
	rt.page("GET /ui/{$}", roleReader, func(w http.ResponseWriter, r *http.Request, u *Session) { s.overviewPage(w, r, u, cache) })
}

// The overview's bounds: days in the chart, and rows in each list.
const (
	overviewDays      = 14
	overviewSightings = 8
	overviewAlerts    = 10
)

type overviewData struct {
	Links     []linkRow
	Activity  activityView
	Cases     []overviewCase
	CasesMore bool
	// CasesNote says why no cases are listed when it is not that none
	// is open.
	CasesNote string
	Protected []overviewCase
	Sightings []sightingRow
	Alerts    []alertRow
}

type linkRow struct {
	Party, Node, Log string
	State            string // in words
	StateClass       string // ok, warn or bad: the badge's colour, beside the words
	LastSuccess      time.Time
	LastAttempt      time.Time
	Behind           string // objects behind, "+" when more are pending
	Lag              string // since the link last caught up
	Errors, Refused  int64
	LastError        string
	Suspended        string
	Witnessed        int64
	WitnessedRoot    string
	Witness          string // the witness state in words
	WitnessClass     string
	Saved            time.Time // when the health was saved; zero for live health
}

type overviewCase struct {
	ID, Type, Party, State, Owed string
	Outgoing                     bool
	Due                          time.Time
	Overdue                      bool
	Flagged                      bool
}

type sightingRow struct {
	ID, Of, Where, From string
	Count               int64
	LastSeen, Added     time.Time
}

type alertRow struct {
	store.Alert
	Kind string // in words
}

func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request, u *Session, cache *node.ActivityCache) {
	ctx := r.Context()
	now := s.now()
	var d overviewData
	links, err := s.node.Links(ctx, u.Caller, s.cfg.Links)
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	for _, l := range links {
		d.Links = append(d.Links, s.linkRow(u, l, now))
	}
	act, err := s.node.PartnerActivity(ctx, u.Caller, now, overviewDays, cache)
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	d.Activity = s.activityView(u, act)
	open, more, err := s.node.OpenCases(ctx, u.Caller, now)
	switch {
	case errors.Is(err, taxii.ErrForbidden):
		d.CasesNote = u.T("Your account may not read the cases collection, so its cases are not shown.")
	case err != nil:
		s.internal(w, r, u, err)
		return
	}
	d.CasesMore = more
	a, _ := s.node.Agreement()
	for _, oc := range open {
		row := openCaseRow(u, oc, a, s.node.Party())
		d.Cases = append(d.Cases, row)
		if in := oc.Case.Incident; in != nil && in.AffectsDeclaredCI {
			d.Protected = append(d.Protected, row)
		}
	}
	sightings, err := s.node.NewestOfType(ctx, u.Caller, "sighting", overviewSightings)
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	for _, o := range sightings {
		d.Sightings = append(d.Sightings, sightingOf(u, o))
	}
	alerts, err := s.node.NewestAlerts(ctx, u.Caller, overviewAlerts)
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	for _, al := range alerts {
		d.Alerts = append(d.Alerts, alertRow{Alert: al, Kind: alertKind(u, al.Kind)})
	}
	s.render(w, r, u, "overview.html", d)
}

// linkRow says a link's health in words.
func (s *Server) linkRow(u *Session, l node.LinkStatus, now time.Time) linkRow {
	row := linkRow{Party: l.Party, Node: l.Node, Log: l.Log, LastSuccess: l.LastSuccess, LastAttempt: l.LastAttempt,
		Errors: l.Errors, Refused: l.Refused, LastError: l.LastError, Suspended: l.Suspended,
		Witnessed: l.WitnessedSize, Saved: l.Updated}
	if l.Witnessed.N > 0 {
		row.WitnessedRoot = l.Witnessed.Hash.String()
	}
	switch {
	case !l.Known:
		row.State, row.StateClass = u.T("Never reported"), "warn"
	case l.State == federation.StateIdle:
		row.State, row.StateClass = u.T("Up to date"), "ok"
	case l.State == federation.StateSyncing || l.State == federation.StateStarting:
		row.State, row.StateClass = u.T("Syncing"), "ok"
	case l.State == federation.StateBackoff:
		row.State, row.StateClass = u.T("Failing, retrying"), "bad"
	case l.State == federation.StateSuspended:
		row.State, row.StateClass = u.T("Suspended"), "bad"
	case l.State == federation.StateStopped:
		row.State, row.StateClass = u.T("Stopped"), "warn"
	default:
		row.State, row.StateClass = l.State, "warn"
	}
	switch {
	case !l.Known:
		row.Behind, row.Lag = "—", "—"
	default:
		row.Behind = fmt.Sprint(l.Behind)
		if l.Pending {
			row.Behind = u.T("%d and more", l.Behind)
		}
		if l.CaughtUp.IsZero() {
			row.Lag = u.T("never caught up")
		} else {
			row.Lag = u.T("%d s", int64(l.Lag(now)/time.Second))
		}
	}
	row.Witness, row.WitnessClass = witnessState(u, l.Suspension, l.WitnessedSize > 0)
	return row
}

// witnessState says in words, and as a badge class, where this node's
// witness stands on a partner's log: suspended, or cosigned (consistent),
// or nothing cosigned yet. The overview and the ledger page say it alike.
func witnessState(u *Session, sus *store.Suspension, cosigned bool) (words, class string) {
	switch {
	case sus != nil:
		return u.T("Suspended since %s: %s", sus.Since.UTC().Format("2006-01-02 15:04 UTC"), sus.Reason), "bad"
	case cosigned:
		return u.T("Consistent"), "ok"
	}
	return u.T("Nothing cosigned yet"), "warn"
}

// openCaseRow says an open case's state and its next deadline, in the
// cases page's words: the party is the other one, the case's recipient
// when this node's party opened it.
func openCaseRow(u *Session, oc node.OpenCase, a *agreement.Agreement, self string) overviewCase {
	c := oc.Case
	row := overviewCase{ID: c.ID, Type: u.T(typeTitle(c.Type)), State: c.State.String(), Due: oc.Next, Overdue: oc.Overdue,
		Flagged: c.Flags != 0, Party: partyName(a, c.To), Outgoing: true}
	if c.To == self {
		row.Party, row.Outgoing = partyName(a, c.From), false
	}
	if len(oc.Duties) > 0 {
		row.Owed = owed(u, a, oc.Duties[0], self)
	}
	return row
}

// sightingOf reads what the overview shows of a sighting.
func sightingOf(u *Session, o node.Recent) sightingRow {
	row := sightingRow{ID: o.ID, Added: o.DateAdded, From: o.FromParty}
	if row.From == "" {
		row.From = u.T("this node")
	}
	var v struct {
		Of       string   `json:"sighting_of_ref"`
		Count    int64    `json:"count"`
		LastSeen string   `json:"last_seen"`
		Where    []string `json:"where_sighted_refs"`
	}
	if json.Unmarshal(o.Raw, &v) == nil {
		row.Of, row.Count = v.Of, v.Count
		if t, err := time.Parse(time.RFC3339Nano, v.LastSeen); err == nil {
			row.LastSeen = t
		}
		if len(v.Where) > 0 {
			row.Where = v.Where[0]
		}
	}
	return row
}

// alertKind says an alert's kind in words.
func alertKind(u *Session, kind string) string {
	switch kind {
	case node.AlertViolation:
		return u.T("Agreement violation")
	case node.AlertSignature:
		return u.T("Bad origin signature")
	case node.AlertInvalid:
		return u.T("Invalid STIX")
	case federation.AlertReplay:
		return u.T("Replayed page")
	case federation.AlertSuspended:
		return u.T("Link suspended")
	}
	return kind
}

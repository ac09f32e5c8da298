package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/casework"
	"github.com/entente/entente/node"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/taxii"
)

// routesCases registers the cases pages: the inbox and outbox, a case's
// timeline and steps, and the form that opens a case. Every step goes
// through node.StepCaseAs, so casework.Step decides it as it decides the
// command line's.
func (s *Server) routesCases(rt *router) {
	rt.page("GET /ui/cases", roleReader, s.casesPage)
	rt.page("GET /ui/cases/new", roleAnalyst, s.caseNewPage)
	rt.page("POST /ui/cases", roleAnalyst, s.caseOpen)
	rt.page("GET /ui/cases/{id}", roleReader, s.casePage)
	rt.page("POST /ui/cases/{id}/step", roleAnalyst, s.caseStep)
}

// casesPerPage is how many cases one page of the list reads.
const casesPerPage = 50

// caseRow is a case in the inbox or outbox.
type caseRow struct {
	ID, Type, State, Counterpart string
	Clock, Owed                  string // the nearest deadline: "due in 3 h" or "overdue by 2 h", and the duty
	Overdue                      bool
	Modified                     time.Time
	Flagged                      bool
	due                          time.Time
}

type casesView struct {
	Notice        string
	Inbox, Outbox []caseRow
	Next          string // the next page's URL, "" on the last page
	Paged         bool   // this is not the first page
	CanOpen       bool
	Types         []typeOption
}

type typeOption struct{ Name, Title string }

func (s *Server) casesPage(w http.ResponseWriter, r *http.Request, u *Session) {
	a, _ := s.node.Agreement()
	self, _ := s.node.SelfParty()
	v := casesView{CanOpen: u.IsAnalyst() && a != nil, Types: caseTypes(u)}
	if a == nil {
		v.Notice = u.T("This node works under no agreement, so it has no cases.")
		s.render(w, r, u, "cases.html", v)
		return
	}
	after, ok := afterCursor(r)
	if !ok {
		s.badCursor(w, r, u)
		return
	}
	v.Paged = after > 0
	p, err := s.node.CasesPage(r.Context(), u.Caller, after, casesPerPage)
	switch {
	case errors.Is(err, taxii.ErrNotFound), errors.Is(err, taxii.ErrForbidden):
		v.Notice = u.T("No cases to show: the node holds no cases yet, or your account may not read the cases collection (an admin can grant it: entente user grant ACCOUNT cases read).")
		s.render(w, r, u, "cases.html", v)
		return
	case err != nil:
		s.internal(w, r, u, err)
		return
	}
	for _, c := range p.Cases {
		row := s.caseRow(u, c, a, self)
		if c.To == self {
			v.Inbox = append(v.Inbox, row)
		} else {
			v.Outbox = append(v.Outbox, row)
		}
	}
	// The most pressing first: the nearest deadline, then the latest step.
	for _, box := range [][]caseRow{v.Inbox, v.Outbox} {
		slices.SortStableFunc(box, func(x, y caseRow) int {
			switch {
			case x.due.IsZero() != y.due.IsZero():
				if x.due.IsZero() {
					return 1
				}
				return -1
			case !x.due.Equal(y.due):
				return x.due.Compare(y.due)
			}
			return y.Modified.Compare(x.Modified)
		})
	}
	if p.Next > 0 {
		v.Next = Prefix + "cases?after=" + strconv.FormatInt(p.Next, 10)
	}
	s.render(w, r, u, "cases.html", v)
}

func caseTypes(u *Session) []typeOption {
	out := make([]typeOption, len(casework.Types))
	for i, t := range casework.Types {
		out[i] = typeOption{Name: t.String(), Title: u.T(typeTitle(t))}
	}
	return out
}

// typeTitle is a case type's name for people; a catalog key.
func typeTitle(t casework.Type) string {
	switch t {
	case casework.TypeIncident:
		return "Incident notification"
	case casework.TypeAssistance:
		return "Request for assistance"
	case casework.TypePreservation:
		return "Expedited preservation request"
	case casework.TypeConsultation:
		return "Consultation"
	case casework.TypeReachability:
		return "Contact-point reachability test"
	case casework.TypeDeclaration:
		return "Protected critical-infrastructure declaration"
	}
	return t.String()
}

func (s *Server) caseRow(u *Session, c casework.Case, a *agreement.Agreement, self string) caseRow {
	row := caseRow{ID: c.ID, Type: u.T(typeTitle(c.Type)), State: c.State.String(), Counterpart: c.To,
		Modified: c.Modified, Flagged: c.Flags != 0}
	if c.From != self {
		row.Counterpart = c.From
	}
	row.Counterpart = partyName(a, row.Counterpart)
	for _, d := range casework.Deadlines(c, a) {
		if d.Kind == casework.DutyMeeting {
			continue // a reminder, not a duty that can be missed
		}
		if row.due.IsZero() || d.Due.Before(row.due) {
			row.due = d.Due
			row.Owed = owed(u, a, d, self)
		}
	}
	if !row.due.IsZero() {
		row.Clock, row.Overdue = s.clock(u, row.due)
	}
	return row
}

// clock says how long until due, or how long overdue.
func (s *Server) clock(u *Session, due time.Time) (string, bool) {
	d := due.Sub(s.now())
	if d >= 0 {
		return u.T("due in %s", span(u, d)), false
	}
	return u.T("overdue by %s", span(u, -d)), true
}

// span is a duration in its largest whole unit.
func span(u *Session, d time.Duration) string {
	switch {
	case d < time.Hour:
		return u.T("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		return u.T("%d h", int(d/time.Hour))
	}
	return u.T("%d days", int(d/(24*time.Hour)))
}

// ---- one case ----

type caseView struct {
	ID, Type, State, From, To, TLP string
	Level, Ground, Flags           string
	Details                        []detail
	Timeline                       []timelineRow
	Duties                         []dutyRow
	Compliance                     []complianceRow
	Steps                          []stepForm
	CanStep                        bool
	Done                           string
	Error                          string
}

type detail struct{ Name, Value string }

type timelineRow struct {
	At                  time.Time
	Actor, Event, State string
	Note, Ledger        string
}

type dutyRow struct {
	Duty    string
	Due     time.Time
	Clock   string
	Overdue bool
}

type complianceRow struct {
	What    string
	Due     time.Time
	Done    time.Time
	Verdict string
	Bad     bool
}

// stepForm is a step casework allows next, with its fields.
type stepForm struct {
	Event, Label string
	Fields       []formField
	Error        string
}

func (s *Server) casePage(w http.ResponseWriter, r *http.Request, u *Session) {
	v, ok := s.caseView(w, r, u, r.PathValue("id"))
	if !ok {
		return
	}
	if done := r.URL.Query().Get("done"); done != "" {
		if _, known := casework.ParseEvent(done); known || done == "open" {
			v.Done = u.T("Done: %s. The case is now %s.", done, v.State)
		}
	}
	s.render(w, r, u, "case.html", v)
}

// caseView reads case id for the page, or answers the error and returns
// false.
func (s *Server) caseView(w http.ResponseWriter, r *http.Request, u *Session, id string) (caseView, bool) {
	a, _ := s.node.Agreement()
	self, _ := s.node.SelfParty()
	if a == nil {
		s.fail(w, r, u, http.StatusNotFound, u.T("This node works under no agreement, so it has no cases."))
		return caseView{}, false
	}
	steps, err := s.node.CaseTimeline(r.Context(), u.Caller, id)
	switch {
	case errors.Is(err, node.ErrNoCase), errors.Is(err, taxii.ErrNotFound):
		s.fail(w, r, u, http.StatusNotFound, u.T("No such case, or your account may not read the cases collection."))
		return caseView{}, false
	case err != nil:
		s.internal(w, r, u, err)
		return caseView{}, false
	}
	c := steps[len(steps)-1].Case
	v := caseView{ID: c.ID, Type: u.T(typeTitle(c.Type)), State: c.State.String(), From: partyName(a, c.From),
		To: partyName(a, c.To), TLP: c.TLP.String(), Ground: c.Ground,
		CanStep: u.IsAnalyst()}
	if c.Level > 0 && c.Level <= len(a.Escalation) {
		v.Level = u.T("level %d: %s", c.Level, a.Escalation[c.Level-1].Level)
	}
	if c.Flags != 0 {
		v.Flags = c.Flags.String()
	}
	v.Details = details(c)
	for _, st := range steps {
		ev := "open"
		if st.Event != 0 {
			ev = st.Event.String()
		}
		row := timelineRow{At: st.Modified, Actor: partyName(a, st.Actor), Event: ev, State: st.State.String(), Note: st.Note, Ledger: "—"}
		if st.LedgerIndex >= 0 {
			row.Ledger = strconv.FormatInt(st.LedgerIndex, 10)
		}
		v.Timeline = append(v.Timeline, row)
	}
	for _, d := range casework.Deadlines(c, a) {
		dr := dutyRow{Duty: owed(u, a, d, self), Due: d.Due}
		dr.Clock, dr.Overdue = s.clock(u, d.Due)
		v.Duties = append(v.Duties, dr)
	}
	v.Compliance = s.compliance(u, steps, a)
	if v.CanStep {
		v.Steps = s.stepForms(u, c, a, self)
	}
	return v, true
}

// details lists the case's content: the fields it was opened with.
func details(c casework.Case) []detail {
	var f any
	switch {
	case c.Incident != nil:
		f = c.Incident
	case c.Assistance != nil:
		f = c.Assistance
	case c.Preservation != nil:
		f = c.Preservation
	case c.Consultation != nil:
		f = c.Consultation
	case c.Reachability != nil:
		f = c.Reachability
	case c.Declaration != nil:
		f = c.Declaration
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]detail, 0, len(keys))
	for _, k := range keys {
		var val string
		switch x := m[k].(type) {
		case string:
			val = x
		case []any:
			parts := make([]string, len(x))
			for i, e := range x {
				parts[i] = strings.Trim(mustJSON(e), `"`)
			}
			val = strings.Join(parts, ", ")
		default:
			val = mustJSON(x)
		}
		if val == "" || k == "tlp" {
			continue
		}
		out = append(out, detail{k, val})
	}
	return out
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// compliance is the case's record against its deadlines: the
// acknowledgement and the substantive answer the send owed, each on time,
// late, pending or overdue.
func (s *Server) compliance(u *Session, steps []node.CaseStep, a *agreement.Agreement) []complianceRow {
	last := steps[len(steps)-1].Case
	var sent *casework.Case
	for i := range steps {
		if steps[i].Event == casework.EventSend {
			sent = &steps[i].Case
			break
		}
	}
	if sent == nil {
		return nil
	}
	var out []complianceRow
	for _, d := range casework.Deadlines(*sent, a) {
		var what string
		var done time.Time
		switch d.Kind {
		case casework.DutyAcknowledge:
			what, done = u.T("Acknowledgement by %s", partyName(a, d.Owner)), last.Acknowledged
		case casework.DutyAnswer:
			what, done = u.T("Substantive answer by %s", partyName(a, d.Owner)), last.Answered
		default:
			continue
		}
		row := complianceRow{What: what, Due: d.Due, Done: done}
		switch {
		case !done.IsZero() && !done.After(d.Due):
			row.Verdict = u.T("on time")
		case !done.IsZero():
			row.Verdict, row.Bad = u.T("late by %s", span(u, done.Sub(d.Due))), true
		case last.State == casework.StateWithdrawn:
			row.Verdict = u.T("not owed: the case was withdrawn")
		default:
			row.Verdict, row.Bad = s.clock(u, d.Due)
			if !row.Bad {
				row.Verdict = u.T("pending, %s", row.Verdict)
			}
		}
		out = append(out, row)
	}
	return out
}

// stepForms are the steps casework allows this party to take next: each
// event of the workflow is tried with Step on the case as it is (Step is
// pure), with the party's own choices where the event needs one, and
// offered if Step accepts it.
func (s *Server) stepForms(u *Session, c casework.Case, a *agreement.Agreement, self string) []stepForm {
	m, ok := casework.MachineOf(c.Type)
	if !ok {
		return nil
	}
	now := s.now()
	var grounds []string
	if p, ok := a.Party(self); ok {
		grounds = p.RefusalGrounds
	}
	var out []stepForm
	for _, ev := range m.Events {
		probe := casework.Event{Kind: ev, Actor: self, At: now.Add(24 * time.Hour), Ref: "-", Pledge: true,
			Item: casework.ActionItem{Owner: self, Due: now.Add(7 * 24 * time.Hour), Text: "-"}, Index: -1}
		if len(grounds) > 0 {
			probe.Ground = grounds[0]
		}
		var own []int
		for i, it := range c.Actions {
			if it.Owner == self && it.Done.IsZero() {
				own = append(own, i)
			}
		}
		if len(own) > 0 {
			probe.Index = own[0]
		}
		if _, err := casework.Step(c, probe, a, now); err != nil {
			continue
		}
		sf := stepForm{Event: ev.String(), Label: u.T(eventLabel(ev)), Fields: eventFields(u, c, ev, a, grounds, own)}
		for i := range sf.Fields {
			sf.Fields[i].ID = "step-" + sf.Event + "-" + sf.Fields[i].Name
		}
		out = append(out, sf)
	}
	return out
}

// eventLabel is a step's button label; a catalog key.
func eventLabel(e casework.EventKind) string {
	switch e {
	case casework.EventSend:
		return "Approve and send"
	case casework.EventAcknowledge:
		return "Acknowledge"
	case casework.EventNotify:
		return "Send the notification"
	case casework.EventUpdate:
		return "Send an update"
	case casework.EventReply:
		return "Reply to the requested actions"
	case casework.EventFinalize:
		return "Send the final report"
	case casework.EventClose:
		return "Close"
	case casework.EventAccept:
		return "Accept"
	case casework.EventDecline:
		return "Decline"
	case casework.EventComplete:
		return "Complete"
	case casework.EventFeedback:
		return "Give feedback and close"
	case casework.EventWithdraw:
		return "Withdraw"
	case casework.EventNotice:
		return "Give the art. 29(6) notice"
	case casework.EventProceed:
		return "Proceed after the notice"
	case casework.EventPreserve:
		return "Preserve"
	case casework.EventRefuse:
		return "Refuse"
	case casework.EventExtend:
		return "Extend the preservation"
	case casework.EventLinkMLA:
		return "Link the mutual legal assistance request"
	case casework.EventRelease:
		return "Release from preservation"
	case casework.EventExpire:
		return "Record the expiry"
	case casework.EventPropose:
		return "Propose another time"
	case casework.EventHold:
		return "Record the meeting"
	case casework.EventApprove:
		return "Approve the minutes"
	case casework.EventAddAction:
		return "Add an action item"
	case casework.EventCompleteAction:
		return "Complete an action item"
	case casework.EventMiss:
		return "Record the missed ping"
	case casework.EventReconfirm:
		return "Re-confirm"
	case casework.EventEscalate:
		return "Escalate"
	}
	return e.String()
}

// eventFields are the fields a step needs, as casework.Event reads them.
func eventFields(u *Session, c casework.Case, ev casework.EventKind, a *agreement.Agreement, grounds []string, own []int) []formField {
	var fs []formField
	switch ev {
	case casework.EventAcknowledge:
		if c.Type == casework.TypeDeclaration {
			fs = append(fs, formField{Name: "pledge", Kind: "check", Required: true, Label: casework.Pledge,
				Help: u.T("Acknowledging a declaration records this pledge.")})
		}
	case casework.EventDecline, casework.EventRefuse:
		fs = append(fs, formField{Name: "ground", Kind: "select", Required: true, Label: u.T("Ground"),
			Options: options(grounds), Help: u.T("One of the refusal grounds this party lists in the agreement.")})
	case casework.EventPropose:
		fs = append(fs, formField{Name: "at", Kind: "time", Required: true, Label: u.T("Proposed time (UTC)")})
	case casework.EventHold:
		fs = append(fs, formField{Name: "ref", Kind: "text", Required: true, Label: u.T("Reference of the minutes")})
	case casework.EventLinkMLA:
		fs = append(fs, formField{Name: "ref", Kind: "text", Required: true, Label: u.T("Reference of the mutual legal assistance request")})
	case casework.EventAccept, casework.EventPreserve:
		if c.Type != casework.TypeConsultation {
			fs = append(fs, formField{Name: "partial", Kind: "check", Label: u.T("In part only")})
		}
	case casework.EventAddAction:
		fs = append(fs,
			formField{Name: "item_owner", Kind: "select", Required: true, Label: u.T("Owner"), Options: options([]string{c.From, c.To})},
			formField{Name: "item_due", Kind: "time", Required: true, Label: u.T("Due (UTC)")},
			formField{Name: "item_text", Kind: "text", Required: true, Label: u.T("What is to be done")})
	case casework.EventCompleteAction:
		var opts []option
		for _, i := range own {
			opts = append(opts, option{Value: strconv.Itoa(i), Label: c.Actions[i].Text})
		}
		fs = append(fs, formField{Name: "index", Kind: "select", Required: true, Label: u.T("Action item"), Options: opts})
	}
	return append(fs, formField{Name: "note", Kind: "textarea", Label: u.T("Note (optional)")})
}

func (s *Server) caseStep(w http.ResponseWriter, r *http.Request, u *Session) {
	id := r.PathValue("id")
	name := r.PostFormValue("event")
	kind, known := casework.ParseEvent(name)
	e := casework.Event{Kind: kind, Ground: r.PostFormValue("ground"), Ref: strings.TrimSpace(r.PostFormValue("ref")),
		Partial: r.PostFormValue("partial") != "", Pledge: r.PostFormValue("pledge") != "", Note: strings.TrimSpace(r.PostFormValue("note")), Index: -1}
	var msg string
	if !known {
		msg = u.T("%q is not a step of any case.", name)
	}
	if v := r.PostFormValue("at"); msg == "" && v != "" {
		t, err := parseFormTime(v)
		if err != nil {
			msg = u.T("The time %q is not a date and time (YYYY-MM-DDTHH:MM, UTC).", v)
		}
		e.At = t
	}
	if msg == "" && kind == casework.EventAddAction {
		e.Item = casework.ActionItem{Owner: r.PostFormValue("item_owner"), Text: strings.TrimSpace(r.PostFormValue("item_text"))}
		if v := r.PostFormValue("item_due"); v != "" {
			t, err := parseFormTime(v)
			if err != nil {
				msg = u.T("The time %q is not a date and time (YYYY-MM-DDTHH:MM, UTC).", v)
			}
			e.Item.Due = t
		}
	}
	if v := r.PostFormValue("index"); msg == "" && v != "" {
		i, err := strconv.Atoi(v)
		if err != nil {
			msg = u.T("Choose an action item.")
		}
		e.Index = i
	}
	if msg == "" {
		_, err := s.node.StepCaseAs(r.Context(), u.Caller, id, e)
		var re *casework.RuleError
		switch {
		case err == nil:
			http.Redirect(w, r, Prefix+"cases/"+url.PathEscape(id)+"?done="+url.QueryEscape(name), http.StatusSeeOther)
			return
		case errors.As(err, &re):
			msg = u.T("Casework refused the step: %s (rule %s).", re.Msg, re.Rule)
		case errors.Is(err, node.ErrNoCase):
			s.fail(w, r, u, http.StatusNotFound, u.T("No such case, or your account may not read the cases collection."))
			return
		case errors.Is(err, taxii.ErrNotFound), errors.Is(err, taxii.ErrForbidden):
			s.fail(w, r, u, http.StatusForbidden, u.T("Your account may not write the cases collection; an admin can grant it (entente user grant ACCOUNT cases write)."))
			return
		default:
			s.internal(w, r, u, err)
			return
		}
	}
	// Refused: the case page again, with the message at the step's form
	// and what was entered in it.
	v, ok := s.caseView(w, r, u, id)
	if !ok {
		return
	}
	v.Error = msg
	for i := range v.Steps {
		if v.Steps[i].Event != name {
			continue
		}
		v.Steps[i].Error = msg
		for j := range v.Steps[i].Fields {
			fill(&v.Steps[i].Fields[j], r.PostForm)
		}
	}
	s.renderStatus(w, r, u, http.StatusBadRequest, "case.html", v, "")
}

// parseFormTime reads a datetime-local value (taken as UTC) or an RFC
// 3339 time.
func parseFormTime(v string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("not a time")
}

// ---- opening a case ----

// formField is one input of a form.
type formField struct {
	// ID is the input's element id, unique on the page.
	ID                string
	Name, Label, Help string
	// Kind is text, textarea, select, checks (several of Options), check
	// (one box), time, number or list (values separated by commas).
	Kind     string
	Options  []option
	Required bool
	Value    string
	Checked  bool
	Error    string
}

type option struct {
	Value, Label string
	Selected     bool
}

// Chosen reports whether one of a select's options is selected; when
// none is, the select starts on an empty choice, so that a required one
// must be chosen rather than taken as it came.
func (f formField) Chosen() bool {
	return slices.ContainsFunc(f.Options, func(o option) bool { return o.Selected })
}

func options(vs []string) []option {
	out := make([]option, len(vs))
	for i, v := range vs {
		out[i] = option{Value: v, Label: v}
	}
	return out
}

// fill sets f's value from what the form posted.
func fill(f *formField, form url.Values) {
	switch f.Kind {
	case "check":
		f.Checked = form.Get(f.Name) != ""
	case "checks", "select":
		chosen := form[f.Name]
		for i := range f.Options {
			f.Options[i].Selected = slices.Contains(chosen, f.Options[i].Value)
		}
	default:
		f.Value = form.Get(f.Name)
	}
}

type caseNewView struct {
	Types  []typeOption
	Type   string
	Title  string
	Fields []formField
	Error  string
}

func (s *Server) caseNewPage(w http.ResponseWriter, r *http.Request, u *Session) {
	v := caseNewView{Types: caseTypes(u)}
	if name := r.URL.Query().Get("type"); name != "" {
		t, ok := casework.ParseType(name)
		if !ok {
			s.fail(w, r, u, http.StatusNotFound, u.T("%q is not a case type.", name))
			return
		}
		fs, ok := s.openFields(u, t)
		if !ok {
			s.fail(w, r, u, http.StatusNotFound, u.T("This node works under no agreement, so it has no cases."))
			return
		}
		v.Type, v.Title, v.Fields = t.String(), u.T(typeTitle(t)), fs
	}
	s.render(w, r, u, "casenew.html", v)
}

// openFields are the fields of the form that opens a case of type t:
// exactly those casework reads for it (casework.ParseFields), with the
// recipient and the TLP. Closed lists are choices.
func (s *Server) openFields(u *Session, t casework.Type) ([]formField, bool) {
	a, _ := s.node.Agreement()
	self, _ := s.node.SelfParty()
	if a == nil {
		return nil, false
	}
	var others []option
	var authorities []option
	for _, p := range a.Parties {
		if p.ID == self {
			continue
		}
		others = append(others, option{Value: p.ID, Label: p.Name + " (" + p.ID + ")"})
		for _, au := range p.Authorities {
			authorities = append(authorities, option{Value: au.ID, Label: p.Name + ": " + au.Name + " (" + au.ID + ")"})
		}
	}
	me, _ := a.Party(self)
	var mine []option
	for _, au := range me.Authorities {
		mine = append(mine, option{Value: au.ID, Label: au.Name + " (" + au.ID + ")"})
	}
	tlp := options([]string{"clear", "green", "amber", "amber+strict", "red"})
	tlp[2].Selected = true
	fs := []formField{
		{Name: "to", Label: u.T("To (party)"), Kind: "select", Required: true, Options: others},
		{Name: "tlp", Label: u.T("TLP of the case"), Kind: "select", Required: true, Options: tlp},
	}
	f := func(name, label, kind string, req bool, opts []option, help string) {
		fs = append(fs, formField{Name: name, Label: label, Kind: kind, Required: req, Options: opts, Help: help})
	}
	switch t {
	case casework.TypeIncident:
		f("stage", u.T("Stage"), "select", true, options([]string{"early-warning", "notification"}), "")
		f("category", u.T("Category"), "select", true, options(casework.Categories), "")
		f("severity", u.T("Severity"), "select", true, options(casework.Severities), u.T("At least high when the incident affects declared critical infrastructure."))
		f("sectors", u.T("Affected sectors"), "list", true, nil, u.T("Separate several with commas."))
		f("detected", u.T("Detected (UTC)"), "time", true, nil, "")
		f("affects_declared_ci", u.T("Affects declared critical infrastructure"), "check", false, nil, "")
		f("cross_border", u.T("Cross-border"), "check", false, nil, "")
		f("summary", u.T("Summary"), "textarea", true, nil, "")
		f("requested_actions", u.T("Requested actions"), "checks", false, options(casework.RequestedActions), "")
		f("observables", u.T("Observables (a STIX bundle, JSON)"), "textarea", false, nil, u.T("Optional. The objects are stored beside the case and released by the sharing rules."))
	case casework.TypeAssistance:
		f("assistance_type", u.T("Kind of assistance"), "select", true, options(casework.AssistanceKinds), "")
		f("purpose", u.T("Purpose"), "select", true, options(agreement.Purposes), "")
		f("description", u.T("Description"), "textarea", true, nil, "")
		f("urgent", u.T("Urgent"), "check", false, nil, "")
		f("respond_by", u.T("Respond by (UTC)"), "time", false, nil, "")
		f("affects_declared_ci", u.T("Affects declared critical infrastructure"), "check", false, nil, "")
		f("related_case_refs", u.T("Related cases"), "list", false, nil, u.T("Case ids, separated by commas."))
	case casework.TypePreservation:
		f("requesting_authority", u.T("(a) Requesting authority"), "select", true, mine, "")
		f("offence", u.T("(b) Offence"), "text", true, nil, "")
		f("facts_summary", u.T("(b) Summary of the facts"), "textarea", true, nil, "")
		f("data_to_preserve", u.T("(c) Data to preserve"), "textarea", true, nil, "")
		f("identifiers", u.T("(c) Identifiers"), "list", false, nil, u.T("Separate several with commas."))
		f("relationship_to_offence", u.T("(c) Relationship to the offence"), "textarea", true, nil, "")
		f("custodian_or_location", u.T("(d) Custodian or location of the system"), "text", true, nil, "")
		f("necessity", u.T("(e) Necessity of the preservation"), "textarea", true, nil, "")
		f("intends_mla_request", u.T("(f) A request for mutual assistance will follow"), "check", true, nil, "")
		f("period_days", u.T("Period (days, at least 60)"), "number", true, nil, "")
		f("legal_basis", u.T("Legal basis"), "text", true, nil, "")
		f("purpose", u.T("Purpose"), "select", true, options(casework.PreservationPurposes), "")
	case casework.TypeConsultation:
		f("topic", u.T("Topic"), "text", true, nil, "")
		f("level", u.T("Level"), "select", true, options(agreement.EscalationLevels), "")
		f("scheduled", u.T("Scheduled (the agreement's cadence)"), "check", false, nil, u.T("Leave unchecked for an ad hoc consultation."))
		f("proposed", u.T("Proposed time (UTC)"), "time", true, nil, "")
		f("venue", u.T("Venue"), "text", true, nil, "")
		f("related_case_refs", u.T("Related cases"), "list", false, nil, u.T("Case ids, separated by commas."))
	case casework.TypeReachability:
		f("authority", u.T("Authority whose contact point is tested"), "select", true, authorities, "")
		f("channel", u.T("Channel"), "select", true, options(casework.Channels), "")
	case casework.TypeDeclaration:
		ci := me.Declarations.CriticalInfrastructure
		help := u.T("What the signed agreement lists for this party; declaring more is an amendment. Choose at least one.")
		f("sectors", u.T("Sectors"), "checks", false, options(ci.Sectors), help)
		f("cidrs", u.T("Prefixes"), "checks", false, options(ci.CIDRs), "")
		f("domains", u.T("Domains"), "checks", false, options(ci.Domains), "")
		asns := make([]string, len(ci.ASNs))
		for i, n := range ci.ASNs {
			asns[i] = strconv.FormatInt(n, 10)
		}
		f("asns", u.T("AS numbers"), "checks", false, options(asns), "")
	}
	for i := range fs {
		fs[i].ID = "field-" + fs[i].Name
	}
	return fs, true
}

// fieldsJSON builds the JSON casework.ParseFields reads from the posted
// form, field by field as openFields lists them.
func fieldsJSON(t casework.Type, fs []formField, form url.Values) ([]byte, *casework.FieldError) {
	m := map[string]any{}
	for _, f := range fs {
		if f.Name == "to" {
			continue
		}
		v := strings.TrimSpace(form.Get(f.Name))
		switch f.Kind {
		case "check":
			m[f.Name] = v != ""
		case "checks":
			vs := form[f.Name]
			if len(vs) == 0 {
				continue
			}
			if t == casework.TypeDeclaration && f.Name == "asns" {
				ns := make([]int64, len(vs))
				for i, s := range vs {
					n, err := strconv.ParseInt(s, 10, 64)
					if err != nil {
						return nil, &casework.FieldError{Field: f.Name, Msg: "not an AS number"}
					}
					ns[i] = n
				}
				m[f.Name] = ns
				continue
			}
			m[f.Name] = vs
		case "list":
			var vs []string
			for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' }) {
				if s = strings.TrimSpace(s); s != "" {
					vs = append(vs, s)
				}
			}
			if len(vs) > 0 {
				m[f.Name] = vs
			}
		case "time":
			if v == "" {
				continue
			}
			tm, err := parseFormTime(v)
			if err != nil {
				return nil, &casework.FieldError{Field: f.Name, Msg: "not a date and time (YYYY-MM-DDTHH:MM, UTC)"}
			}
			m[f.Name] = stix.FormatTime(tm)
		case "number":
			if v == "" {
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, &casework.FieldError{Field: f.Name, Msg: "not a whole number"}
			}
			m[f.Name] = n
		default:
			if f.Name == "observables" {
				if v != "" {
					if !json.Valid([]byte(v)) {
						return nil, &casework.FieldError{Field: f.Name, Msg: "not JSON: paste a STIX bundle"}
					}
					m[f.Name] = json.RawMessage(v)
				}
				continue
			}
			m[f.Name] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, &casework.FieldError{Field: "observables", Msg: err.Error()}
	}
	return b, nil
}

func (s *Server) caseOpen(w http.ResponseWriter, r *http.Request, u *Session) {
	name := r.PostFormValue("type")
	t, ok := casework.ParseType(name)
	if !ok {
		s.fail(w, r, u, http.StatusBadRequest, u.T("%q is not a case type.", name))
		return
	}
	fs, ok := s.openFields(u, t)
	if !ok {
		s.fail(w, r, u, http.StatusNotFound, u.T("This node works under no agreement, so it has no cases."))
		return
	}
	var msg, field string
	data, fe := fieldsJSON(t, fs, r.PostForm)
	if fe != nil {
		msg, field = fe.Error(), fe.Field
	} else {
		f, observables, err := casework.ParseFields(t, data)
		if err == nil {
			var c casework.Case
			c, err = s.node.OpenCaseAs(r.Context(), u.Caller, t, f, observables, r.PostFormValue("to"))
			if err == nil {
				http.Redirect(w, r, Prefix+"cases/"+url.PathEscape(c.ID)+"?done=open", http.StatusSeeOther)
				return
			}
		}
		var fe *casework.FieldError
		var re *casework.RuleError
		switch {
		case errors.As(err, &fe):
			msg, field = fe.Error(), fe.Field
		case errors.As(err, &re):
			msg = re.Error()
		case errors.Is(err, taxii.ErrNotFound), errors.Is(err, taxii.ErrForbidden):
			s.fail(w, r, u, http.StatusForbidden, u.T("Your account may not write the cases collection; an admin can grant it (entente user grant ACCOUNT cases write)."))
			return
		case strings.HasPrefix(err.Error(), "casework:"):
			msg = err.Error() // a field of the wrong form, named by the decoder
		default:
			s.internal(w, r, u, err)
			return
		}
	}
	// Refused: the form again, with what was entered and the message at
	// the field it names.
	field, _, _ = strings.Cut(field, "[")
	for i := range fs {
		fill(&fs[i], r.PostForm)
		if fs[i].Name == field {
			fs[i].Error = msg
		}
	}
	v := caseNewView{Types: caseTypes(u), Type: t.String(), Title: u.T(typeTitle(t)), Fields: fs,
		Error: u.T("The case was not opened: %s", strings.TrimPrefix(msg, "casework: "))}
	s.renderStatus(w, r, u, http.StatusBadRequest, "casenew.html", v, "")
}

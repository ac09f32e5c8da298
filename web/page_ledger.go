package web

import (
	"net/http"
	"sync"
	"time"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/node"
)

// routesLedger registers the ledger page and its "verify now" action.
// The verification's progress is the console's, shared by its accounts:
// it goes on where the last one stopped (node.VerifyLedgerStep).
func (s *Server) routesLedger(rt *router) {
	v := &ledgerVerification{}
	rt.page("GET /ui/ledger", roleReader, func(w http.ResponseWriter, r *http.Request, u *Session) { s.ledgerPage(w, r, u, v) })
	rt.page("POST /ui/ledger/verify", roleAnalyst, func(w http.ResponseWriter, r *http.Request, u *Session) { s.verifyLedger(w, r, u, v) })
}

// Bounds of the ledger page: checkpoints per page, and entries one press
// of "Verify now" reads (the next press goes on from there).
const (
	ledgerPageSize = 20
	verifyBudget   = 20_000
	verifyShown    = 10 // problems listed
)

// ledgerVerification is the console's verification of its node's ledger:
// how far it got, and what the last run found.
type ledgerVerification struct {
	run  sync.Mutex // held while a verification runs
	mu   sync.Mutex // guards the fields below
	mark node.LedgerMark
	last *verifyOutcome
}

type verifyOutcome struct {
	At       time.Time
	By       string
	Step     node.LedgerStep
	Problems []string // the first verifyShown
	More     int      // problems not listed
	Resumed  bool     // the step went on from an earlier one
	Since    time.Time
}

func (o *verifyOutcome) OK() bool { return len(o.Step.Problems) == 0 }

type ledgerData struct {
	Ledger      *node.LedgerState
	Checkpoints []node.CheckpointView
	After       int64 // the page's cursor
	Next        int64 // the next page's cursor; 0 when none
	Witnessed   []witnessedRow
	Terms       []termsRow
	Verify      *verifyOutcome
	Busy        bool // the last press found a verification running
	Budget      int
}

// termsRow is a change of the terms the ledger records, in words.
type termsRow struct {
	node.TermsEvent
	Says string
}

// termsShown is how many changes of the terms the ledger page lists.
const termsShown = 10

type witnessedRow struct {
	node.WitnessedLog
	State, Class string
}

func (s *Server) ledgerPage(w http.ResponseWriter, r *http.Request, u *Session, v *ledgerVerification) {
	ctx := r.Context()
	after, ok := afterCursor(r)
	if !ok {
		s.badCursor(w, r, u)
		return
	}
	d := ledgerData{After: after, Budget: verifyBudget, Busy: r.URL.Query().Get("busy") != ""}
	var err error
	if d.Ledger, err = s.node.Ledger(ctx, u.Caller); err != nil {
		s.internal(w, r, u, err)
		return
	}
	cps, more, err := s.node.Checkpoints(ctx, u.Caller, after, ledgerPageSize)
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	d.Checkpoints = cps
	if more {
		d.Next = cps[len(cps)-1].Size
	}
	logs, err := s.node.WitnessedLogs(ctx, u.Caller)
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	for _, l := range logs {
		row := witnessedRow{WitnessedLog: l}
		row.State, row.Class = witnessState(u, l.Suspension, l.Cosigned)
		d.Witnessed = append(d.Witnessed, row)
	}
	terms, err := s.node.RecordedTerms(ctx, u.Caller, termsShown)
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	for _, e := range terms {
		d.Terms = append(d.Terms, termsRow{TermsEvent: e, Says: termsSays(u, e)})
	}
	v.mu.Lock()
	d.Verify = v.last
	v.mu.Unlock()
	s.render(w, r, u, "ledger.html", d)
}

// termsSays names a change of the terms in the catalog's words.
func termsSays(u *Session, e node.TermsEvent) string {
	switch {
	case e.Kind == ledger.KindAgreementAdopted:
		return u.T("Agreement %s version %d adopted", e.Agreement, e.Version)
	case e.Kind == ledger.KindAgreementAmended:
		return u.T("Agreement %s amended from version %d to version %d", e.Agreement, e.Previous, e.Version)
	case e.OldKey == "":
		return u.T("Node key %s recorded", e.Key)
	default:
		return u.T("Node key %s replaced by %s", e.OldKey, e.Key)
	}
}

// verifyLedger runs one bounded step of the ledger's verification and
// shows its outcome on the ledger page (post/redirect/get). A failure
// starts the next run over from the first entry.
func (s *Server) verifyLedger(w http.ResponseWriter, r *http.Request, u *Session, v *ledgerVerification) {
	if !v.run.TryLock() {
		http.Redirect(w, r, Prefix+"ledger?busy=1#verify", http.StatusSeeOther)
		return
	}
	defer v.run.Unlock()
	v.mu.Lock()
	mark, prev := v.mark, v.last
	v.mu.Unlock()
	if r.PostFormValue("from") == "start" {
		mark = node.LedgerMark{}
	}
	step, err := s.node.VerifyLedgerStep(r.Context(), u.Caller, mark, verifyBudget)
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	out := &verifyOutcome{At: s.now(), By: u.Account(), Step: *step, Resumed: step.From > 0}
	if out.Resumed && prev != nil {
		out.Since = prev.Since
	} else {
		out.Since = out.At
	}
	for i, p := range step.Problems {
		if i == verifyShown {
			out.More = len(step.Problems) - i
			break
		}
		out.Problems = append(out.Problems, p.String())
	}
	next := step.Mark
	if !out.OK() {
		next = node.LedgerMark{}
	}
	v.mu.Lock()
	v.mark, v.last = next, out
	v.mu.Unlock()
	s.log.InfoContext(r.Context(), "console ledger verification", "account", u.Account(), "from", step.From, "to", step.To,
		"checkpoint", step.Checkpoint, "problems", len(step.Problems))
	http.Redirect(w, r, Prefix+"ledger#verify", http.StatusSeeOther)
}

// Remaining is how many entries up to the latest checkpoint are left to
// verify.
func (o *verifyOutcome) Remaining() int64 { return o.Step.Checkpoint - o.Step.To }

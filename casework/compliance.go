package casework

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/stix"
)

// Period is a span of time a compliance record covers: [Start, End) in UTC.
type Period struct {
	Name       string
	Start, End time.Time
}

// ParsePeriod reads a period: a year ("2027"), a quarter ("2027-Q1") or a
// month ("2027-01").
func ParsePeriod(s string) (Period, error) {
	bad := fmt.Errorf("casework: period %q: write a year (2027), a quarter (2027-Q1) or a month (2027-01)", s)
	if len(s) < 4 {
		return Period{}, bad
	}
	y, err := strconv.Atoi(s[:4])
	if err != nil || y < 1970 || y > 2200 {
		return Period{}, bad
	}
	rest := s[4:]
	start := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	switch {
	case rest == "":
		return Period{s, start, start.AddDate(1, 0, 0)}, nil
	case len(rest) == 3 && rest[:2] == "-Q" && rest[2] >= '1' && rest[2] <= '4':
		start = start.AddDate(0, 3*int(rest[2]-'1'), 0)
		return Period{s, start, start.AddDate(0, 3, 0)}, nil
	case len(rest) == 3 && rest[0] == '-':
		m, err := strconv.Atoi(rest[1:])
		if err != nil || m < 1 || m > 12 || rest[1] == '+' {
			return Period{}, bad
		}
		start = start.AddDate(0, m-1, 0)
		return Period{s, start, start.AddDate(0, 1, 0)}, nil
	}
	return Period{}, bad
}

// Report is the compliance record of a period. Compile computes it from
// ledger entries alone, so every party that holds the same entries
// computes the same bytes (JSON).
type Report struct {
	Period string `json:"period"`
	Start  string `json:"start"`
	End    string `json:"end"`
	// Parties has one row per party and case type, in order.
	Rows []Row `json:"rows"`
	// Violations are the agreement violations recorded in the period.
	Violations []Violation `json:"violations,omitempty"`
	// Ledgers says, per ledger read, how many transitions were found in it
	// only (when more than one ledger was read), and Conflicts how many
	// steps two ledgers recorded differently.
	Ledgers   []LedgerCount `json:"ledgers"`
	Conflicts int           `json:"conflicts"`
}

// Row is one party's record for one case type.
type Row struct {
	Party string `json:"party"`
	Type  string `json:"type"`
	// Opened and Received count the cases the party sent and was sent in
	// the period.
	Opened   int `json:"opened"`
	Received int `json:"received"`
	// Acknowledgements and Answers are the party's record on the deadlines
	// it owed that fell in the period.
	Acknowledgements Timeliness `json:"acknowledgements"`
	Answers          Timeliness `json:"answers"`
	// Refused counts the party's refusals and declines in the period, by
	// ground.
	Refused []Count `json:"refused,omitempty"`
	// Escalated counts the escalations taken against the party.
	Escalated int `json:"escalated"`
	// CINotified and CIReceived count incident notifications that affect
	// declared critical infrastructure, sent and received.
	CINotified int `json:"ci_notified,omitempty"`
	CIReceived int `json:"ci_received,omitempty"`
}

// Timeliness is a record on deadlines: Due is how many fell due, OnTime
// were met, Late met after the deadline but within the period, Overdue not
// met by the end of the period. Withdrawn cases owe nothing.
type Timeliness struct {
	Due     int `json:"due"`
	OnTime  int `json:"on_time"`
	Late    int `json:"late"`
	Overdue int `json:"overdue"`
}

// Count is a number of something named.
type Count struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// Violation counts the violations of one rule by one party.
type Violation struct {
	Party string `json:"party"`
	Rule  string `json:"rule"`
	Count int    `json:"count"`
}

// LedgerCount is how many transitions only one ledger holds.
type LedgerCount struct {
	Ledger string `json:"ledger"`
	Only   int    `json:"only_here"`
}

// Ledger is the entries read from one party's ledger (their openings).
type Ledger struct {
	Party   string
	Entries []ledger.Entry
}

// Compile computes the compliance record of the period from the entries of
// one or more ledgers (typically both parties'). It looks only at
// transition entries, and only at their attributes, never at the entries'
// times (when each node recorded them, which differ between ledgers): a
// step counts where its "at" falls, and steps at or after the end of the
// period are ignored, so the record of a closed period never changes.
func Compile(p Period, ledgers ...Ledger) Report {
	c := NewCompiler(p)
	for _, l := range ledgers {
		for _, e := range l.Entries {
			c.Add(l.Party, e)
		}
	}
	return c.Report()
}

// Compiler computes a compliance record from entries added one at a time.
// It keeps, per step and per case, small values without pointers, so that
// a record over millions of cases costs the garbage collector little.
type Compiler struct {
	p       Period
	ledgers []string
	steps   map[[16]byte]stepSeen
	cases   map[[16]byte]caseAcc
	names   []string // parties and types, interned
	index   map[string]uint16
	rows    map[[2]string]*rowAcc
	viol    map[[2]string]int
	clash   int
	buf     []byte
}

type stepSeen struct {
	digest  [16]byte
	ledgers uint64 // bit i: ledgers[i] holds it
}

// caseAcc is what the record needs of a case; times are Unix nanoseconds,
// 0 when absent, and names are indexes into Compiler.names.
type caseAcc struct {
	typ, from, to     uint16
	ackDue, answerDue int64
	acked, answered   int64
	withdrawn         int64
}

type rowAcc struct {
	Row
	grounds map[string]int
}

// NewCompiler starts a compliance record of the period.
func NewCompiler(p Period) *Compiler {
	return &Compiler{p: p, steps: map[[16]byte]stepSeen{}, cases: map[[16]byte]caseAcc{},
		index: map[string]uint16{}, rows: map[[2]string]*rowAcc{}, viol: map[[2]string]int{}}
}

func (c *Compiler) intern(s string) uint16 {
	if i, ok := c.index[s]; ok {
		return i
	}
	if len(c.names) == 1<<16-1 {
		return 0
	}
	c.names = append(c.names, s)
	c.index[s] = uint16(len(c.names) - 1)
	return uint16(len(c.names) - 1)
}

// Add reads one entry of the ledger of party ledgerParty.
func (c *Compiler) Add(ledgerParty string, e ledger.Entry) {
	t, ok := e.Event.(ledger.Transition)
	if !ok {
		return
	}
	at, err := stix.ParseTime(t.Attrs["at"])
	if err != nil || !at.Before(c.p.End) {
		return
	}
	li := slices.Index(c.ledgers, ledgerParty)
	if li < 0 {
		if len(c.ledgers) == 64 {
			return
		}
		c.ledgers = append(c.ledgers, ledgerParty)
		li = len(c.ledgers) - 1
	}
	key, d := c.stepKey(&t)
	if s, ok := c.steps[key]; ok {
		s.ledgers |= 1 << li
		if s.digest != d {
			c.clash++
		}
		c.steps[key] = s
		return // counted once, whichever ledger came first
	}
	c.steps[key] = stepSeen{digest: d, ledgers: 1 << li}
	inPeriod := !at.Before(c.p.Start)
	if t.Workflow == ViolationWorkflow {
		if inPeriod {
			c.viol[[2]string{t.Attrs["party"], t.Attrs["rule"]}]++
		}
		return
	}
	if _, known := ParseType(t.Workflow); !known {
		return
	}
	ck := sha256.Sum256([]byte(t.Case))
	id := [16]byte(ck[:16])
	ca, ok := c.cases[id]
	if !ok {
		ca = caseAcc{typ: c.intern(t.Workflow), from: c.intern(t.Attrs["initiator"]), to: c.intern(t.Attrs["recipient"])}
	}
	typ, from, to := c.names[ca.typ], c.names[ca.from], c.names[ca.to]
	switch t.Attrs["event"] {
	case "send":
		ca.ackDue = attrTime(t.Attrs["ack_due"])
		ca.answerDue = attrTime(t.Attrs["answer_due"])
		if inPeriod {
			c.row(from, typ).Opened++
			c.row(to, typ).Received++
			if t.Attrs["ci"] == "1" {
				c.row(from, typ).CINotified++
				c.row(to, typ).CIReceived++
			}
		}
	case "withdraw":
		ca.withdrawn = at.UnixNano()
	case "escalate":
		if inPeriod {
			other := from
			if t.Attrs["actor"] == from {
				other = to
			}
			c.row(other, typ).Escalated++
		}
	}
	if t.Attrs["ack"] == "1" && ca.acked == 0 {
		ca.acked = at.UnixNano()
	}
	if t.Attrs["answer"] == "1" && ca.answered == 0 {
		ca.answered = at.UnixNano()
	}
	if g := t.Attrs["ground"]; g != "" && inPeriod {
		r := c.row(t.Attrs["actor"], typ)
		if r.grounds == nil {
			r.grounds = map[string]int{}
		}
		r.grounds[g]++
	}
	c.cases[id] = ca
}

func attrTime(s string) int64 {
	if s == "" {
		return 0
	}
	t, err := stix.ParseTime(s)
	if err != nil {
		return 0
	}
	return t.UnixNano()
}

// stepKey names a step (its case, time, event and workflow) and digests
// what both ledgers must agree on about it: everything but the
// counterparty, which each ledger names from its side. Both are SHA-256,
// truncated to 128 bits: deterministic, so that every party computes the
// same record, and collision-resistant.
func (c *Compiler) stepKey(t *ledger.Transition) (key, digest [16]byte) {
	b := c.buf[:0]
	for _, s := range []string{t.Case, t.Attrs["at"], t.Attrs["event"], t.Workflow} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	k := sha256.Sum256(b)
	for _, s := range []string{t.From, t.To} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, name := range slices.Sorted(maps.Keys(t.Attrs)) {
		b = binary.AppendUvarint(b, uint64(len(name)))
		b = append(b, name...)
		b = binary.AppendUvarint(b, uint64(len(t.Attrs[name])))
		b = append(b, t.Attrs[name]...)
	}
	d := sha256.Sum256(b)
	c.buf = b
	return [16]byte(k[:16]), [16]byte(d[:16])
}

func (c *Compiler) row(party, typ string) *rowAcc {
	k := [2]string{party, typ}
	r := c.rows[k]
	if r == nil {
		r = &rowAcc{Row: Row{Party: party, Type: typ}}
		c.rows[k] = r
	}
	return r
}

// timely scores one deadline owed: due in the period, met when, and
// whether the case was withdrawn first (Unix nanoseconds, 0 for never).
func (c *Compiler) timely(t *Timeliness, due, met, withdrawn int64) {
	if due == 0 || due < c.p.Start.UnixNano() || due >= c.p.End.UnixNano() {
		return
	}
	if withdrawn != 0 && withdrawn <= due && (met == 0 || met > withdrawn) {
		return
	}
	t.Due++
	switch {
	case met == 0:
		t.Overdue++
	case met <= due:
		t.OnTime++
	default:
		t.Late++
	}
}

// Report returns the record of what has been added.
func (c *Compiler) Report() Report {
	for _, ca := range c.cases {
		if ca.ackDue == 0 && ca.answerDue == 0 {
			continue
		}
		r := c.row(c.names[ca.to], c.names[ca.typ])
		c.timely(&r.Acknowledgements, ca.ackDue, ca.acked, ca.withdrawn)
		c.timely(&r.Answers, ca.answerDue, ca.answered, ca.withdrawn)
	}
	rep := Report{Period: c.p.Name, Start: stix.FormatTime(c.p.Start), End: stix.FormatTime(c.p.End), Rows: []Row{}}
	for _, r := range c.rows {
		row := r.Row
		for g, n := range r.grounds {
			row.Refused = append(row.Refused, Count{g, n})
		}
		slices.SortFunc(row.Refused, func(x, y Count) int { return cmp.Compare(x.Name, y.Name) })
		rep.Rows = append(rep.Rows, row)
	}
	slices.SortFunc(rep.Rows, func(x, y Row) int {
		return cmp.Or(cmp.Compare(x.Party, y.Party), cmp.Compare(x.Type, y.Type))
	})
	for k, n := range c.viol {
		rep.Violations = append(rep.Violations, Violation{k[0], k[1], n})
	}
	slices.SortFunc(rep.Violations, func(x, y Violation) int {
		return cmp.Or(cmp.Compare(x.Party, y.Party), cmp.Compare(x.Rule, y.Rule))
	})
	rep.Ledgers = []LedgerCount{}
	if len(c.ledgers) > 1 {
		only := make([]int, len(c.ledgers))
		for _, s := range c.steps {
			if s.ledgers&(s.ledgers-1) == 0 { // one bit: one ledger
				for i := range c.ledgers {
					if s.ledgers == 1<<i {
						only[i]++
					}
				}
			}
		}
		for i, l := range c.ledgers {
			rep.Ledgers = append(rep.Ledgers, LedgerCount{l, only[i]})
		}
		slices.SortFunc(rep.Ledgers, func(x, y LedgerCount) int { return cmp.Compare(x.Ledger, y.Ledger) })
	}
	rep.Conflicts = c.clash
	return rep
}

// JSON returns the report's RFC 8785 canonical JSON: the bytes both
// parties compute, compare and countersign.
func (r Report) JSON() ([]byte, error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return stix.Canonical(raw)
}

// WriteText writes the report as a table for people.
func (r Report) WriteText(w io.Writer) error {
	start, _ := stix.ParseTime(r.Start)
	end, _ := stix.ParseTime(r.End)
	fmt.Fprintf(w, "Compliance record %s (%s to %s, UTC)\n\n", r.Period, start.Format(time.DateOnly), end.Format(time.DateOnly))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTY\tTYPE\tOPENED\tRECEIVED\tACK ON TIME\tANSWER ON TIME\tOVERDUE\tREFUSED\tESCALATED\tCI INCIDENTS")
	for _, row := range r.Rows {
		refused := 0
		var grounds []string
		for _, g := range row.Refused {
			refused += g.Count
			grounds = append(grounds, fmt.Sprintf("%s %d", g.Name, g.Count))
		}
		ref := strconv.Itoa(refused)
		if len(grounds) > 0 {
			ref += " (" + strings.Join(grounds, ", ") + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d/%d\t%d/%d\t%d\t%s\t%d\t%d sent, %d received\n", row.Party, row.Type, row.Opened, row.Received,
			row.Acknowledgements.OnTime, row.Acknowledgements.Due, row.Answers.OnTime, row.Answers.Due,
			row.Acknowledgements.Overdue+row.Answers.Overdue, ref, row.Escalated, row.CINotified, row.CIReceived)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Violations) == 0 {
		fmt.Fprintln(w, "\nAgreement violations: none recorded.")
	} else {
		fmt.Fprintln(w, "\nAgreement violations:")
		for _, v := range r.Violations {
			fmt.Fprintf(w, "  %s: %s (%d)\n", v.Party, v.Rule, v.Count)
		}
	}
	for _, l := range r.Ledgers {
		if l.Only > 0 {
			fmt.Fprintf(w, "Steps only in %s's ledger: %d\n", l.Ledger, l.Only)
		}
	}
	if r.Conflicts > 0 {
		fmt.Fprintf(w, "Steps the ledgers record differently: %d\n", r.Conflicts)
	}
	_, err := fmt.Fprintf(w, "")
	return err
}

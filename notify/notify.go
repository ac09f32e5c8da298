// Package notify tells people of treaty case events: each event and alarm
// a node sees goes by e-mail (SMTP) to the contact points its own party
// names in the agreement. Urgent items go to the party's 24/7 contact
// point, whatever the hour; the others to the contact point of the
// authority competent for the case (cert, law-enforcement,
// central-authority or diplomatic, by case type and escalation level).
//
// Who is told is Recipients, a pure function of the agreement and the
// item; Mailer sends, on its own goroutine, so that a slow relay never
// holds up the node.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/smtp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/casework"
)

// Item is one thing to tell a party's people.
type Item struct {
	// Subject and Body are the message's.
	Subject, Body string
	// Urgent items go to the 24/7 contact point.
	Urgent bool
	// Roles are the authority roles competent for the item, in order of
	// preference.
	Roles []string
	// Authority, if set, is the authority whose contact point the item is
	// about (a stale contact point): it is told too.
	Authority string
}

// Recipients returns the e-mail addresses of party's contact points that
// item goes to: for an urgent item every 24/7 contact point of the party,
// and the contact point of the first authority with one of item's roles
// (and of item.Authority). Addresses appear once, in order.
func Recipients(a *agreement.Agreement, party string, it Item) []string {
	p, ok := a.Party(party)
	if !ok {
		return nil
	}
	var out []string
	add := func(email string) {
		if email != "" && !slices.Contains(out, email) {
			out = append(out, email)
		}
	}
	if it.Urgent {
		for _, au := range p.Authorities {
			if strings.EqualFold(strings.TrimSpace(au.Contact.Hours), "24/7") {
				add(au.Contact.Email)
			}
		}
	}
	found := false
	for _, role := range it.Roles {
		for _, au := range p.Authorities {
			if slices.Contains(au.Roles, role) {
				add(au.Contact.Email)
				found = true
				break
			}
		}
		if found {
			break
		}
	}
	if it.Authority != "" {
		if au, ok := p.Authority(it.Authority); ok {
			add(au.Contact.Email)
		}
	}
	if len(out) == 0 && len(p.Authorities) > 0 {
		add(p.Authorities[0].Contact.Email)
	}
	return out
}

// rolesOf returns the authority roles competent for a case of type t.
func rolesOf(t casework.Type, level string) []string {
	switch level {
	case "diplomatic":
		return []string{"diplomatic"}
	case "competent-authority":
		if t == casework.TypePreservation {
			return []string{"central-authority", "law-enforcement"}
		}
		return []string{"central-authority", "cert"}
	}
	switch t {
	case casework.TypePreservation:
		return []string{"law-enforcement", "central-authority"}
	case casework.TypeConsultation:
		return []string{"diplomatic", "cert"}
	}
	return []string{"cert"}
}

// urgent reports whether a case's events are urgent: incidents of high
// severity or on declared critical infrastructure, urgent requests for
// assistance, and preservation requests (their data may be lost by the
// hour).
func urgent(c casework.Case) bool {
	switch {
	case c.Incident != nil:
		return c.Incident.AffectsDeclaredCI || c.Incident.Severity == "high" || c.Incident.Severity == "critical" || c.Incident.Severity == "emergency"
	case c.Assistance != nil:
		return c.Assistance.Urgent
	case c.Preservation != nil:
		return true
	}
	return false
}

// CaseItem is what to tell party of version next of a case.
func CaseItem(next casework.Case) Item {
	level := ""
	subject := fmt.Sprintf("[entente] %s %s by %s: %s", next.Type, next.Event, next.Actor, next.State)
	var b strings.Builder
	fmt.Fprintf(&b, "Case:       %s\nType:       %s\nAgreement:  %s\nFrom:       %s\nTo:         %s\n", next.ID, next.Type, next.Agreement, next.From, next.To)
	fmt.Fprintf(&b, "Step:       %s by %s at %s\nState:      %s\n", next.Event, next.Actor, next.Modified.UTC().Format(time.RFC3339), next.State)
	if next.Incident != nil {
		fmt.Fprintf(&b, "Severity:   %s\nCritical infrastructure: %t\nSummary:    %s\n", next.Incident.Severity, next.Incident.AffectsDeclaredCI, next.Incident.Summary)
	}
	if next.Note != "" {
		fmt.Fprintf(&b, "Note:       %s\n", next.Note)
	}
	fmt.Fprintf(&b, "\nSee it with: entente case show %s\n", next.ID)
	return Item{Subject: subject, Body: b.String(), Urgent: urgent(next), Roles: rolesOf(next.Type, level)}
}

// AlarmItem is what to tell of an alarm of case c (the zero Case for a
// stale or cadence alarm).
func AlarmItem(al casework.Alarm, c casework.Case) Item {
	subject := fmt.Sprintf("[entente] %s: %s", al.Kind, al.Case)
	if al.Case == "" {
		subject = fmt.Sprintf("[entente] %s: %s", al.Kind, al.Authority)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Alarm:      %s\nDue:        %s\n", al.Kind, al.At.UTC().Format(time.RFC3339))
	if al.Case != "" {
		fmt.Fprintf(&b, "Case:       %s\nDuty:       %s owed by %s to %s\n", al.Case, al.Duty.Kind, al.Party, al.Owed)
	}
	if al.Level != "" {
		fmt.Fprintf(&b, "Escalated to: %s\n", al.Level)
	}
	if al.Authority != "" {
		fmt.Fprintf(&b, "Contact point: %s\n", al.Authority)
	}
	it := Item{Subject: subject, Body: b.String(), Roles: rolesOf(c.Type, al.Level), Authority: al.Authority}
	switch al.Kind {
	case casework.AlarmBreach, casework.AlarmEscalate, casework.AlarmExpire:
		it.Urgent = true
	default:
		it.Urgent = urgent(c) && al.Kind == casework.AlarmRemind
	}
	return it
}

// Mailer sends items to a party's contact points through an SMTP relay.
type Mailer struct {
	// Addr is the relay's host:port; From the envelope and header sender.
	Addr, From string
	// Agreement names the contact points; Party is the node's party.
	Agreement *agreement.Agreement
	Party     string
	Log       *slog.Logger
	// Now stamps the messages' Date; nil means time.Now.
	Now func() time.Time

	once  sync.Once
	queue chan mail
}

type mail struct {
	to  []string
	msg []byte
}

// ErrQueueFull is logged when the mailer's queue is full and an item is
// dropped (the case itself is stored and ledgered regardless).
var ErrQueueFull = errors.New("notify: the mail queue is full")

// Send queues item for party's contact points. It never blocks.
func (m *Mailer) Send(ctx context.Context, it Item) {
	m.once.Do(func() {
		m.queue = make(chan mail, 1024)
		go m.run()
	})
	to := Recipients(m.Agreement, m.Party, it)
	if len(to) == 0 {
		return
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	msg := Message(m.From, to, it, now())
	select {
	case m.queue <- mail{to: to, msg: msg}:
	default:
		m.log().WarnContext(ctx, "notify: dropping a notification", slog.String("subject", it.Subject), slog.Any("error", ErrQueueFull))
	}
}

func (m *Mailer) log() *slog.Logger {
	if m.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Log
}

// run sends queued mail, retrying each message a few times.
func (m *Mailer) run() {
	for ml := range m.queue {
		var err error
		for try := range 5 {
			if err = smtp.SendMail(m.Addr, nil, m.From, ml.to, ml.msg); err == nil {
				break
			}
			time.Sleep(time.Duration(1<<try) * 100 * time.Millisecond)
		}
		if err != nil {
			m.log().Warn("notify: sending a notification failed", slog.Any("to", ml.to), slog.Any("error", err))
		}
	}
}

// Message is the RFC 5322 message of item.
func Message(from string, to []string, it Item, now time.Time) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n", from, strings.Join(to, ", "), oneLine(it.Subject), now.UTC().Format(time.RFC1123Z))
	if it.Urgent {
		b.WriteString("Importance: high\r\nX-Priority: 1\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(strings.ReplaceAll(it.Body, "\n", "\r\n"))
	return []byte(b.String())
}

// oneLine keeps a header value on one line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// CaseEvent tells the mailer's party of a case version its partner made
// (node.Node.OnCase): its own steps are its operators' doing.
func (m *Mailer) CaseEvent(ctx context.Context, prev, next casework.Case) {
	if next.Actor == m.Party || next.State == casework.StateDraft {
		return
	}
	m.Send(ctx, CaseItem(next))
}

// Alarm tells the mailer's party of an alarm of case c that concerns it:
// one it owes, or is owed (node.Node.OnAlarm).
func (m *Mailer) Alarm(ctx context.Context, al casework.Alarm, c casework.Case) {
	if al.Party != m.Party && al.Owed != m.Party {
		return
	}
	m.Send(ctx, AlarmItem(al, c))
}

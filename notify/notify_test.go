package notify_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/casework"
	"github.com/entente/entente/notify"
	"github.com/entente/entente/notify/smtptest"
)

func example(t *testing.T) *agreement.Agreement {
	t.Helper()
	doc, err := os.ReadFile("../examples/arcadia-borealis.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := agreement.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestRecipients(t *testing.T) {
	a := example(t)
	for _, tc := range []struct {
		name  string
		party string
		it    notify.Item
		want  []string
	}{
		// Borealis's only 24/7 point is its CERT's operations centre.
		{"urgent to the 24/7 point", "borealis", notify.Item{Urgent: true, Roles: []string{"cert"}}, []string{"soc@cyber.borealis.example"}},
		// Arcadia has two 24/7 points; both hear urgent items, then the competent one.
		{"urgent, every 24/7 point", "arcadia", notify.Item{Urgent: true, Roles: []string{"central-authority"}},
			[]string{"duty@cert.arcadia.example", "cyber247@police.arcadia.example", "mla@justice.arcadia.example"}},
		{"not urgent: the competent authority only", "borealis", notify.Item{Roles: []string{"diplomatic"}}, []string{"cyber@foreign.borealis.example"}},
		{"a stale contact point is told", "borealis", notify.Item{Roles: []string{"cert"}, Authority: "borealis-prosecutor"},
			[]string{"soc@cyber.borealis.example", "cyber@prosecutor.borealis.example"}},
		{"not a party", "caledonia", notify.Item{Urgent: true}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := notify.Recipients(a, tc.party, tc.it); !slices.Equal(got, tc.want) {
				t.Errorf("Recipients = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestMailerSendsThroughARealServer sends an urgent incident notification
// at 03:00 on a Sunday through a real SMTP server: it reaches the 24/7
// contact point.
func TestMailerSendsThroughARealServer(t *testing.T) {
	a := example(t)
	srv := smtptest.Start(t)
	sunday := time.Date(2027, 1, 3, 3, 0, 0, 0, time.UTC)
	m := &notify.Mailer{Addr: srv.Addr, From: "entente@cti.cert.arcadia.example", Agreement: a, Party: "borealis", Now: func() time.Time { return sunday }}
	c := casework.Case{ID: "entente-incident-notification--0f3c6e58-2b7a-4a0e-9d62-51b1f3e6a001", Type: casework.TypeIncident,
		State: casework.StateSent, Event: casework.EventSend, From: "arcadia", To: "borealis", Actor: "arcadia", Modified: sunday,
		Incident: &casework.Incident{Severity: "high", AffectsDeclaredCI: true, Summary: "Intrusion into a grid operator"}}
	m.Send(t.Context(), notify.CaseItem(c))
	msg, ok := srv.Wait(10*time.Second, func(m smtptest.Message) bool { return slices.Contains(m.To, "soc@cyber.borealis.example") })
	if !ok {
		t.Fatalf("no message reached the 24/7 point; got %+v", srv.Messages())
	}
	body := string(msg.Data)
	for _, want := range []string{"Subject: [entente] incident-notification send by arcadia: sent", "X-Priority: 1", c.ID, "Critical infrastructure: true"} {
		if !strings.Contains(body, want) {
			t.Errorf("message lacks %q:\n%s", want, body)
		}
	}
	if msg.From != "entente@cti.cert.arcadia.example" {
		t.Errorf("envelope sender %q", msg.From)
	}
}

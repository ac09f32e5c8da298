package casework

import (
	"slices"
	"testing"
	"time"

	"github.com/entente/entente/agreement"
)

// scheduler is the test's model of the durable scheduler a node runs: it
// keeps the cases and the fired keys as its store would, and at each tick
// fires the due alarms, taking the escalate step for escalation alarms,
// and recording each key with what it did.
type scheduler struct {
	a     *agreement.Agreement
	cases []Case
	fired Fired
	log   []Alarm
}

func (s *scheduler) tick(t *testing.T, now time.Time) {
	for _, al := range Due(s.cases, s.a, s.fired, now) {
		if al.Kind == AlarmEscalate {
			i := slices.IndexFunc(s.cases, func(c Case) bool { return c.ID == al.Case })
			next, err := Step(s.cases[i], Event{Kind: EventEscalate, Actor: al.Owed}, s.a, now)
			if err != nil {
				t.Fatalf("%s at %s: escalation refused: %v", al.Key, now, err)
			}
			s.cases[i] = next
		}
		s.fired.Mark(al)
		s.log = append(s.log, al)
	}
}

// restart rebuilds the scheduler from what its store would hold.
func (s *scheduler) restart() *scheduler {
	fired := Fired{}
	for _, k := range s.fired.Keys() {
		fired[k] = true
	}
	return &scheduler{a: s.a, cases: slices.Clone(s.cases), fired: fired, log: s.log}
}

func caseAlarms(log []Alarm, id string) []string {
	var out []string
	for _, al := range log {
		if al.Case == id {
			out = append(out, al.Kind.String()+" "+al.Duty.Kind.String()+al.Level+" +"+al.At.Sub(t0.Add(time.Hour)).String())
		}
	}
	return out
}

// TestSchedulerFiresOnce runs an unanswered request for assistance under a
// fake clock, hour by hour, with a restart, and a second scheduler that was
// down for three weeks: both fire the same alarms, each once, and the
// escalations take the case up the ladder.
func TestSchedulerFiresOnce(t *testing.T) {
	a := testAgreement(t)
	sent, err := Step(newCase(t, a, TypeAssistance), Event{Kind: EventSend, Actor: "arcadia"}, a, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	end := t0.Add(30 * 24 * time.Hour)

	hourly := &scheduler{a: a, cases: []Case{sent}, fired: Fired{}}
	for now := t0.Add(time.Hour); !now.After(end); now = now.Add(time.Hour) {
		if now.Equal(t0.Add(36 * time.Hour)) {
			hourly = hourly.restart()
		}
		hourly.tick(t, now)
	}
	down := &scheduler{a: a, cases: []Case{sent}, fired: Fired{}}
	down.tick(t, t0.Add(12*time.Hour))
	down = down.restart()
	down.tick(t, t0.Add(21*24*time.Hour))
	down.tick(t, t0.Add(21*24*time.Hour))
	down.tick(t, end)

	for name, s := range map[string]*scheduler{"hourly": hourly, "down three weeks": down} {
		seen := map[string]bool{}
		for _, al := range s.log {
			if seen[al.Key] {
				t.Errorf("%s: %s fired twice", name, al.Key)
			}
			seen[al.Key] = true
		}
		got := caseAlarms(s.log, sent.ID)
		want := []string{
			"remind acknowledge +18h0m0s", "breach acknowledge +24h0m0s", "escalate acknowledgetechnical +24h0m0s",
			"escalate acknowledgecompetent-authority +96h0m0s", "remind answer +180h0m0s", "breach answer +240h0m0s",
			"escalate acknowledgediplomatic +360h0m0s",
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: fired\n %q\nwant\n %q", name, got, want)
		}
		if s.cases[0].Level != 3 {
			t.Errorf("%s: level %d, want 3", name, s.cases[0].Level)
		}
	}
}

// TestAlarmsMoveWithTheCase: an acknowledged case has no acknowledgement
// alarms; an extended preservation gets a new expiry alarm, and the fired
// one does not come back.
func TestAlarmsMoveWithTheCase(t *testing.T) {
	a := testAgreement(t)
	c := step(t, newCase(t, a, TypePreservation), EventSend, "arcadia")
	c = step(t, c, EventAcknowledge, "borealis")
	for _, al := range Alarms(c, a) {
		if al.Duty.Kind == DutyAcknowledge {
			t.Errorf("acknowledged, still %s", al.Key)
		}
	}
	c = step(t, c, EventPreserve, "borealis")
	fired := Fired{}
	due := Due([]Case{c}, a, fired, c.Until)
	var expiry Alarm
	for _, al := range due {
		if al.Kind == AlarmExpire {
			expiry = al
		}
		fired.Mark(al)
	}
	if expiry.Key == "" || !expiry.At.Equal(c.Sent.Add(2*time.Hour).Add(90*24*time.Hour)) {
		t.Fatalf("expiry alarm %+v", expiry)
	}
	ext, err := Step(c, Event{Kind: EventExtend, Actor: "borealis"}, a, c.Until.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	again := Due([]Case{ext}, a, fired, ext.Until)
	n := 0
	for _, al := range again {
		if al.Kind == AlarmExpire {
			n++
			if al.Key == expiry.Key || !al.At.Equal(ext.Until) {
				t.Errorf("extended: %+v", al)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d expiry alarms after the extension, want 1", n)
	}
}

func TestStaleAndCadence(t *testing.T) {
	a := testAgreement(t)
	eff := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ping := step(t, step(t, newCase(t, a, TypeReachability), EventSend, "arcadia"), EventAcknowledge, "borealis")
	var stale []string
	for _, al := range Stale([]Case{ping}, a) {
		if al.Party == "borealis" && al.Authority == "borealis-cert" {
			if !al.At.Equal(ping.Acknowledged.Add(StaleDays * day)) {
				t.Errorf("tested contact point stale at %s", al.At)
			}
		} else if !al.At.Equal(eff.Add(FirstTestDays * day)) {
			t.Errorf("%s never tested, stale at %s", al.Authority, al.At)
		}
		stale = append(stale, al.Authority)
	}
	if len(stale) != 7 {
		t.Errorf("stale alarms for %v, want the 7 authorities", stale)
	}
	cons := reachAll(t, a, TypeConsultation)[StateMet]
	cad := Cadence([]Case{cons}, a)
	if len(cad) != 1 || !cad[0].At.Equal(cons.Held.Add(CadenceDays*day)) {
		t.Errorf("cadence %+v", cad)
	}
}

func TestPingDeadlineIsTheShortest(t *testing.T) {
	a := testAgreement(t)
	if d, _ := ackDuration(TypeReachability, a); d != 4*time.Hour {
		t.Errorf("ping deadline %s, want the 4 hours of incident notifications", d)
	}
}

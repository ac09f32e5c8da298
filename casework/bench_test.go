package casework

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/entente/entente/internal/proctest"
	"github.com/entente/entente/ledger"
)

// BenchmarkStep takes accepted steps: requests for assistance sent,
// acknowledged, accepted, completed and closed, over and over.
func BenchmarkStep(b *testing.B) {
	a := testAgreement(b)
	draft := newCase(b, a, TypeAssistance)
	evs := []Event{{Kind: EventSend, Actor: "arcadia"}, {Kind: EventAcknowledge, Actor: "borealis"},
		{Kind: EventAccept, Actor: "borealis"}, {Kind: EventComplete, Actor: "borealis"}, {Kind: EventFeedback, Actor: "arcadia"}}
	c, now := draft, t0
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		k := i % len(evs)
		if k == 0 {
			c, now = draft, t0
		}
		now = now.Add(time.Hour)
		next, err := Step(c, evs[k], a, now)
		if err != nil {
			b.Fatal(err)
		}
		c = next
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}

// BenchmarkStepRefused takes steps Step refuses, for each kind of rule.
func BenchmarkStepRefused(b *testing.B) {
	a := testAgreement(b)
	sent := newCase(b, a, TypePreservation)
	sent, _ = Step(sent, Event{Kind: EventSend, Actor: "arcadia"}, a, t0.Add(time.Hour))
	evs := []Event{{Kind: EventAcknowledge, Actor: "arcadia"}, {Kind: EventRefuse, Actor: "borealis", Ground: "public-order"},
		{Kind: EventExpire, Actor: "borealis"}, {Kind: EventEscalate, Actor: "arcadia"}}
	now := sent.Modified.Add(time.Hour)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Step(sent, evs[i%len(evs)], a, now); err == nil {
			b.Fatal("accepted")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}

// benchCases is the number of cases of the compliance benchmarks:
// ENTENTE_CASES, or 10000.
func benchCases() int {
	if n, err := strconv.Atoi(os.Getenv("ENTENTE_CASES")); err == nil && n > 0 {
		return n
	}
	return 10000
}

var (
	benchOnce    sync.Once
	benchEntries [][]byte
)

// complianceEntries encodes the ledger entries of benchCases requests for
// assistance, each sent, acknowledged and answered (some late, some
// declined), as one party's ledger records them.
func complianceEntries(b *testing.B) [][]byte {
	benchOnce.Do(func() {
		a := testAgreement(b)
		draft := newCase(b, a, TypeAssistance)
		n := benchCases()
		benchEntries = make([][]byte, 0, 3*n)
		start := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := 0; i < n; i++ {
			c := draft
			c.ID = fmt.Sprintf("entente-assistance-request--00000000-0000-4000-8000-%012d", i)
			at := start.Add(time.Duration(i%(80*24*60)) * time.Minute)
			c.Created, c.Modified = at, at
			second := Event{Kind: EventAccept, Actor: "borealis"}
			if i%7 == 0 {
				second = Event{Kind: EventDecline, Actor: "borealis", Ground: "essential-interests"}
			}
			for j, e := range []Event{{Kind: EventSend, Actor: "arcadia"}, {Kind: EventAcknowledge, Actor: "borealis"}, second} {
				at = at.Add(time.Duration(1+(i+j)%300) * time.Hour)
				next, err := Step(c, e, a, at)
				if err != nil {
					b.Fatal(err)
				}
				enc, err := ledger.Entry{Time: at, Event: Record(c, next, e, a, "arcadia")}.Encode()
				if err != nil {
					b.Fatal(err)
				}
				benchEntries = append(benchEntries, enc)
				c = next
			}
		}
	})
	return benchEntries
}

// BenchmarkComplianceRead only decodes the ledger entries: the baseline.
func BenchmarkComplianceRead(b *testing.B) {
	entries := complianceEntries(b)
	b.ResetTimer()
	cpu := proctest.CPUTime()
	for i := 0; i < b.N; i++ {
		for _, raw := range entries {
			if _, err := ledger.DecodeEntry(raw); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(benchCases()), "cases")
	b.ReportMetric((proctest.CPUTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}

// BenchmarkComplianceReport decodes the entries and compiles the record of
// 2027-Q1 from them.
func BenchmarkComplianceReport(b *testing.B) {
	entries := complianceEntries(b)
	p, _ := ParsePeriod("2027-Q1")
	b.ResetTimer()
	cpu := proctest.CPUTime()
	for i := 0; i < b.N; i++ {
		c := NewCompiler(p)
		for _, raw := range entries {
			e, err := ledger.DecodeEntry(raw)
			if err != nil {
				b.Fatal(err)
			}
			c.Add("arcadia", e)
		}
		if r := c.Report(); len(r.Rows) == 0 {
			b.Fatal("empty report")
		}
	}
	b.ReportMetric(float64(benchCases()), "cases")
	b.ReportMetric((proctest.CPUTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}

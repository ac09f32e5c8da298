package casework_test

import (
	"fmt"
	"os"
	"time"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/casework"
)

// A preservation request under the example agreement: Borealis cannot
// refuse it on a ground it does not list, preserves the data for the
// agreement's 90 days, and the requester's escalation is refused while
// nothing is overdue.
func ExampleStep() {
	data, _ := os.ReadFile("testdata/agreement.yaml")
	a, err := agreement.Parse(data)
	if err != nil {
		panic(err)
	}
	now := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)
	c, err := casework.New("entente-preservation-request--7d7d1f52-8d3b-4a44-9d2e-3f0c41b6a0a1", &casework.Preservation{
		RequestingAuthority: "arcadia-police-cyber", Offence: "illegal access", Facts: "SCADA gateway accessed",
		Data: "subscriber and traffic data", Relationship: "the address logged in", Custodian: "AS64511",
		Necessity: "logs are kept 30 days", IntendsMLA: true, PeriodDays: 60, LegalBasis: "Budapest Convention art. 29",
		Purpose: "criminal-investigation",
	}, "arcadia", "borealis", a, now)
	if err != nil {
		panic(err)
	}
	c, _ = casework.Step(c, casework.Event{Kind: casework.EventSend, Actor: "arcadia"}, a, now.Add(time.Hour))

	_, err = casework.Step(c, casework.Event{Kind: casework.EventRefuse, Actor: "borealis", Ground: "public-order"}, a, now.Add(2*time.Hour))
	fmt.Println(err)
	_, err = casework.Step(c, casework.Event{Kind: casework.EventEscalate, Actor: "arcadia"}, a, now.Add(2*time.Hour))
	fmt.Println(err)

	c, _ = casework.Step(c, casework.Event{Kind: casework.EventPreserve, Actor: "borealis"}, a, now.Add(3*time.Hour))
	fmt.Println(c.State, "until", c.Until.Format(time.DateOnly))
	for _, d := range casework.Deadlines(c, a) {
		fmt.Println(d.Kind, "owed by", d.Owner, "by", d.Due.Format(time.DateOnly))
	}
	// Output:
	// casework: a refusal must give one of the grounds the refusing party lists in the agreement [refusal-ground]
	// casework: nothing the other party owes on this case is overdue [escalation]
	// preserved until 2027-04-04
	// preservation-expiry owed by arcadia by 2027-04-04
}

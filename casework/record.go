package casework

import (
	"strconv"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/stix"
)

// ViolationWorkflow is the workflow name of the ledger transitions that
// record a breach of the agreement detected elsewhere (federation: an
// object received outside the rules, a broken condition). Such a
// transition has Case set to the offending object's id, To "detected",
// and the attributes "party" (the party in breach), "rule" (what was
// broken) and "at" (when, a STIX timestamp). Compile counts them.
const ViolationWorkflow = "agreement-violation"

// Opened is the ledger transition that records a new case (a draft):
// From is empty. self is the party whose ledger records it.
func Opened(c Case, self string) ledger.Transition {
	return ledger.Transition{Workflow: c.Type.String(), Case: c.ID, To: c.State.String(), Party: c.other(self),
		Attrs: map[string]string{"event": "open", "actor": c.Actor, "initiator": c.From, "recipient": c.To,
			"at": stix.FormatTime(c.Modified)}}
}

// Record is the ledger transition of a step from before to after by event
// e, as party self's ledger records it. Both parties' ledgers record the
// same attributes, so that the compliance record can match them; only
// Party, the counterparty, differs.
//
// The attributes: event, actor, initiator, recipient and at (the step's
// time, the version's modified); ack and answer ("1") when the step is the
// first acknowledgement or substantive answer; on sending, ack_due and
// answer_due, the deadlines the agreement gives, and for an incident
// notification severity and ci ("1" when it affects declared critical
// infrastructure); ground for a refusal; until for a preservation; level
// for an escalation; partial ("1").
func Record(before, after Case, e Event, a *agreement.Agreement, self string) ledger.Transition {
	attrs := map[string]string{
		"event": e.Kind.String(), "actor": after.Actor, "initiator": after.From, "recipient": after.To,
		"at": stix.FormatTime(after.Modified),
	}
	if before.Acknowledged.IsZero() && !after.Acknowledged.IsZero() {
		attrs["ack"] = "1"
	}
	if before.Answered.IsZero() && !after.Answered.IsZero() {
		attrs["answer"] = "1"
	}
	if e.Kind == EventSend {
		for _, d := range Deadlines(after, a) {
			switch d.Kind {
			case DutyAcknowledge:
				attrs["ack_due"] = stix.FormatTime(d.Due)
			case DutyAnswer:
				attrs["answer_due"] = stix.FormatTime(d.Due)
			}
		}
		if after.Incident != nil {
			attrs["severity"] = after.Incident.Severity
			if after.Incident.AffectsDeclaredCI {
				attrs["ci"] = "1"
			}
		}
	}
	if after.Ground != "" && before.Ground == "" {
		attrs["ground"] = after.Ground
	}
	if (e.Kind == EventPreserve || e.Kind == EventExtend) && !after.Until.IsZero() {
		attrs["until"] = stix.FormatTime(after.Until)
	}
	if e.Kind == EventEscalate && after.Level > 0 && after.Level <= len(a.Escalation) {
		attrs["level"] = a.Escalation[after.Level-1].Level
		attrs["escalated"] = strconv.Itoa(after.Level)
	}
	if after.Partial && !before.Partial {
		attrs["partial"] = "1"
	}
	return ledger.Transition{Workflow: after.Type.String(), Case: after.ID, From: before.State.String(),
		To: after.State.String(), Party: after.other(self), Attrs: attrs}
}

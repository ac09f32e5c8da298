package web

import (
	"github.com/entente/entente/agreement"
	"github.com/entente/entente/casework"
)

// How the console names parties and duties. Every page names them through
// these, so that a case reads the same on the overview, in the cases list
// and on its own page, and a party the same everywhere.

// partyName is a party as the console names it: its name in the agreement
// with its id, "Federation of Borealis (borealis)", or the id alone when
// the agreement (or a name in it) is missing.
func partyName(a *agreement.Agreement, id string) string {
	if a == nil {
		return id
	}
	if p, ok := a.Party(id); ok && p.Name != "" {
		return p.Name + " (" + id + ")"
	}
	return id
}

// owed says what a duty asks and who owes it: "acknowledgement of receipt
// owed by us".
func owed(u *Session, a *agreement.Agreement, d casework.Duty, self string) string {
	var who string
	switch d.Owner {
	case "":
		who = u.T("both parties")
	case self:
		who = u.T("us")
	default:
		who = partyName(a, d.Owner)
	}
	return u.T("%s owed by %s", dutyWords(u, d.Kind), who)
}

// dutyWords names what a duty asks for.
func dutyWords(u *Session, k casework.DutyKind) string {
	switch k {
	case casework.DutyAcknowledge:
		return u.T("acknowledgement of receipt")
	case casework.DutyAnswer:
		return u.T("substantive answer")
	case casework.DutyApproveMinutes:
		return u.T("approval of the minutes")
	case casework.DutyActionItem:
		return u.T("an action item")
	case casework.DutyReconfirm:
		return u.T("re-confirmation of the declaration")
	case casework.DutyPreservation:
		return u.T("the legal assistance request or an extension, before the preserved data expire")
	case casework.DutyMeeting:
		return u.T("the meeting")
	}
	return k.String()
}

package casework

import "github.com/entente/entente/agreement"

// Type is a case type: one treaty workflow.
type Type uint8

// The case types. The numbers are internal; names are what travel.
const (
	TypeIncident     Type = iota + 1 // incident notification (§5.3)
	TypeAssistance                   // request for assistance, norm 13(h) (§5.4)
	TypePreservation                 // expedited preservation, Budapest art. 29 (§5.5)
	TypeConsultation                 // consultation, scheduled or ad hoc (§5.10)
	TypeReachability                 // contact-point reachability test (§5.2)
	TypeDeclaration                  // protected critical-infrastructure declaration (§5.12)
	numTypes
)

// Types lists every case type in a stable order.
var Types = []Type{TypeIncident, TypeAssistance, TypePreservation, TypeConsultation, TypeReachability, TypeDeclaration}

type typeInfo struct {
	name      string // the workflow's name, as in the agreement and the ledger
	extension string // id of the extension definition that defines the SDO
	title     string
}

var typeInfos = [numTypes]typeInfo{
	TypeIncident:     {"incident-notification", "extension-definition--26e47bee-44ff-4636-9d45-700f966afd9d", "Incident notification"},
	TypeAssistance:   {"assistance-request", "extension-definition--25ae734e-ae30-447e-b512-6580c7b5bf54", "Request for assistance"},
	TypePreservation: {"preservation-request", "extension-definition--47e01126-d1a7-4495-af9c-bc8d659783e8", "Expedited preservation request"},
	TypeConsultation: {"consultation", "extension-definition--9981b3db-6ce1-4a8f-acc3-33cfdd6519e1", "Consultation"},
	TypeReachability: {"reachability-test", "extension-definition--2a084fd8-aefc-4a5b-9278-f26caf70d1f1", "Contact-point reachability test"},
	TypeDeclaration:  {"ci-declaration", "extension-definition--677c19de-e356-430b-baf0-ab81d05586d8", "Protected critical-infrastructure declaration"},
}

// String returns the type's workflow name ("incident-notification").
func (t Type) String() string {
	if t.valid() {
		return typeInfos[t].name
	}
	return "unknown-type"
}

func (t Type) valid() bool { return t > 0 && t < numTypes }

// STIXType is the STIX type of the SDO that holds cases of this type.
func (t Type) STIXType() string { return "entente-" + t.String() }

// ParseType returns the type with the given workflow name. There is no type
// for anything outside the list: an unknown name is refused, never mapped.
func ParseType(name string) (Type, bool) {
	for _, t := range Types {
		if typeInfos[t].name == name {
			return t, true
		}
	}
	return 0, false
}

// State is where a case stands in its workflow.
type State uint8

// The states of all workflows; each machine uses some of them.
const (
	StateDraft State = iota + 1
	StateSent
	StateSubmitted
	StateAcknowledged
	StateFinal
	StateClosed
	StateInProgress
	StateCompleted
	StateDeclined
	StateWithdrawn
	StateNoticeGiven
	StatePreserved
	StateHeldForMLA
	StateRefused
	StateReleased
	StateExpired
	StateRequested
	StateProposed
	StateScheduled
	StateMet
	StateApproved
	StateMissed
	StateDeclared
	numStates
)

var stateNames = [numStates]string{
	StateDraft: "draft", StateSent: "sent", StateSubmitted: "submitted", StateAcknowledged: "acknowledged",
	StateFinal: "final", StateClosed: "closed", StateInProgress: "in-progress", StateCompleted: "completed",
	StateDeclined: "declined", StateWithdrawn: "withdrawn", StateNoticeGiven: "notice-given",
	StatePreserved: "preserved", StateHeldForMLA: "held-for-mla", StateRefused: "refused",
	StateReleased: "released", StateExpired: "expired", StateRequested: "requested", StateProposed: "proposed",
	StateScheduled: "scheduled", StateMet: "met", StateApproved: "minutes-approved", StateMissed: "missed",
	StateDeclared: "declared",
}

func (s State) String() string {
	if s > 0 && s < numStates {
		return stateNames[s]
	}
	return "unknown-state"
}

// ParseState returns the state with the given name.
func ParseState(name string) (State, bool) {
	for s := State(1); s < numStates; s++ {
		if stateNames[s] == name {
			return s, true
		}
	}
	return 0, false
}

// EventKind is what a party does to a case.
type EventKind uint8

// The events of all workflows.
const (
	EventSend           EventKind = iota + 1 // the initiator sends the case (notify, submit, request, ping, declare)
	EventAcknowledge                         // the recipient acknowledges receipt (a declaration: with the pledge)
	EventNotify                              // incident: the early warning is followed by the notification
	EventUpdate                              // incident: an intermediate report
	EventReply                               // incident: the recipient answers the requested actions
	EventFinalize                            // incident: the final report
	EventClose                               // the case ends
	EventAccept                              // assistance: can assist; consultation: the proposed time is accepted
	EventDecline                             // assistance, consultation: refused, on a ground the agreement lists
	EventComplete                            // assistance: the assistance is given
	EventFeedback                            // assistance: the requester's feedback closes the case
	EventWithdraw                            // the initiator withdraws the case
	EventNotice                              // preservation: the art. 29(6) notice
	EventProceed                             // preservation: the requester proceeds after the notice
	EventPreserve                            // preservation: the data is preserved
	EventRefuse                              // preservation: refused, on a ground the agreement lists
	EventExtend                              // preservation: the period is extended
	EventLinkMLA                             // preservation: the mutual legal assistance request has been sent
	EventRelease                             // preservation: the data is released from preservation
	EventExpire                              // preservation: the period has run out
	EventPropose                             // consultation: another time is proposed
	EventHold                                // consultation: the meeting took place; its minutes are recorded
	EventApprove                             // consultation: one side approves the minutes
	EventAddAction                           // consultation: an action item is agreed
	EventCompleteAction                      // consultation: its owner completes an action item
	EventMiss                                // reachability: the ping went unanswered past its deadline
	EventReconfirm                           // declaration: the declaring party re-confirms it
	EventEscalate                            // a breached deadline climbs the agreement's escalation ladder
	numEvents
)

var eventNames = [numEvents]string{
	EventSend: "send", EventAcknowledge: "acknowledge", EventNotify: "notify", EventUpdate: "update",
	EventReply: "reply", EventFinalize: "finalize", EventClose: "close", EventAccept: "accept",
	EventDecline: "decline", EventComplete: "complete", EventFeedback: "feedback", EventWithdraw: "withdraw",
	EventNotice: "notice", EventProceed: "proceed", EventPreserve: "preserve", EventRefuse: "refuse",
	EventExtend: "extend", EventLinkMLA: "link-mla", EventRelease: "release", EventExpire: "expire",
	EventPropose: "propose", EventHold: "hold", EventApprove: "approve", EventAddAction: "add-action",
	EventCompleteAction: "complete-action", EventMiss: "miss", EventReconfirm: "reconfirm", EventEscalate: "escalate",
}

func (e EventKind) String() string {
	if e > 0 && e < numEvents {
		return eventNames[e]
	}
	return "unknown-event"
}

// ParseEvent returns the event kind with the given name.
func ParseEvent(name string) (EventKind, bool) {
	for e := EventKind(1); e < numEvents; e++ {
		if eventNames[e] == name {
			return e, true
		}
	}
	return 0, false
}

// Events lists every event kind in order.
func Events() []EventKind {
	es := make([]EventKind, 0, numEvents-1)
	for e := EventKind(1); e < numEvents; e++ {
		es = append(es, e)
	}
	return es
}

// Role says who may take a step.
type Role uint8

const (
	Initiator Role = iota + 1 // the party that opened the case
	Recipient                 // the party it was sent to
	Either                    // either party
	Counter                   // consultation: the party that did not make the standing proposal
	Owner                     // consultation: the owner of the action item
	Owed                      // escalation: the party a breached deadline is owed to
)

var roleNames = [...]string{Initiator: "initiator", Recipient: "recipient", Either: "either party",
	Counter: "the party that did not propose", Owner: "the action item's owner", Owed: "the party owed the overdue step"}

func (r Role) String() string {
	if int(r) < len(roleNames) && r > 0 {
		return roleNames[r]
	}
	return "nobody"
}

// Escalation levels as the agreement names them.
var escalationLevels = agreement.EscalationLevels

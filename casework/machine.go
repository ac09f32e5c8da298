package casework

import "strings"

// Arc is one allowed step of a workflow: in state From, event Event by By
// leads to To, or to Or when the step completes what the state waits for
// (the second approval of a consultation's minutes).
type Arc struct {
	From  State
	Event EventKind
	By    Role
	To    State
	Or    State
}

// Machine is one workflow's state machine, as data: its states, its events,
// and the arcs between them. Step consults nothing else to know whether an
// event may happen in a state; the rules it checks besides (refusal grounds,
// times, fields) are listed in doc/casework.md.
type Machine struct {
	Type   Type
	States []State // the first is where a case starts
	Events []EventKind
	Arcs   []Arc
}

// Terminal reports whether no event leaves s.
func (m *Machine) Terminal(s State) bool {
	for _, a := range m.Arcs {
		if a.From == s {
			return false
		}
	}
	return true
}

// arcs expands "from any of these states" into one arc each.
func arcs(from []State, ev EventKind, by Role, to State) []Arc {
	as := make([]Arc, len(from))
	for i, f := range from {
		as[i] = Arc{From: f, Event: ev, By: by, To: to}
		if to == 0 {
			as[i].To = f // a step that keeps the state
		}
	}
	return as
}

func s(states ...State) []State { return states }

func orElse(as []Arc, or State) []Arc {
	for i := range as {
		as[i].Or = or
	}
	return as
}

func join(groups ...[]Arc) []Arc {
	var out []Arc
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// same marks an arc that keeps the state.
const same State = 0

var machines = [numTypes]Machine{
	TypeIncident: {
		Type:   TypeIncident,
		States: s(StateDraft, StateSent, StateAcknowledged, StateFinal, StateClosed, StateWithdrawn),
		Events: []EventKind{EventSend, EventAcknowledge, EventNotify, EventUpdate, EventReply, EventFinalize, EventClose, EventWithdraw, EventEscalate},
		Arcs: join(
			arcs(s(StateDraft), EventSend, Initiator, StateSent),
			arcs(s(StateSent), EventAcknowledge, Recipient, StateAcknowledged),
			arcs(s(StateSent, StateAcknowledged), EventNotify, Initiator, same),
			arcs(s(StateSent, StateAcknowledged), EventUpdate, Initiator, same),
			arcs(s(StateSent), EventReply, Recipient, StateAcknowledged),
			arcs(s(StateAcknowledged, StateFinal), EventReply, Recipient, same),
			arcs(s(StateSent, StateAcknowledged), EventFinalize, Initiator, StateFinal),
			arcs(s(StateFinal), EventClose, Either, StateClosed),
			arcs(s(StateDraft, StateSent, StateAcknowledged), EventWithdraw, Initiator, StateWithdrawn),
			arcs(s(StateSent, StateAcknowledged, StateFinal), EventEscalate, Owed, same),
		),
	},
	TypeAssistance: {
		Type:   TypeAssistance,
		States: s(StateDraft, StateSubmitted, StateAcknowledged, StateInProgress, StateCompleted, StateDeclined, StateClosed, StateWithdrawn),
		Events: []EventKind{EventSend, EventAcknowledge, EventAccept, EventDecline, EventComplete, EventFeedback, EventWithdraw, EventEscalate},
		Arcs: join(
			arcs(s(StateDraft), EventSend, Initiator, StateSubmitted),
			arcs(s(StateSubmitted), EventAcknowledge, Recipient, StateAcknowledged),
			arcs(s(StateSubmitted, StateAcknowledged), EventAccept, Recipient, StateInProgress),
			arcs(s(StateSubmitted, StateAcknowledged), EventDecline, Recipient, StateDeclined),
			arcs(s(StateInProgress), EventComplete, Recipient, StateCompleted),
			arcs(s(StateCompleted, StateDeclined), EventFeedback, Initiator, StateClosed),
			arcs(s(StateDraft, StateSubmitted, StateAcknowledged, StateInProgress), EventWithdraw, Initiator, StateWithdrawn),
			arcs(s(StateSubmitted, StateAcknowledged), EventEscalate, Owed, same),
		),
	},
	TypePreservation: {
		Type: TypePreservation,
		States: s(StateDraft, StateSubmitted, StateAcknowledged, StateNoticeGiven, StatePreserved, StateHeldForMLA,
			StateRefused, StateReleased, StateExpired, StateWithdrawn),
		Events: []EventKind{EventSend, EventAcknowledge, EventNotice, EventProceed, EventPreserve, EventRefuse,
			EventExtend, EventLinkMLA, EventRelease, EventExpire, EventWithdraw, EventEscalate},
		Arcs: join(
			arcs(s(StateDraft), EventSend, Initiator, StateSubmitted),
			arcs(s(StateSubmitted), EventAcknowledge, Recipient, StateAcknowledged),
			arcs(s(StateSubmitted, StateAcknowledged), EventNotice, Recipient, StateNoticeGiven),
			arcs(s(StateNoticeGiven), EventProceed, Initiator, StateAcknowledged),
			arcs(s(StateSubmitted, StateAcknowledged), EventPreserve, Recipient, StatePreserved),
			arcs(s(StateSubmitted, StateAcknowledged, StateNoticeGiven), EventRefuse, Recipient, StateRefused),
			arcs(s(StatePreserved), EventExtend, Recipient, same),
			arcs(s(StatePreserved), EventLinkMLA, Initiator, StateHeldForMLA),
			arcs(s(StatePreserved, StateHeldForMLA), EventRelease, Recipient, StateReleased),
			arcs(s(StatePreserved), EventExpire, Recipient, StateExpired),
			arcs(s(StateDraft, StateSubmitted, StateAcknowledged, StateNoticeGiven, StatePreserved), EventWithdraw, Initiator, StateWithdrawn),
			arcs(s(StateSubmitted, StateAcknowledged), EventEscalate, Owed, same),
		),
	},
	TypeConsultation: {
		Type: TypeConsultation,
		States: s(StateDraft, StateRequested, StateProposed, StateScheduled, StateMet, StateApproved,
			StateClosed, StateDeclined, StateWithdrawn),
		Events: []EventKind{EventSend, EventAccept, EventPropose, EventDecline, EventHold, EventApprove,
			EventAddAction, EventCompleteAction, EventClose, EventWithdraw, EventEscalate},
		Arcs: join(
			arcs(s(StateDraft), EventSend, Initiator, StateRequested),
			arcs(s(StateRequested, StateProposed), EventAccept, Counter, StateScheduled),
			arcs(s(StateRequested, StateProposed), EventPropose, Counter, StateProposed),
			arcs(s(StateScheduled), EventPropose, Either, StateProposed),
			arcs(s(StateRequested, StateProposed), EventDecline, Counter, StateDeclined),
			arcs(s(StateScheduled), EventHold, Either, StateMet),
			orElse(arcs(s(StateMet), EventApprove, Either, same), StateApproved),
			arcs(s(StateApproved), EventAddAction, Either, same),
			arcs(s(StateApproved), EventCompleteAction, Owner, same),
			arcs(s(StateApproved), EventClose, Either, StateClosed),
			arcs(s(StateDraft, StateRequested, StateProposed, StateScheduled), EventWithdraw, Initiator, StateWithdrawn),
			arcs(s(StateRequested, StateProposed, StateMet), EventEscalate, Owed, same),
		),
	},
	TypeReachability: {
		Type:   TypeReachability,
		States: s(StateDraft, StateSent, StateAcknowledged, StateMissed),
		Events: []EventKind{EventSend, EventAcknowledge, EventMiss},
		Arcs: join(
			arcs(s(StateDraft), EventSend, Initiator, StateSent),
			arcs(s(StateSent), EventAcknowledge, Recipient, StateAcknowledged),
			arcs(s(StateSent), EventMiss, Initiator, StateMissed),
		),
	},
	TypeDeclaration: {
		Type:   TypeDeclaration,
		States: s(StateDraft, StateDeclared, StateAcknowledged, StateWithdrawn),
		Events: []EventKind{EventSend, EventAcknowledge, EventReconfirm, EventWithdraw, EventEscalate},
		Arcs: join(
			arcs(s(StateDraft), EventSend, Initiator, StateDeclared),
			arcs(s(StateDeclared), EventAcknowledge, Recipient, StateAcknowledged),
			arcs(s(StateDeclared, StateAcknowledged), EventReconfirm, Initiator, StateDeclared),
			arcs(s(StateDraft, StateDeclared, StateAcknowledged), EventWithdraw, Initiator, StateWithdrawn),
			arcs(s(StateDeclared), EventEscalate, Owed, same),
		),
	},
}

// Machines returns the state machines of every case type, in the order of
// Types. The result is shared: do not modify it.
func Machines() []*Machine {
	ms := make([]*Machine, 0, len(Types))
	for _, t := range Types {
		ms = append(ms, &machines[t])
	}
	return ms
}

// MachineOf returns the state machine of a case type.
func MachineOf(t Type) (*Machine, bool) {
	if !t.valid() {
		return nil, false
	}
	return &machines[t], true
}

// cell is what the table says about one (type, state, event): the arc, or
// the error that refuses it. The errors are built once, here, so that a
// refused step allocates nothing.
type cell struct {
	ok         bool
	to, or     State
	by         Role
	refused    *RuleError // the event is not allowed in this state
	wrongParty *RuleError // the actor does not have the role
}

var table = buildTable()

func buildTable() *[numTypes][numStates][numEvents]cell {
	var t [numTypes][numStates][numEvents]cell
	for _, ty := range Types {
		m := &machines[ty]
		for _, a := range m.Arcs {
			t[ty][a.From][a.Event] = cell{ok: true, to: a.To, or: a.Or, by: a.By, wrongParty: &RuleError{
				Rule: "role",
				Msg:  ty.String() + ": only " + a.By.String() + " may " + a.Event.String() + " in state " + a.From.String(),
			}}
		}
		for st := State(1); st < numStates; st++ {
			for ev := EventKind(1); ev < numEvents; ev++ {
				c := &t[ty][st][ev]
				if c.ok {
					continue
				}
				var allowed []string
				for _, a := range m.Arcs {
					if a.Event == ev {
						allowed = append(allowed, a.From.String())
					}
				}
				switch {
				case !contains(m.States, st):
					c.refused = &RuleError{Rule: "state", Msg: ty.String() + ": " + st.String() + " is not a state of this workflow"}
				case len(allowed) == 0:
					c.refused = &RuleError{Rule: "event", Msg: ty.String() + ": " + ev.String() + " is not a step of this workflow"}
				default:
					c.refused = &RuleError{Rule: "state", Msg: ty.String() + ": " + ev.String() + " is not allowed in state " +
						st.String() + " (only in " + strings.Join(allowed, ", ") + ")"}
				}
			}
		}
	}
	return &t
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Package casework runs the treaty workflows of an agreement: incident
// notifications, requests for assistance (GGE 2015 norm 13(h)), expedited
// preservation requests (Budapest Convention art. 29), consultations,
// contact-point reachability tests and protected critical-infrastructure
// declarations. The workflows and their sources are set out in
// doc/casework.md.
//
// Each case type is a state machine given as data ([Machines]); one pure
// function, [Step], decides every step of every case and says, when it
// refuses one, which rule forbids it. [Deadlines] and [Due] compute a
// case's clocks from the agreement (acknowledge, answer, preserve, and the
// escalation ladder) and the alarms a scheduler must fire, each exactly once
// ([Fired]). Cases are STIX 2.1 objects of types that [ExtensionDefinitions]
// define as new SDOs ([Encode], [Decode]); each step is a new version naming
// the party that acted, and a [ledger.Transition] ([Record]). [Compile]
// computes the compliance record of a period from both parties' ledgers.
//
// The content boundary: no case type, field or event can ask for content to
// be removed, for speech to be flagged or for the authors of speech to be
// identified. Types, request kinds, purposes, categories and requested
// actions are closed lists; free text is screened ([Screen]) and a case whose
// text reads as such a request is flagged for an operator.
//
// The package does no I/O: it never reads a clock (the caller passes now),
// never sends, and never stores.
package casework

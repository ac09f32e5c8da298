// Package pattern implements the STIX 2.1 patterning language: a lexer and
// parser for the whole grammar, the semantic checks the grammar cannot
// express, a canonical printer, and a reference evaluator.
//
// The language is specified in STIX Version 2.1, section 9
// (https://docs.oasis-open.org/cti/stix/v2.1/os/stix-v2.1-os.html#_e8slinrhxcc9),
// with the grammar in OASIS's STIXPattern.g4
// (https://github.com/oasis-open/cti-stix2-json-schemas/blob/master/pattern_grammar/STIXPattern.g4).
//
// Parse turns a pattern into a tree (see ast.go) or an *Error that names the
// byte position and what was expected there. Pattern.String prints the tree
// canonically. Pattern.Match decides whether a set of observations
// satisfies the pattern and returns the bindings; Pattern.MatchOne,
// ObservationSimple.Matches and EvalComparison are the cheaper pieces a
// detection engine can use on single observations.
//
// Where the spec leaves a choice, this package decides as follows.
//
//   - MATCHES takes a PCRE (section 9.6.1) and is an unanchored search in
//     DOTALL mode on NFC-normalized text. Expressions Go's RE2 engine
//     accepts run on it, in time linear in their input. Those using PCRE
//     features RE2 lacks (backreferences, lookahead and lookbehind, atomic
//     groups, possessive quantifiers, \G, \Z, named backreferences) run on
//     regexp2, a backtracking engine, in its RE2-compatible mode, each match
//     bounded by PCREBudget (running out of it is no match) and each
//     pattern holding at most MaxBacktracking of them. Parse refuses, by
//     name, the constructs not supported here: recursion and subroutine
//     calls, conditionals, branch reset groups, backtracking verbs, \K, \X.
//   - MATCHES on a binary property (*_bin, *_hex) runs on the octets read as
//     Latin-1 code points, so that \xd4 in the expression matches the octet
//     0xd4 (see Latin1).
//   - An observation's instant is unknown within [first_observed,
//     last_observed]; FOLLOWEDBY, WITHIN and START/STOP hold when some choice
//     of instants satisfies them (as OASIS's matcher does).
//   - A *_ref or *_refs path step resolves only to an SCO the observed-data
//     holds (listed in object_refs, or in the deprecated objects
//     dictionary); a reference to any other object, even one in the same
//     bundle, does not resolve (section 9.7.4).
//   - A string property compared with a binary (b'…') or hex (h'…')
//     constant compares as its UTF-8 octets, the octets the text is made of
//     on the wire. (OASIS's matcher reads each code point below 256 as one
//     octet instead; the two agree on ASCII.) A string constant compared
//     with a *_bin or *_hex property is read the other way round, one
//     octet per code point, as MATCHES reads octets (see Latin1).
//   - The value of an ipv4-addr, ipv6-addr, domain-name or url object
//     compares as its protocol compares it: IPv6 in any textual form,
//     names in any ASCII letter case and with or without the final dot,
//     URL schemes and hosts likewise (see Canonical). Constants and LIKE
//     operands are read the same way; MATCHES sees the canonical value.
//   - NOT negates the operator's result, but a path that does not resolve
//     keeps the comparison false; only NOT EXISTS is true on a missing path.
//   - Match bounds its search (MaxBindings, MaxSteps) and says so in
//     Result.Truncated when a limit cut it short.
//
// The package imports only the standard library, golang.org/x/text and
// github.com/dlclark/regexp2.
package pattern

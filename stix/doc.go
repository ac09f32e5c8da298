// Package stix reads, checks and writes STIX 2.1 objects, as OASIS defines
// them in "STIX Version 2.1" (OASIS Standard, 10 June 2021, with Errata 01):
// https://docs.oasis-open.org/cti/stix/v2.1/stix-v2.1.html
//
// An [Object] keeps the JSON it was parsed from, so custom and unknown
// properties, and the order of keys, survive a round trip. [Validate] checks
// one object against the rules of the specification that can be checked on
// the object alone: the common properties of its category, the required
// properties and value rules of each of the 2.1 types, deterministic
// identifiers of cyber-observables ([SCOID]), data markings and extensions.
// Its error lists every violation, each naming the property path and the
// rule broken. [Check] also returns warnings, in the same shape, for what
// departs from the specification's recommendations (SHOULD) without
// breaking a requirement (MUST).
//
// [Canonical] produces the RFC 8785 (JSON Canonicalization Scheme) form that
// content hashes and signatures are computed over. [ParseBundle] reads STIX
// bundles. The Traffic Light Protocol markings, TLP 1.0 from the
// specification (§7.2.1.4) and the TLP 2.0 marking definitions that OASIS
// publishes in cti-stix-common-objects, are in [TLPMarkingDefinitions].
//
// Indicator patterns are parsed by package stix/pattern.
package stix

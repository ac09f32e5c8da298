// Package match checks an agency's own logs against shared STIX 2.1
// indicators at line rate.
//
// A [Compile] step turns a set of indicators (STIX patterns, section 9 of
// STIX 2.1, with valid_from, valid_until and revoked) into an immutable
// [Index]: exact-value hash sets for = and IN, CIDR tables
// (github.com/gaissmai/bart) for ISSUBSET, anchored LIKE rewritten into
// exact, prefix and suffix lookups, a hash-anchored substring prefilter for
// the remaining LIKE and MATCHES, and the reference evaluator of
// stix/pattern for whatever is left, run only on candidates (their
// patterns are kept as source and parsed on first use). Patterns that
// span several observations (AND, OR, FOLLOWEDBY and their qualifiers) run
// in a [Window] engine with bounded state.
//
// Log formats ([EVE] for Suricata, [Zeek] as JSON or in its tab-separated
// form, and [JSON] lines through a [Mapping]) scan only the fields the
// index needs, as each log type means them, and produce [Record]
// values: flat lists of observed STIX cyber-observable properties. A
// [Stream] cuts any io.Reader into lines in bounded memory, parses and
// scans them on every core, and reports hits and malformed lines in input
// order. A [Matcher] holds the current index, which a reload swaps
// atomically, and an [Aggregator] folds the hits into STIX 2.1 sighting
// objects (section 5.2) with their observed-data evidence. A [Pipeline]
// puts these together (readers, engine, sightings) behind a few hooks, for
// entente match and for the node alike.
//
// Addresses, domain names and URL hosts are looked up in the canonical form
// of pattern.Canonical, on both sides: indicators are filed in it and log
// values converted to it, so that a log's zero-padded IPv6 address or
// upper-case name meets an indicator's short, lower-case one.
//
// The compiled engine agrees with the reference evaluator on every record;
// the differential tests check it. Indicators match only at times within
// [valid_from, valid_until), rounded inwards to whole seconds, and revoked
// ones never do.
//
// The package does no I/O of its own beyond the io.Reader it is given.
//
// Specifications: STIX 2.1 (https://docs.oasis-open.org/cti/stix/v2.1/stix-v2.1.html),
// Suricata EVE JSON (https://docs.suricata.io/en/latest/output/eve/eve-json-format.html),
// Zeek logs (https://docs.zeek.org/en/master/logs/index.html).
package match

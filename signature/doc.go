// Package signature checks detection rules written in the languages that
// intrusion-detection tools read, so that an indicator whose pattern_type is
// suricata, snort, sigma or yara (STIX 2.1 §10.14, pattern-type-ov) carries
// a rule those tools will load.
//
// Each language has a parser of its own grammar, written from its
// specification: [ParseSuricata] and [ParseSnort] read the rule header and
// option list of the Suricata and Snort rule languages, with their quoting
// and escaping; [ParseSigma] reads a Sigma rule's YAML against the Sigma
// specification's schema and parses its condition; [ParseYARA] parses YARA's
// grammar (imports, rules, meta, strings with their modifiers, hex strings,
// regular expressions and conditions) and checks that every string a
// condition names is defined and every defined one used. [Check] picks the
// parser by pattern_type. A broken rule is an [*Error] that gives the
// language, the line and the column.
//
// The parsers are pure and bounded: they do no I/O and allocate in
// proportion to their input.
//
// Specifications: Suricata rules (https://docs.suricata.io/en/latest/rules/intro.html),
// Snort 2 rules (https://www.snort.org/documents), Sigma
// (https://github.com/SigmaHQ/sigma-specification), YARA
// (https://yara.readthedocs.io/en/stable/writingrules.html).
package signature

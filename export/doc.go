// Package export writes shared indicators in the formats that network
// sensors and detection tools load: Suricata rules, the hash lists those
// rules read, the Zeek Intel framework's input file, and Sigma and YARA rule
// sets.
//
// A [Writer] takes indicators one at a time, in the order the store holds
// them, and streams the format out. What a STIX pattern says is expressed
// where the target can say exactly the same thing, and nowhere else:
//
//   - Suricata: addresses and networks (ipv4-addr, ipv6-addr, and
//     network-traffic's src_ref and dst_ref, which keep their direction) as
//     IP rules; domain names as three rules, on dns.query, tls.sni and
//     http.host; http URLs on http.host and http.uri.raw; file hashes
//     (MD5, SHA-1, SHA-256) through filemd5, filesha1 and filesha256 rules
//     that read the lists of the suricata-datasets format. Each indicator
//     gets a stable block of sids, derived from its id; its STIX id is in
//     every rule's metadata. Native Suricata rules (pattern_type suricata)
//     pass through unchanged, and Snort rules where Suricata reads them.
//     Every generated rule is parsed with [signature.ParseSuricata].
//   - Zeek Intel: one line per value with its Intel:: type (ADDR, SUBNET,
//     DOMAIN, URL, EMAIL, FILE_HASH, FILE_NAME, USER_NAME).
//   - Sigma and YARA: the rules of indicators in those languages, as one
//     multi-document YAML stream and one YARA source.
//
// Indicators that are revoked, whose valid_until has passed or whose
// valid_from is still to come are left out and counted; [Report.Until]
// says when the clock alone next changes what is exported. An indicator that cannot be expressed in the format (a
// pattern joining observations with AND or FOLLOWEDBY, a qualifier, an
// operator other than =, IN or ISSUBSET, a property the format has no
// place for) is listed in the [Report] with the reason, never dropped
// silently.
//
// The package does no I/O beyond the io.Writer it is given.
//
// References: Suricata rules (https://docs.suricata.io/en/latest/rules/),
// Zeek's Intel framework (https://docs.zeek.org/en/master/frameworks/intel.html).
package export

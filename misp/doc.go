// Package misp maps between MISP events and STIX 2.1 objects.
//
// MISP's data model is the MISP core format, an Internet-Draft of CIRCL
// (https://www.misp-project.org/datamodels/, draft-dulaunoy-misp-core-format);
// a MISP feed is a directory of event files named <uuid>.json beside a
// manifest.json and a hashes.csv. [DecodeEvent] reads one event, [DecodeManifest]
// a feed's manifest.
//
// [ToSTIX] maps an event to STIX 2.1 following the conventions of MISP's own
// converter, misp-stix: an event becomes a report, an attribute whose to_ids is
// set an indicator, any other attribute an observed-data with its
// cyber-observables, the galaxy clusters of known kinds their SDOs (attack
// pattern, malware, threat actor, ...), tags labels, and the MISP
// distribution levels and TLP tags a TLP 2.0 marking that is never more
// permissive than the source. Identifiers are UUIDv5 of the MISP uuids, so a
// re-import yields the same objects; the MISP uuids travel in x_misp_uuid.
// What cannot be mapped is returned as a [Skip] with the reason.
//
// [FromSTIX] maps STIX 2.1 objects back to MISP events: the objects that
// ToSTIX made come back as the event they came from, and indicators and
// observed data from elsewhere as attributes of the type their pattern or
// observables call for.
//
// The package is pure: it reads and writes no files and no network.
package misp

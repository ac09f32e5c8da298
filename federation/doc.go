// Package federation keeps a node in step with its partner nodes under an
// agreement: one Link per partner node pulls what the partner releases to
// this node, over TAXII 2.1 (https://docs.oasis-open.org/cti/taxii/v2.1/taxii-v2.1.html),
// and pushes urgent items (revocations) into the partner's inbox.
//
// A Link owns no storage and decides nothing about what it receives. It
// hands every page to a Sink, which the node implements: the Sink checks
// each object's origin signature and the sender's rule in the agreement,
// stores and ledgers what passes, and records an agreement violation for
// what does not. The Sink also keeps the Link's durable state: a cursor per
// (partner node, collection) and the Link's health.
//
// # Pulling
//
// Each collection the partner lets this node read is pulled with
// added_after set to the cursor, the X-TAXII-Date-Added-Last of the last page
// the Sink accepted, and then by the next token within the query. A TAXII
// server's date_added strictly increases within a collection, so resuming
// from the cursor after a restart neither misses nor repeats a version; the
// cursor is saved only after the Sink has stored the page, so a crash
// between the two repeats one page at most, which the store recognizes as
// duplicates. A page that starts at or before the cursor (a replayed old
// page) is refused as a protocol violation, since no honest server returns
// one. Every version of every object is asked for (match[version]=all).
//
// On errors a Link backs off exponentially with full jitter, honouring a
// partner's Retry-After, and a Link whose partner's log the node's witness
// has suspended (a fork or a rollback) stops and says why, until an
// operator resumes the log.
package federation

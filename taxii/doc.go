// Package taxii implements TAXII 2.1 (OASIS Standard, 10 June 2021,
// https://docs.oasis-open.org/cti/taxii/v2.1/taxii-v2.1.html): the resources,
// query filters and pagination, a Server over a small Backend interface that
// the node supplies, and a Client for partner nodes and tools.
//
// # Server
//
// NewServer returns an http.Handler for every TAXII endpoint. It answers
// every request, errors included, with Content-Type
// application/taxii+json;version=2.1 and every 4xx and 5xx with an error
// resource (§3.6.1); a malformed request gets a 4xx, never a 500. Where
// the standard leaves a choice, the Server decides as follows.
//
//   - Paths must end in "/" (TAXII 2.1 requires it of clients) and be
//     clean (no "." or ".." segments, no doubled slashes); others get a
//     404 that says so, whatever the method, not a redirect.
//   - A request without Accept, or whose Accept admits
//     application/taxii+json (with version=2.1 or none) directly or through
//     a wildcard, is served; any other gets 406. POST bodies must be
//     application/taxii+json, with version=2.1 or none; others get 415.
//   - Query parameters an endpoint does not define, and unknown match
//     fields, are ignored (§3.5); a defined parameter given twice, or with
//     a malformed value, is a 400 naming it.
//   - One answer is not the Server's: net/http reads request headers
//     before any Handler runs, and answers headers larger than the
//     http.Server's MaxHeaderBytes with its own 431, in plain text over
//     HTTP/1.1 (written to the connection, net/http's conn.serve) and in
//     HTML over HTTP/2 (http2handleHeaderListTooLong). Neither can be
//     replaced by a Handler or an option, so that 431 carries no TAXII
//     error resource. HTTP/2 clients learn the limit from
//     SETTINGS_MAX_HEADER_LIST_SIZE, and Go's refuses to send more.
//   - Every filter's cost is bounded whatever a client sends: a match
//     parameter takes at most MaxMatchValues values (more is a 400 that
//     says so); limit is clamped to Config.MaxPageSize; added_after is one
//     timestamp with at most six fractional digits and match[version]'s
//     timestamps at most nine; next is a token of fixed length. The query
//     string as a whole is bounded by the http.Server's MaxHeaderBytes.
//   - next tokens are opaque, HMAC-protected and bound to the endpoint,
//     collection, object, filters and caller (see Config.TokenKey). The
//     manifest and versions resources carry next as envelopes do: their
//     endpoints take a next parameter (§5.3, §5.8) though their resource
//     tables list no next property, and the OASIS reference server sends
//     it. Paging with added_after set to X-TAXII-Date-Added-Last works
//     everywhere as well (§3.4).
//   - An empty answer with nothing after it is {} for envelopes, manifests
//     and versions alike (more is then false). GET of an object or of its
//     versions answers 404 only when the collection holds no version of
//     the object; when the filters exclude every version, the answer is
//     {}, as a listing's would be.
//   - X-TAXII-Date-Added-First and -Last name the first and last item of
//     the answer, so an empty page, still a 200, has neither.
//   - A POST body that is not JSON, or whose envelope gives a name twice
//     (such as two "objects"), is a 400; JSON that is not an envelope of
//     objects (a bundle, a list, an empty list) is a 422.
//   - An envelope holds at most Config.MaxEnvelopeObjects objects
//     (DefaultMaxEnvelopeObjects, 10,000, unless configured); a larger one
//     is a 413, as a body over the API root's max_content_length is.
//     Clients split larger sets into several envelopes.
//   - Admission: at most Config.MaxInFlight requests, and envelopes of at
//     most Config.MaxInFlightBodyBytes together, are served at once
//     (DefaultMaxInFlight and DefaultMaxInFlightBodyBytes unless
//     configured); beyond either, the answer is 503 with Retry-After.
//   - Custom properties (§7.1): TAXII lets a server or client add
//     properties to any TAXII resource, named in ASCII lower-case letters,
//     digits and underscores, 3 to 250 characters (x_ recommended), and
//     lets a receiver that does not understand one ignore it or answer
//     422. Envelopes carry one: x_entente_provenance (ProvenanceProperty),
//     the objects' origin signatures, a list aligned with objects (null
//     for an object without one), sent only when some object has one, so
//     an envelope without signatures is exactly as before. The objects'
//     own bytes never change. On POST the Server accepts it (a list of
//     the objects' length, of JSON objects or null; anything else is a
//     422) and hands it to a Backend that is a ProvenanceAdder; others
//     ignore it, as other custom properties of envelopes are ignored.
//   - DELETE without match[version] deletes every version of the object.
//   - The Backend decides every right, on every request, next tokens
//     included (see Backend); a collection a caller may neither read nor
//     write is a 404 everywhere, so that its existence is not revealed.
package taxii

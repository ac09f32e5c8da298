package taxii

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ClientOptions configures a Client. The zero value is usable against a
// server that needs no credentials.
type ClientOptions struct {
	// User and Token are the credentials: HTTP Basic with User as the user
	// name and Token as the password, or, when User is empty, Token as a
	// bearer token. Both empty: no Authorization header.
	User  string
	Token string

	// HTTPClient sends the requests. Default: one with a 60 s timeout
	// whose transport uses TLSConfig.
	HTTPClient *http.Client

	// TLSConfig is used when HTTPClient is nil, for instance to trust a
	// partner node's self-signed certificate. Default: the system roots.
	TLSConfig *tls.Config

	// UserAgent is sent with every request, as TAXII 2.1 asks.
	// Default "entente-taxii".
	UserAgent string

	// MaxResponseBytes caps the body of one response, so that a faulty or
	// hostile server cannot exhaust memory. Default 256 MiB.
	MaxResponseBytes int64
}

// Client talks to a TAXII 2.1 server. Its methods take an API root as
// given in the discovery resource: an absolute URL, a path ("/api1/"), or a
// bare name ("api1"), the last two resolved against the base URL.
// A Client is safe for concurrent use.
type Client struct {
	base *url.URL
	hc   *http.Client
	opts ClientOptions
}

// ErrBadResponse means the server answered in a way TAXII 2.1 does not
// allow: a wrong Content-Type, an unexpected status, an unreadable body.
// Retrying will not help; report it to the server's operator.
var ErrBadResponse = errors.New("taxii: the server's response breaks TAXII 2.1")

// NewClient returns a Client for the TAXII server at baseURL, the URL the
// discovery path /taxii2/ is relative to (such as https://host:8443/).
func NewClient(baseURL string, opts ClientOptions) (*Client, error) {
	base, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("taxii: base URL: %w", err)
	}
	if base.Scheme != "https" && base.Scheme != "http" || base.Host == "" {
		return nil, fmt.Errorf("taxii: base URL %q must be absolute, such as https://host:8443/", baseURL)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	base.RawQuery, base.Fragment = "", ""
	hc := opts.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = opts.TLSConfig
		hc = &http.Client{Transport: tr, Timeout: 60 * time.Second}
	}
	opts.UserAgent = cmp.Or(opts.UserAgent, "entente-taxii")
	opts.MaxResponseBytes = cmp.Or(max(opts.MaxResponseBytes, 0), 256<<20)
	return &Client{base: base, hc: hc, opts: opts}, nil
}

// ResponseError is a TAXII server's error answer (TAXII 2.1 §3.6). errors.Is
// matches it against the sentinel of its status: ErrUnauthorized for 401,
// ErrNotFound for 404, ErrUnavailable for 503, and so on.
type ResponseError struct {
	StatusCode  int
	Title       string
	Description string
	// Resource is the error resource as sent; nil when the server sent
	// none.
	Resource *Error
	// RetryAfter is the wait a 503 (or 429) answer asked for; 0 if none.
	RetryAfter time.Duration
}

// Error returns the status and, when the server sent one, its
// description.
func (e *ResponseError) Error() string {
	if e.Description == "" {
		return fmt.Sprintf("taxii: server answered %d %s", e.StatusCode, e.Title)
	}
	return fmt.Sprintf("taxii: server answered %d %s: %s", e.StatusCode, e.Title, e.Description)
}

// Is reports whether target is the sentinel error of e's status.
func (e *ResponseError) Is(target error) bool {
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return target == ErrUnauthorized
	case http.StatusForbidden:
		return target == ErrForbidden
	case http.StatusNotFound:
		return target == ErrNotFound
	case http.StatusBadRequest:
		return target == ErrBadRequest
	case http.StatusUnprocessableEntity:
		return target == ErrUnprocessable
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		return target == ErrUnavailable
	}
	return false
}

// Query is a TAXII query (TAXII 2.1 §3.4–§3.5) as a client sends it. Each
// endpoint ignores what it does not define. A list's values are ORed.
type Query struct {
	AddedAfter time.Time // zero: none
	Limit      int       // 0: the server's default
	Next       string    // the next value of the previous page
	IDs        []string
	Types      []string
	// Versions holds "first", "last", "all" or STIX timestamps.
	Versions     []string
	SpecVersions []string
}

func (q *Query) values() url.Values {
	v := url.Values{}
	if !q.AddedAfter.IsZero() {
		v.Set("added_after", FormatTimestamp(q.AddedAfter))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Next != "" {
		v.Set("next", q.Next)
	}
	for _, m := range []struct {
		field  string
		values []string
	}{{"id", q.IDs}, {"type", q.Types}, {"version", q.Versions}, {"spec_version", q.SpecVersions}} {
		if len(m.values) > 0 {
			v.Set("match["+m.field+"]", strings.Join(m.values, ","))
		}
	}
	return v
}

// PageInfo is what a page's headers say: the date_added of its first and
// last items (X-TAXII-Date-Added-First and -Last), zero on an empty page.
type PageInfo struct {
	DateAddedFirst time.Time
	DateAddedLast  time.Time
}

// Discovery fetches the discovery resource (§4.1).
func (c *Client) Discovery(ctx context.Context) (*Discovery, error) {
	var d Discovery
	_, err := c.do(ctx, http.MethodGet, c.base.JoinPath("taxii2").String()+"/", nil, http.StatusOK, &d)
	return ret(&d, err)
}

// APIRoot fetches an API root's information (§4.2).
func (c *Client) APIRoot(ctx context.Context, root string) (*APIRoot, error) {
	var a APIRoot
	_, err := c.get(ctx, root, nil, &a)
	return ret(&a, err)
}

// Status fetches the status of an add request (§4.3).
func (c *Client) Status(ctx context.Context, root, id string) (*Status, error) {
	var s Status
	_, err := c.get(ctx, root, nil, &s, "status", id)
	return ret(&s, err)
}

// Collections lists an API root's collections (§5.1).
func (c *Client) Collections(ctx context.Context, root string) ([]Collection, error) {
	var cs Collections
	_, err := c.get(ctx, root, nil, &cs, "collections")
	return cs.Collections, err
}

// Collection fetches one collection (§5.2).
func (c *Client) Collection(ctx context.Context, root, id string) (*Collection, error) {
	var col Collection
	_, err := c.get(ctx, root, nil, &col, "collections", id)
	return ret(&col, err)
}

// Manifest fetches one page of a collection's manifest (§5.3).
func (c *Client) Manifest(ctx context.Context, root, collection string, q Query) (*Manifest, PageInfo, error) {
	var m Manifest
	info, err := c.get(ctx, root, q.values(), &m, "collections", collection, "manifest")
	return retPage(&m, info, err)
}

// Objects fetches one page of a collection's objects (§5.4). When the
// server sends provenance records beside the objects (ProvenanceProperty),
// the envelope's Provenance holds them, one per object, nil for an object
// without one.
func (c *Client) Objects(ctx context.Context, root, collection string, q Query) (*Envelope, PageInfo, error) {
	var e Envelope
	info, err := c.get(ctx, root, q.values(), &e, "collections", collection, "objects")
	if err == nil {
		err = alignProvenance(&e)
	}
	return retPage(&e, info, err)
}

// Object fetches one page of the versions of one object (§5.6), with
// their provenance records as Objects does.
func (c *Client) Object(ctx context.Context, root, collection, id string, q Query) (*Envelope, PageInfo, error) {
	var e Envelope
	info, err := c.get(ctx, root, q.values(), &e, "collections", collection, "objects", id)
	if err == nil {
		err = alignProvenance(&e)
	}
	return retPage(&e, info, err)
}

// alignProvenance checks that an envelope's provenance records, if it has
// any, are one per object, and makes a JSON null nil.
func alignProvenance(e *Envelope) error {
	if e.Provenance == nil {
		return nil
	}
	if len(e.Provenance) != len(e.Objects) {
		return fmt.Errorf("%w: the envelope has %d %s records for %d objects", ErrBadResponse, len(e.Provenance), ProvenanceProperty, len(e.Objects))
	}
	for i, p := range e.Provenance {
		switch t := bytes.TrimSpace(p); {
		case string(t) == "null":
			e.Provenance[i] = nil
		case len(t) == 0 || t[0] != '{':
			return fmt.Errorf("%w: %s[%d] is neither a provenance record (a JSON object) nor null", ErrBadResponse, ProvenanceProperty, i)
		}
	}
	return nil
}

// Versions fetches one page of the version list of one object (§5.8).
func (c *Client) Versions(ctx context.Context, root, collection, id string, q Query) (*Versions, PageInfo, error) {
	var v Versions
	info, err := c.get(ctx, root, q.values(), &v, "collections", collection, "objects", id, "versions")
	return retPage(&v, info, err)
}

// AddObjects posts objects in one envelope (§5.5) and returns the status
// the server reports; poll Status while it is "pending".
func (c *Client) AddObjects(ctx context.Context, root, collection string, objects []json.RawMessage) (*Status, error) {
	return c.AddEnvelope(ctx, root, collection, &Envelope{Objects: objects})
}

// AddEnvelope posts an envelope (§5.5): AddObjects, with the objects'
// provenance records beside them when e.Provenance holds any (one per
// object, nil for none; the property is left out when all are nil). A
// server that does not know the property may ignore it or refuse the
// envelope with 422 (TAXII 2.1 §7.1).
func (c *Client) AddEnvelope(ctx context.Context, root, collection string, e *Envelope) (*Status, error) {
	out := Envelope{Objects: e.Objects}
	if slices.ContainsFunc(e.Provenance, func(p json.RawMessage) bool { return len(p) > 0 }) {
		if len(e.Provenance) != len(e.Objects) {
			return nil, fmt.Errorf("taxii: %d provenance records for %d objects; give one per object, nil for none", len(e.Provenance), len(e.Objects))
		}
		out.Provenance = make([]json.RawMessage, len(e.Provenance))
		for i, p := range e.Provenance {
			if out.Provenance[i] = p; len(p) == 0 {
				out.Provenance[i] = json.RawMessage("null")
			}
		}
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("taxii: encoding the envelope: %w", err)
	}
	u, err := c.resolve(root, nil, "collections", collection, "objects")
	if err != nil {
		return nil, err
	}
	var s Status
	_, err = c.do(ctx, http.MethodPost, u, body, http.StatusAccepted, &s)
	return ret(&s, err)
}

// DeleteObject deletes an object (§5.7), or only the versions that
// q.Versions and q.SpecVersions select; the rest of q is ignored.
func (c *Client) DeleteObject(ctx context.Context, root, collection, id string, q Query) error {
	v := (&Query{Versions: q.Versions, SpecVersions: q.SpecVersions}).values()
	u, err := c.resolve(root, v, "collections", collection, "objects", id)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodDelete, u, nil, http.StatusOK, nil)
	return err
}

// AllObjects yields every object of a collection that q selects, page by
// page, following next (or, from servers that give none, added_after set
// to the previous page's X-TAXII-Date-Added-Last, as §3.4 allows). It stops
// at the first error, which it yields.
func (c *Client) AllObjects(ctx context.Context, root, collection string, q Query) iter.Seq2[json.RawMessage, error] {
	return paginate(q, func(q Query) ([]json.RawMessage, bool, string, PageInfo, error) {
		e, info, err := c.Objects(ctx, root, collection, q)
		if err != nil {
			return nil, false, "", info, err
		}
		return e.Objects, e.More, e.Next, info, nil
	})
}

// AllManifest yields every manifest record of a collection that q selects,
// as AllObjects does for objects.
func (c *Client) AllManifest(ctx context.Context, root, collection string, q Query) iter.Seq2[ManifestRecord, error] {
	return paginate(q, func(q Query) ([]ManifestRecord, bool, string, PageInfo, error) {
		m, info, err := c.Manifest(ctx, root, collection, q)
		if err != nil {
			return nil, false, "", info, err
		}
		return m.Objects, m.More, m.Next, info, nil
	})
}

// paginate turns page fetches into a sequence of items.
func paginate[T any](q Query, fetch func(Query) ([]T, bool, string, PageInfo, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		for {
			items, more, next, info, err := fetch(q)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if !more {
				return
			}
			switch {
			case next != "" && next != q.Next:
				q.Next = next
			case next == "" && !info.DateAddedLast.IsZero() && info.DateAddedLast.After(q.AddedAfter):
				q.Next, q.AddedAfter = "", info.DateAddedLast
			default:
				yield(zero, fmt.Errorf("%w: more is true, but the page gives no way to the next one (no new next value, no later X-TAXII-Date-Added-Last)", ErrBadResponse))
				return
			}
		}
	}
}

func ret[T any](v *T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

func retPage[T any](v *T, info PageInfo, err error) (*T, PageInfo, error) {
	if err != nil {
		return nil, PageInfo{}, err
	}
	return v, info, nil
}

// resolve builds the URL of a resource under an API root.
func (c *Client) resolve(root string, query url.Values, segments ...string) (string, error) {
	ref, err := url.Parse(root)
	if err != nil {
		return "", fmt.Errorf("taxii: API root %q: %w", root, err)
	}
	u := c.base.ResolveReference(ref)
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", fmt.Errorf("taxii: API root %q: want an https URL, a path or a name", root)
	}
	for _, s := range segments {
		// Ids come from servers and users; none may climb out of its place.
		if s == "" || s == "." || s == ".." || strings.Contains(s, "/") {
			return "", fmt.Errorf("taxii: %q cannot be an id in a TAXII path", s)
		}
	}
	u = u.JoinPath(segments...)
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawPath = ""
	u.RawQuery = query.Encode()
	return u.String(), nil
}

func (c *Client) get(ctx context.Context, root string, query url.Values, out any, segments ...string) (PageInfo, error) {
	u, err := c.resolve(root, query, segments...)
	if err != nil {
		return PageInfo{}, err
	}
	h, err := c.do(ctx, http.MethodGet, u, nil, http.StatusOK, out)
	if err != nil {
		return PageInfo{}, err
	}
	var info PageInfo
	for _, hd := range []struct {
		name string
		dst  *time.Time
	}{{"X-TAXII-Date-Added-First", &info.DateAddedFirst}, {"X-TAXII-Date-Added-Last", &info.DateAddedLast}} {
		if v := h.Get(hd.name); v != "" {
			if *hd.dst, err = parseTimestamp(v, 9); err != nil {
				return PageInfo{}, fmt.Errorf("%w: header %s: %q: %v", ErrBadResponse, hd.name, v, err)
			}
		}
	}
	return info, nil
}

// do sends one request and decodes the answer into out (nil: no body
// expected). Any status but want is an error.
func (c *Client) do(ctx context.Context, method, u string, body []byte, want int, out any) (http.Header, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("taxii: %w", err)
	}
	req.Header.Set("Accept", MediaType)
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if body != nil {
		req.Header.Set("Content-Type", MediaType)
	}
	switch {
	case c.opts.User != "":
		req.SetBasicAuth(c.opts.User, c.opts.Token)
	case c.opts.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.opts.Token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("taxii: %s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	limited := io.LimitReader(resp.Body, c.opts.MaxResponseBytes)
	isTAXII := isTAXIIContentType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != want {
		return nil, responseError(resp, limited, isTAXII, want)
	}
	if !isTAXII {
		return nil, fmt.Errorf("%w: %s %s: Content-Type is %q, want %s", ErrBadResponse, method, u, resp.Header.Get("Content-Type"), MediaType)
	}
	if out == nil {
		return resp.Header, nil
	}
	dec := json.NewDecoder(limited)
	if err := dec.Decode(out); err != nil {
		return nil, fmt.Errorf("%w: %s %s: decoding the body: %v", ErrBadResponse, method, u, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: %s %s: data after the JSON body (or more than %d bytes)", ErrBadResponse, method, u, c.opts.MaxResponseBytes)
	}
	return resp.Header, nil
}

func responseError(resp *http.Response, body io.Reader, isTAXII bool, want int) error {
	e := &ResponseError{StatusCode: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	if resp.StatusCode < 400 {
		return fmt.Errorf("%w: status %d, want %d", ErrBadResponse, resp.StatusCode, want)
	}
	var res Error
	if isTAXII && json.NewDecoder(body).Decode(&res) == nil && res.Title != "" {
		e.Resource = &res
		e.Title = res.Title
		e.Description = res.Description
	}
	return e
}

// isTAXIIContentType reports whether ct is the TAXII 2.1 media type, with
// its version parameter, as every TAXII 2.1 answer must carry.
func isTAXIIContentType(ct string) bool {
	typ, params, err := mime.ParseMediaType(ct)
	return err == nil && typ == "application/taxii+json" && params["version"] == "2.1"
}

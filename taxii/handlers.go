package taxii

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"

	"github.com/entente/entente/stix"
)

// defaultMaxContentLength caps POST bodies when a Backend reports no
// max_content_length, which TAXII 2.1 §4.2.1 requires to be positive.
const defaultMaxContentLength = 10 << 20

func (s *Server) discovery(w http.ResponseWriter, r *http.Request, c *Caller) error {
	d, err := s.backend.Discovery(r.Context(), c)
	if err = check(d, err, "Discovery"); err != nil {
		return err
	}
	out := *d
	out.Title = cmp.Or(s.cfg.Title, out.Title)
	out.Description = cmp.Or(s.cfg.Description, out.Description)
	out.Contact = cmp.Or(s.cfg.Contact, out.Contact)
	return writeJSON(w, http.StatusOK, &out)
}

func (s *Server) apiRoot(w http.ResponseWriter, r *http.Request, c *Caller) error {
	root, err := s.backend.APIRoot(r.Context(), c, r.PathValue("root"))
	if err = check(root, err, "APIRoot"); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, root)
}

func (s *Server) status(w http.ResponseWriter, r *http.Request, c *Caller) error {
	st, err := s.backend.Status(r.Context(), c, r.PathValue("root"), r.PathValue("id"))
	if err = check(st, err, "Status"); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func (s *Server) collections(w http.ResponseWriter, r *http.Request, c *Caller) error {
	cs, err := s.backend.Collections(r.Context(), c, r.PathValue("root"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, &Collections{Collections: cs})
}

func (s *Server) collection(w http.ResponseWriter, r *http.Request, c *Caller) error {
	col, err := s.backend.Collection(r.Context(), c, r.PathValue("root"), r.PathValue("id"))
	if err = check(col, err, "Collection"); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, col)
}

// check passes on a Backend method's error, and turns a nil result
// without one, which would otherwise be sent as null, into an internal
// error.
func check[T any](v *T, err error, method string) error {
	if err == nil && v == nil {
		return fmt.Errorf("taxii: Backend.%s returned neither a result nor an error", method)
	}
	return err
}

// objectID returns the request's object id, checked to be a STIX id.
func objectID(r *http.Request) (string, error) {
	id := r.PathValue("object")
	if !stix.ValidID(id) {
		return "", fmt.Errorf("%w: %q in the path is not a STIX id (want type--UUID, as in indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f)", ErrBadRequest, id)
	}
	return id, nil
}

// pageFilter parses the query of a paged request to endpoint e and checks
// its next token. object is the object id in the path, if any.
func (s *Server) pageFilter(r *http.Request, c *Caller, e endpoint, object string) (*Filter, *tokenScope, error) {
	values, err := parseValues(r)
	if err != nil {
		return nil, nil, err
	}
	q, err := parseQuery(e, values)
	if err != nil {
		return nil, nil, err
	}
	f := &q.Filter
	if object != "" {
		f.IDs = []string{object}
	}
	switch e.name {
	case manifestEndpoint.name:
		f.Manifest = true
	case versionsEndpoint.name:
		f.Manifest = true
		f.Versions = VersionMatch{All: true}
	}
	scope := &tokenScope{
		endpoint:   e,
		root:       r.PathValue("root"),
		collection: r.PathValue("id"),
		object:     object,
		caller:     c.Name,
		filter:     f,
	}
	if q.next != "" {
		if f.After, err = s.tokens.decode(q.next, scope); err != nil {
			return nil, nil, err
		}
	}
	f.Limit = min(cmp.Or(q.Limit, s.cfg.MaxPageSize), s.cfg.MaxPageSize)
	return f, scope, nil
}

// page runs a paged query for endpoint e, and returns the page with the
// next token that continues it ("" on the last page). It sets the
// X-TAXII-Date-Added headers.
func (s *Server) page(w http.ResponseWriter, r *http.Request, c *Caller, e endpoint, object string) (*Page, string, error) {
	f, scope, err := s.pageFilter(r, c, e, object)
	if err != nil {
		return nil, "", err
	}
	p, err := s.backend.Objects(r.Context(), c, scope.root, scope.collection, f)
	if err = check(p, err, "Objects"); err != nil {
		return nil, "", err
	}
	if len(p.Items) > f.Limit {
		return nil, "", fmt.Errorf("taxii: Backend.Objects returned %d items for a limit of %d", len(p.Items), f.Limit)
	}
	// An object that does not exist is a 404 (§5.6, §5.8); one whose
	// versions the filters all exclude is an empty answer, as in a
	// listing.
	if object != "" && len(p.Items) == 0 && f.After == 0 {
		if err := s.checkObject(r, c, scope, object); err != nil {
			return nil, "", err
		}
	}
	var next string
	if p.More {
		next = s.tokens.encode(p.Next, scope)
	}
	setDateAddedHeaders(w.Header(), p.Items)
	return p, next, nil
}

// checkObject returns ErrNotFound unless the collection holds a version
// of object that c may see.
func (s *Server) checkObject(r *http.Request, c *Caller, scope *tokenScope, object string) error {
	f := &Filter{IDs: []string{object}, Versions: VersionMatch{All: true}, Manifest: true, Limit: 1}
	p, err := s.backend.Objects(r.Context(), c, scope.root, scope.collection, f)
	if err = check(p, err, "Objects"); err != nil {
		return err
	}
	if len(p.Items) == 0 {
		return fmt.Errorf("%w: collection %s holds no object %s", ErrNotFound, scope.collection, object)
	}
	return nil
}

func (s *Server) manifest(w http.ResponseWriter, r *http.Request, c *Caller) error {
	p, next, err := s.page(w, r, c, manifestEndpoint, "")
	if err != nil {
		return err
	}
	return writeManifest(w, p, next)
}

func (s *Server) getObjects(w http.ResponseWriter, r *http.Request, c *Caller) error {
	p, next, err := s.page(w, r, c, objectsEndpoint, "")
	if err != nil {
		return err
	}
	return writeObjects(w, p, next)
}

func (s *Server) getObject(w http.ResponseWriter, r *http.Request, c *Caller) error {
	id, err := objectID(r)
	if err != nil {
		return err
	}
	p, next, err := s.page(w, r, c, objectEndpoint, id)
	if err != nil {
		return err
	}
	return writeObjects(w, p, next)
}

func writeObjects(w http.ResponseWriter, p *Page, next string) error {
	for _, it := range p.Items {
		if len(it.Object) == 0 {
			return fmt.Errorf("taxii: Backend.Objects returned %s version %s without its content", it.ID, it.Version)
		}
	}
	return writeEnvelope(w, p, next)
}

func (s *Server) versions(w http.ResponseWriter, r *http.Request, c *Caller) error {
	id, err := objectID(r)
	if err != nil {
		return err
	}
	p, next, err := s.page(w, r, c, versionsEndpoint, id)
	if err != nil {
		return err
	}
	return writeVersions(w, p, next)
}

func (s *Server) addObjects(w http.ResponseWriter, r *http.Request, c *Caller) error {
	root, collection := r.PathValue("root"), r.PathValue("id")
	// The Backend decides again in AddObjects; asking first refuses a
	// caller who may not write before its body is read.
	col, err := s.backend.Collection(r.Context(), c, root, collection)
	if err = check(col, err, "Collection"); err != nil {
		return err
	}
	if !col.CanWrite {
		return fmt.Errorf("%w: %s may not add objects to collection %s", ErrForbidden, c.Name, collection)
	}
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	ar, err := s.backend.APIRoot(r.Context(), c, root)
	if err = check(ar, err, "APIRoot"); err != nil {
		return err
	}
	limit := ar.MaxContentLength
	if limit <= 0 {
		limit = defaultMaxContentLength
	}
	if r.ContentLength > limit {
		return tooLarge(limit, &http.MaxBytesError{Limit: limit})
	}
	if s.bodies != nil {
		n := limit
		if r.ContentLength >= 0 {
			n = r.ContentLength
		}
		if !s.bodies.take(n) {
			return fmt.Errorf("%w: the server is at its limit of %d bytes of envelopes at once", ErrUnavailable, s.bodies.max)
		}
		defer s.bodies.give(n)
	}
	objects, provenance, err := decodeEnvelope(http.MaxBytesReader(w, r.Body, limit), r.ContentLength, s.cfg.MaxEnvelopeObjects)
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return tooLarge(limit, err)
		}
		return err
	}
	var st *Status
	if pa, ok := s.backend.(ProvenanceAdder); ok && provenance != nil {
		st, err = pa.AddObjectsWithProvenance(r.Context(), c, root, collection, objects, provenance)
	} else {
		st, err = s.backend.AddObjects(r.Context(), c, root, collection, objects)
	}
	if err = check(st, err, "AddObjects"); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, st)
}

func tooLarge(limit int64, err error) error {
	return fmt.Errorf("the body exceeds this API root's max_content_length of %d bytes; send fewer objects per envelope: %w", limit, err)
}

func (s *Server) deleteObject(w http.ResponseWriter, r *http.Request, c *Caller) error {
	id, err := objectID(r)
	if err != nil {
		return err
	}
	values, err := parseValues(r)
	if err != nil {
		return err
	}
	q, err := parseQuery(deleteEndpoint, values)
	if err != nil {
		return err
	}
	f := &q.Filter
	f.IDs = []string{id}
	// §5.7 deletes "an object"; match[version] narrows it to some
	// versions. Without it every version goes, so that, as §5.7 requires,
	// a later GET of the object answers 404.
	if f.Versions.isZero() {
		f.Versions.All = true
	}
	if err := s.backend.DeleteObject(r.Context(), c, r.PathValue("root"), r.PathValue("id"), id, f); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (m *VersionMatch) isZero() bool {
	return !m.All && !m.First && !m.Last && len(m.Exact) == 0
}

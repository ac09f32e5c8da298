package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/entente/entente/export"
	"github.com/entente/entente/node"
	"github.com/entente/entente/taxii"
)

// exportPrefix is where the node serves exports:
//
//	/export/{api-root}/{collection}/{format}
//	/export/{api-root}/{collection}/suricata-datasets/{md5|sha1|sha256}
//
// and, with /report appended to either, the report of what the export left
// out. A collection is named by id or alias.
const exportPrefix = "/export/"

// exportReader is what the export handler needs of the node: the TAXII
// read path, so that the caller's rights and the release policy decide
// what each caller's export holds, and the probe of what those reads
// depend on, which decides whether a cached export still holds.
type exportReader interface {
	Authenticate(ctx context.Context, user, token string) (*taxii.Caller, error)
	Objects(ctx context.Context, c *taxii.Caller, root, collection string, f *taxii.Filter) (*taxii.Page, error)
	ReadState(ctx context.Context, c *taxii.Caller, root, collection string) (node.ReadState, error)
}

// exportHandler serves exports over HTTPS, for sensors that fetch the
// latest with curl: authenticated as TAXII is (HTTP Basic with a token, or
// a bearer token), with a strong ETag over the body, so that a fetch with
// If-None-Match gets 304 Not Modified while nothing changed. Rendered
// exports are kept (exportCache), so that a fetch of an export that has
// not changed, answered with 200 or 304, costs a probe and not an export.
type exportHandler struct {
	node   exportReader
	logger *slog.Logger
	now    func() time.Time
	cache  *exportCache
	// spoolMax, when set, replaces exportSpoolLimit (tests).
	spoolMax int
}

func newExportHandler(n exportReader, logger *slog.Logger, now func() time.Time) *exportHandler {
	if now == nil {
		now = time.Now
	}
	return &exportHandler{node: n, logger: logger, now: now, cache: newExportCache(exportCacheEntries, exportCacheBytes)}
}

// Close drops the cached exports and removes their spool files.
func (h *exportHandler) Close() { h.cache.close() }

// withExports sends the requests under exportPrefix to h, and the others
// to next.
func withExports(h *exportHandler, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, exportPrefix) {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (h *exportHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpError(w, http.StatusMethodNotAllowed, "exports are read with GET")
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, exportPrefix), "/")
	wantReport := len(parts) > 0 && parts[len(parts)-1] == "report"
	if wantReport {
		parts = parts[:len(parts)-1]
	}
	var hash string
	if len(parts) == 4 && parts[2] == string(export.SuricataDatasets) {
		hash, parts = parts[3], parts[:3]
	}
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		httpError(w, http.StatusNotFound, "no such export; the paths are /export/{api-root}/{collection}/{format}, and /export/{api-root}/{collection}/suricata-datasets/{md5|sha1|sha256}")
		return
	}
	root, collection := parts[0], parts[1]
	format, err := export.ParseFormat(parts[2])
	if err == nil && (format == export.SuricataDatasets) != (hash != "") {
		err = errors.New("suricata-datasets is served per hash: append /md5, /sha1 or /sha256")
	}
	if err != nil {
		httpError(w, http.StatusNotFound, err.Error())
		return
	}
	caller, err := h.authenticate(r)
	if err != nil && !errors.Is(err, taxii.ErrUnauthorized) {
		h.logger.ErrorContext(r.Context(), "export: authenticating", slog.Any("err", err))
		httpError(w, http.StatusInternalServerError, "the node could not check the credentials; its log says why")
		return
	}
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="entente", charset="UTF-8"`)
		httpError(w, http.StatusUnauthorized, "send HTTP Basic credentials (user name and token) or a bearer token")
		return
	}
	// The probe authorizes as the export's reads do, so a caller that may
	// no longer read is refused here, cached export or not.
	state, err := h.node.ReadState(r.Context(), caller, root, collection)
	cacheable := err == nil && caller.Role != taxii.RolePartner
	if err != nil && !errors.Is(err, taxii.ErrNotFound) && !errors.Is(err, taxii.ErrForbidden) {
		// The export's own reads decide, uncached.
		h.logger.WarnContext(r.Context(), "export: probing the collection", slog.String("collection", collection), slog.Any("err", err))
		err = nil
	}
	if err == nil {
		key := exportKey{caller: *caller, root: root, collection: collection, format: format, hash: hash, report: wantReport}
		now := h.now()
		var e *cachedExport
		if cacheable {
			e = h.cache.get(key, state, now)
		}
		if e == nil {
			e, err = h.render(r.Context(), caller, key, state, now, cacheable)
		}
		if err == nil {
			defer h.cache.release(e)
			h.send(w, r, e)
			return
		}
	}
	switch {
	case errors.Is(err, taxii.ErrNotFound):
		httpError(w, http.StatusNotFound, "no such API root or collection, or not one this account may read")
	case errors.Is(err, taxii.ErrForbidden):
		httpError(w, http.StatusForbidden, "this account may not read the collection")
	default:
		h.logger.ErrorContext(r.Context(), "export failed", slog.String("collection", collection), slog.String("format", string(format)), slog.Any("err", err))
		httpError(w, http.StatusInternalServerError, "the export failed; the node's log says why")
	}
}

// render exports what the caller may read of the collection, with the
// report of what was left out, and returns the entry k asks for (the
// export or its report), held for the caller, who must release it. The
// state must have been probed before: the reads that follow return at
// least as much, so no entry is marked newer than what it holds. When
// cacheable, both the export and its report are kept.
func (h *exportHandler) render(ctx context.Context, caller *taxii.Caller, k exportKey, state node.ReadState, now time.Time, cacheable bool) (*cachedExport, error) {
	// The body is spooled, in memory while small and in a temporary file
	// beyond that, since its ETag, a hash of the body, goes before it.
	body := &spool{limit: h.spoolLimit()}
	sum := sha256.New()
	report, err := exportObjects(io.MultiWriter(body, sum), export.Config{Format: k.format, Now: now, Source: k.root + "/" + k.collection, Hash: k.hash},
		h.indicators(ctx, caller, k.root, k.collection))
	if err == nil {
		err = body.err
	}
	if err != nil {
		body.Close()
		return nil, err
	}
	contentType := "text/plain; charset=utf-8"
	if k.format == export.Sigma {
		contentType = "application/yaml"
	}
	exp := &cachedExport{key: k, state: state, until: report.Until, body: body, etag: etagOf(sum), contentType: contentType, notExported: len(report.Skipped)}
	exp.key.report = false
	rep := *exp
	rep.key.report, rep.contentType = true, "text/plain; charset=utf-8"
	rep.body, sum = &spool{limit: h.spoolLimit()}, sha256.New()
	report.WriteTo(io.MultiWriter(rep.body, sum))
	rep.etag = etagOf(sum)
	if err := rep.body.err; err != nil {
		exp.body.Close()
		rep.body.Close()
		return nil, err
	}
	want, other := exp, &rep
	if k.report {
		want, other = other, want
	}
	if !cacheable {
		other.body.Close()
		want.dropped = true // closed on release
		want.users = 1
		return want, nil
	}
	h.cache.put(other)
	h.cache.release(other)
	h.cache.put(want)
	return want, nil
}

func etagOf(sum hash.Hash) string { return `"` + hex.EncodeToString(sum.Sum(nil)[:16]) + `"` }

// send answers r with e: 304 if r's If-None-Match names its ETag, else the
// body (headers alone for HEAD).
func (h *exportHandler) send(w http.ResponseWriter, r *http.Request, e *cachedExport) {
	w.Header().Set("ETag", e.etag)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Entente-Not-Exported", fmt.Sprint(e.notExported))
	if noneMatch(r.Header.Get("If-None-Match"), e.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", e.contentType)
	w.Header().Set("Content-Length", fmt.Sprint(e.body.size))
	if r.Method == http.MethodHead {
		return
	}
	if err := e.body.copyTo(w); err != nil {
		h.logger.WarnContext(r.Context(), "export: sending the body", slog.String("collection", e.key.collection), slog.Any("err", err))
	}
}

// exportSpoolLimit is the most of an export body kept in memory; a larger
// one goes to a temporary file.
const exportSpoolLimit = 4 << 20

func (h *exportHandler) spoolLimit() int {
	if h.spoolMax > 0 {
		return h.spoolMax
	}
	return exportSpoolLimit
}

// A spool holds bytes in memory up to limit, and the rest in a temporary
// file, removed on Close. A write error is kept in err and reported by
// every later Write.
type spool struct {
	limit int
	mem   bytes.Buffer
	file  *os.File
	size  int64
	err   error
}

func (s *spool) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.file == nil && s.mem.Len()+len(p) > s.limit {
		if s.file, s.err = os.CreateTemp("", "entente-export-*"); s.err != nil {
			s.err = fmt.Errorf("spooling the export to a temporary file: %w", s.err)
			return 0, s.err
		}
		if _, s.err = s.file.Write(s.mem.Bytes()); s.err != nil {
			return 0, s.err
		}
		s.mem = bytes.Buffer{}
	}
	var n int
	if s.file != nil {
		n, s.err = s.file.Write(p)
	} else {
		n, _ = s.mem.Write(p)
	}
	s.size += int64(n)
	return n, s.err
}

// copyTo copies what was written to w. Once the writing is done, several
// goroutines may copy at once.
func (s *spool) copyTo(w io.Writer) error {
	if s.file == nil {
		_, err := w.Write(s.mem.Bytes())
		return err
	}
	_, err := io.Copy(w, io.NewSectionReader(s.file, 0, s.size))
	return err
}

// Close removes the temporary file, if any.
func (s *spool) Close() {
	if s.file != nil {
		s.file.Close()
		os.Remove(s.file.Name())
		s.file = nil
	}
	s.mem = bytes.Buffer{}
}

// noneMatch reports whether an If-None-Match header names etag, or is *
// (RFC 9110 §13.1.2, weak comparison).
func noneMatch(header, etag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

func (h *exportHandler) authenticate(r *http.Request) (*taxii.Caller, error) {
	user, token, ok := r.BasicAuth()
	if !ok {
		scheme, t, found := strings.Cut(r.Header.Get("Authorization"), " ")
		if !found || !strings.EqualFold(scheme, "Bearer") {
			return nil, taxii.ErrUnauthorized
		}
		user, token = "", strings.TrimSpace(t)
	}
	if token == "" {
		return nil, taxii.ErrUnauthorized
	}
	c, err := h.node.Authenticate(r.Context(), user, token)
	if err == nil && c == nil {
		err = taxii.ErrUnauthorized
	}
	return c, err
}

// indicators yields the latest version of each indicator the caller may
// see, page by page through the node's TAXII read path.
func (h *exportHandler) indicators(ctx context.Context, c *taxii.Caller, root, collection string) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		f := &taxii.Filter{Types: []string{"indicator"}, Limit: 1000}
		for {
			page, err := h.node.Objects(ctx, c, root, collection, f)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, it := range page.Items {
				if !yield(it.Object, nil) {
					return
				}
			}
			if !page.More {
				return
			}
			f.After = page.Next
		}
	}
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

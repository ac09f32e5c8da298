package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/entente/entente/export"
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
// what each caller's export holds.
type exportReader interface {
	Authenticate(ctx context.Context, user, token string) (*taxii.Caller, error)
	Objects(ctx context.Context, c *taxii.Caller, root, collection string, f *taxii.Filter) (*taxii.Page, error)
}

// exportHandler serves exports over HTTPS, for sensors that fetch the
// latest with curl: authenticated as TAXII is (HTTP Basic with a token, or
// a bearer token), with a strong ETag over the body, so that a fetch with
// If-None-Match gets 304 Not Modified while nothing changed.
type exportHandler struct {
	node   exportReader
	logger *slog.Logger
	now    func() time.Time
	// spoolMax, when set, replaces exportSpoolLimit (tests).
	spoolMax int
}

// withExports sends the requests under exportPrefix to the export handler,
// and the others to next.
func withExports(n exportReader, logger *slog.Logger, next http.Handler) http.Handler {
	h := &exportHandler{node: n, logger: logger, now: time.Now}
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
	// The body is spooled, in memory while small and in a temporary file
	// beyond that, since its ETag, a hash of the body, goes before it.
	body := &spool{limit: h.spoolLimit()}
	defer body.Close()
	sum := sha256.New()
	report, err := exportObjects(io.MultiWriter(body, sum), export.Config{Format: format, Now: h.now(), Source: root + "/" + collection, Hash: hash},
		h.indicators(r.Context(), caller, root, collection))
	if err == nil {
		err = body.err
	}
	switch {
	case errors.Is(err, taxii.ErrNotFound):
		httpError(w, http.StatusNotFound, "no such API root or collection, or not one this account may read")
		return
	case errors.Is(err, taxii.ErrForbidden):
		httpError(w, http.StatusForbidden, "this account may not read the collection")
		return
	case err != nil:
		h.logger.ErrorContext(r.Context(), "export failed", slog.String("collection", collection), slog.String("format", string(format)), slog.Any("err", err))
		httpError(w, http.StatusInternalServerError, "the export failed; the node's log says why")
		return
	}
	contentType := "text/plain; charset=utf-8"
	if wantReport {
		body.Close()
		body, sum = &spool{limit: h.spoolLimit()}, sha256.New()
		report.WriteTo(io.MultiWriter(body, sum))
	} else if format == export.Sigma {
		contentType = "application/yaml"
	}
	etag := `"` + hex.EncodeToString(sum.Sum(nil)[:16]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Entente-Not-Exported", fmt.Sprint(len(report.Skipped)))
	if noneMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", fmt.Sprint(body.size))
	if r.Method == http.MethodHead {
		return
	}
	if err := body.copyTo(w); err != nil {
		h.logger.WarnContext(r.Context(), "export: sending the body", slog.String("collection", collection), slog.Any("err", err))
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

// copyTo copies what was written to w.
func (s *spool) copyTo(w io.Writer) error {
	if s.file == nil {
		_, err := w.Write(s.mem.Bytes())
		return err
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(w, s.file)
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

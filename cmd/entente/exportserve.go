package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
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
	var body bytes.Buffer
	report, err := exportObjects(&body, export.Config{Format: format, Now: h.now(), Source: root + "/" + collection, Hash: hash},
		h.indicators(r.Context(), caller, root, collection))
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
		body.Reset()
		report.WriteTo(&body)
	} else if format == export.Sigma {
		contentType = "application/yaml"
	}
	sum := sha256.Sum256(body.Bytes())
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Entente-Not-Exported", fmt.Sprint(len(report.Skipped)))
	if noneMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", fmt.Sprint(body.Len()))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body.Bytes())
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

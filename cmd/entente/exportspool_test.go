package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/entente/entente/export"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// pagedIndicators is a test fake of the export's reader: one account, one
// collection of n indicators, served in pages of 100.
type pagedIndicators struct{ n int }

func (p pagedIndicators) Authenticate(_ context.Context, _, token string) (*taxii.Caller, error) {
	if token != "t" {
		return nil, taxii.ErrUnauthorized
	}
	return &taxii.Caller{Name: "sensor", Role: "reader"}, nil
}

func (p pagedIndicators) ReadState(_ context.Context, _ *taxii.Caller, root, collection string) (node.ReadState, error) {
	if root != "api1" || collection != "default" {
		return node.ReadState{}, taxii.ErrNotFound
	}
	return node.ReadState{Collection: "c1", Objects: store.CollectionState{Versions: int64(p.n)}}, nil
}

func (p pagedIndicators) Objects(_ context.Context, _ *taxii.Caller, root, collection string, f *taxii.Filter) (*taxii.Page, error) {
	if root != "api1" || collection != "default" {
		return nil, taxii.ErrNotFound
	}
	page := &taxii.Page{}
	start := int(f.After)
	for i := start; i < min(start+100, p.n); i++ {
		page.Items = append(page.Items, taxii.Item{Object: exportBenchIndicator(i)})
	}
	page.More = start+100 < p.n
	page.Next = int64(start + 100)
	return page, nil
}

// TestExportSpool serves an export larger than the memory spool: the body
// goes through a temporary file, removed after the answer, and is the
// command line's export byte for byte, with the hash of the body as ETag.
// The file stays while the export is cached, and no longer.
func TestExportSpool(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	now := time.Now()
	h := newExportHandler(pagedIndicators{n: 1000}, slog.New(slog.DiscardHandler), func() time.Time { return now })
	h.spoolMax = 4096
	var want bytes.Buffer
	if _, err := exportObjects(&want, export.Config{Format: export.Suricata, Now: now, Source: "api1/default"},
		func(yield func([]byte, error) bool) {
			for i := range 1000 {
				if !yield(exportBenchIndicator(i), nil) {
					return
				}
			}
		}); err != nil {
		t.Fatal(err)
	}
	if want.Len() < 10*4096 {
		t.Fatalf("the export is %d bytes, too small to leave memory", want.Len())
	}
	get := func(etag string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/export/api1/default/suricata", nil)
		req.Header.Set("Authorization", "Bearer t")
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := get("")
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), want.Bytes()) {
		t.Fatalf("GET = %d, %d bytes; want 200 and the %d bytes of the command line's export", rec.Code, rec.Body.Len(), want.Len())
	}
	sum := sha256.Sum256(want.Bytes())
	if etag := rec.Header().Get("ETag"); etag != `"`+hex.EncodeToString(sum[:16])+`"` {
		t.Errorf("ETag %s is not the hash of the body", etag)
	}
	if cl := rec.Header().Get("Content-Length"); cl != fmt.Sprint(want.Len()) {
		t.Errorf("Content-Length %s, want %d", cl, want.Len())
	}
	if rec := get(rec.Header().Get("ETag")); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("GET with If-None-Match = %d, %d bytes", rec.Code, rec.Body.Len())
	}
	if left, _ := os.ReadDir(tmp); len(left) != 1 {
		t.Errorf("%d spool files while the export is cached; want 1", len(left))
	}
	h.Close()
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the spool left %d files behind", len(left))
	}
}

func TestSpool(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	var want bytes.Buffer
	s := &spool{limit: 10}
	for i := range 50 {
		line := fmt.Sprintf("line %d\n", i)
		want.WriteString(line)
		if _, err := io.WriteString(s, line); err != nil {
			t.Fatal(err)
		}
		if s.file == nil && s.mem.Len() > 10 {
			t.Fatalf("%d bytes in memory, over the limit of 10", s.mem.Len())
		}
	}
	if s.file == nil || s.mem.Len() != 0 || s.size != int64(want.Len()) {
		t.Fatalf("file %v, %d bytes in memory, size %d", s.file, s.mem.Len(), s.size)
	}
	var got bytes.Buffer
	if err := s.copyTo(&got); err != nil || got.String() != want.String() {
		t.Fatalf("copyTo: %v, %q", err, got.String())
	}
	name := s.file.Name()
	s.Close()
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Errorf("the spool file is still there: %v", err)
	}
}

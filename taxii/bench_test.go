package taxii

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// BenchmarkQuery measures what a paged request costs before the Backend
// runs: parsing a typical query, verifying its next token, and issuing the
// token of the following page. The baseline is url.ParseQuery alone, which
// any server pays.
func BenchmarkQuery(b *testing.B) {
	tok := tokens{key: []byte("0123456789abcdef0123456789abcdef")}
	base := "added_after=2025-01-01T00:00:00.000000Z&limit=1000&match[type]=indicator,malware&match[version]=all&match[spec_version]=2.1"
	q, err := parseQuery(objectsEndpoint, must1(url.ParseQuery(base)))
	if err != nil {
		b.Fatal(err)
	}
	raw := base + "&next=" + tok.encode(123456, &tokenScope{endpoint: objectsEndpoint, root: "api1", collection: "c", caller: "alice", filter: &q.Filter})

	b.Run("baseline=url.ParseQuery", func(b *testing.B) {
		for b.Loop() {
			if _, err := url.ParseQuery(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parse+verify+issue", func(b *testing.B) {
		for b.Loop() {
			values, err := url.ParseQuery(raw)
			if err != nil {
				b.Fatal(err)
			}
			q, err := parseQuery(objectsEndpoint, values)
			if err != nil {
				b.Fatal(err)
			}
			scope := &tokenScope{endpoint: objectsEndpoint, root: "api1", collection: "c", caller: "alice", filter: &q.Filter}
			pos, err := tok.decode(q.next, scope)
			if err != nil {
				b.Fatal(err)
			}
			_ = tok.encode(pos+1000, scope)
		}
	})
}

// benchPage is a page of n indicators of about 600 bytes each.
func benchPage(n int) *Page {
	p := &Page{More: true, Next: int64(n)}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		id := fmt.Sprintf("indicator--%08x-aaaa-4bbb-8ccc-%012x", i, i)
		obj := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",`+
			`"name":"Malicious site %d","description":"A domain seen serving the loader in campaign %d; block and hunt for earlier contacts.",`+
			`"indicator_types":["malicious-activity"],"pattern":"[domain-name:value = 'host-%d.evil.example']","pattern_type":"stix",`+
			`"valid_from":"2024-01-01T00:00:00Z","labels":["loader","campaign-7"],"confidence":80,`+
			`"object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],"x_score":{"value":0.875,"source":"sandbox"}}`,
			id, i, i%97, i)
		p.Items = append(p.Items, Item{ID: id, Version: "2024-01-01T00:00:00.000Z", DateAdded: start.Add(time.Duration(i) * time.Microsecond),
			MediaType: STIXMediaType, Object: json.RawMessage(obj)})
	}
	return p
}

// BenchmarkWritePage measures encoding a page of 1,000 objects. The
// baselines re-marshal the same page: through []json.RawMessage (which
// encoding/json re-validates and compacts), and through map[string]any
// (what decoding objects into generic maps would cost).
func BenchmarkWritePage(b *testing.B) {
	p := benchPage(1000)
	var size int64
	for _, it := range p.Items {
		size += int64(len(it.Object))
	}
	b.Run("stream", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if err := writeEnvelope(io.Discard, p, "AQAAAAAAAAPo"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline=marshal-raw", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		env := Envelope{More: true, Next: "AQAAAAAAAAPo"}
		for _, it := range p.Items {
			env.Objects = append(env.Objects, it.Object)
		}
		for b.Loop() {
			if _, err := json.Marshal(&env); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline=marshal-maps", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		objs := make([]map[string]any, len(p.Items))
		for i, it := range p.Items {
			if err := json.Unmarshal(it.Object, &objs[i]); err != nil {
				b.Fatal(err)
			}
		}
		for b.Loop() {
			if _, err := json.Marshal(map[string]any{"more": true, "next": "AQAAAAAAAAPo", "objects": objs}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func must1[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// pageBackend serves one fixed page to everyone: just enough Backend to
// measure the Server's own cost.
type pageBackend struct {
	Backend // nil: the methods a GET of objects does not call panic
	page    *Page
}

func (b pageBackend) Authenticate(context.Context, string, string) (*Caller, error) {
	return &Caller{Name: "bench", Role: "reader"}, nil
}

func (b pageBackend) Collection(_ context.Context, _ *Caller, _, id string) (*Collection, error) {
	return &Collection{ID: id, Title: "bench", CanRead: true}, nil
}

func (b pageBackend) Objects(context.Context, *Caller, string, string, *Filter) (*Page, error) {
	return b.page, nil
}

// BenchmarkServeObjects measures a whole GET of a page of 1,000 objects
// through the Server, Backend time excluded. The baseline writes the same
// response body, prepared in advance: the cost of the bytes alone.
func BenchmarkServeObjects(b *testing.B) {
	p := benchPage(1000)
	srv := NewServer(pageBackend{page: p}, Config{TokenKey: []byte("bench")})
	target := "/api1/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/objects/?match[type]=indicator&limit=1000"
	req := httptest.NewRequest("GET", target, nil)
	req.Header.Set("Accept", MediaType)
	req.Header.Set("Authorization", "Bearer t")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	body := rec.Body.Bytes()
	buf := new([64 << 10]byte)
	b.Run("baseline=prepared-body", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			w := sinkWriter{make(http.Header), buf}
			w.Header().Set("Content-Type", MediaType)
			w.Write(body)
		}
	})
	b.Run("server", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			srv.ServeHTTP(sinkWriter{make(http.Header), buf}, req)
		}
	})
}

// sinkWriter is a ResponseWriter that, like a network connection and
// unlike httptest.ResponseRecorder, copies the body out without keeping
// it.
type sinkWriter struct {
	h   http.Header
	buf *[64 << 10]byte
}

func (w sinkWriter) Header() http.Header { return w.h }
func (w sinkWriter) WriteHeader(int)     {}
func (w sinkWriter) Write(b []byte) (int, error) {
	for rest := b; len(rest) > 0; {
		rest = rest[copy(w.buf[:], rest):]
	}
	return len(b), nil
}

package taxii

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
)

// The three list resources are written by hand, each item's stored JSON
// copied once into a write buffer: a page of 1,000 objects is never
// decoded or re-encoded (BenchmarkWritePage measures the difference).
//
// A first pass counts the bytes, without copying any, so that the answer
// carries its Content-Length (over HTTP/1.1 it is then not chunked); the
// second writes them through a pooled 32 KiB buffer. Each buffer-full is
// one HTTP/2 DATA frame, which a client can read while the next is sent.
// Writing a page of about 600 KiB in one Write, which saves the hand-offs
// between handler and connection goroutines, measured 9% slower end to
// end (BenchmarkReads in cmd/entente): Go clients accept frames of 1 MiB,
// so the page left as one frame that the client could read only whole.

// sink is where a list resource is encoded: a write buffer, or a counter.
type sink interface {
	io.Writer
	io.StringWriter
	io.ByteWriter
}

// counter is a sink that only counts.
type counter struct{ n int64 }

func (c *counter) Write(b []byte) (int, error)       { c.n += int64(len(b)); return len(b), nil }
func (c *counter) WriteString(s string) (int, error) { c.n += int64(len(s)); return len(s), nil }
func (c *counter) WriteByte(byte) error              { c.n++; return nil }

// writeBufferSize is the size of the write buffers, and so of the DATA
// frames of a page.
const writeBufferSize = 32 << 10

var writeBuffers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, writeBufferSize) }}

// send writes the answer that encode produces to w, with its length when w
// is a ResponseWriter.
func send(w io.Writer, encode func(sink)) error {
	var c counter
	encode(&c)
	if rw, ok := w.(http.ResponseWriter); ok {
		rw.Header().Set("Content-Length", strconv.FormatInt(c.n, 10))
	}
	bw := writeBuffers.Get().(*bufio.Writer)
	bw.Reset(w)
	defer func() {
		bw.Reset(nil)
		writeBuffers.Put(bw)
	}()
	encode(bw)
	return bw.Flush()
}

// setDateAddedHeaders sets X-TAXII-Date-Added-First and -Last (TAXII 2.1
// §3.3) from a page's first and last items. An empty page has neither: the
// headers name objects in the response, and there are none.
func setDateAddedHeaders(h http.Header, items []Item) {
	if len(items) == 0 {
		return
	}
	h.Set("X-TAXII-Date-Added-First", FormatTimestamp(items[0].DateAdded))
	h.Set("X-TAXII-Date-Added-Last", FormatTimestamp(items[len(items)-1].DateAdded))
}

// writeEnvelope writes an envelope (§3.7) holding the page's objects and,
// when any item has one, their provenance records as the custom property
// x_entente_provenance (see ProvenanceProperty).
func writeEnvelope(w io.Writer, p *Page, next string) error {
	withProvenance := slices.ContainsFunc(p.Items, func(it Item) bool { return len(it.Provenance) > 0 })
	return send(w, func(bw sink) {
		if writeMore(bw, p, next) {
			return
		}
		bw.WriteString(`,"objects":[`)
		for i, it := range p.Items {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.Write(it.Object)
		}
		bw.WriteByte(']')
		if withProvenance {
			bw.WriteString(`,"` + ProvenanceProperty + `":[`)
			for i, it := range p.Items {
				if i > 0 {
					bw.WriteByte(',')
				}
				if len(it.Provenance) == 0 {
					bw.WriteString("null")
				} else {
					bw.Write(it.Provenance)
				}
			}
			bw.WriteByte(']')
		}
		bw.WriteByte('}')
	})
}

// writeManifest writes a manifest resource (§5.3.1).
func writeManifest(w io.Writer, p *Page, next string) error {
	return send(w, func(bw sink) {
		if writeMore(bw, p, next) {
			return
		}
		bw.WriteString(`,"objects":[`)
		for i, it := range p.Items {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString(`{"id":`)
			writeString(bw, it.ID)
			bw.WriteString(`,"date_added":"`)
			bw.WriteString(FormatTimestamp(it.DateAdded))
			bw.WriteString(`","version":`)
			writeString(bw, it.Version)
			if it.MediaType != "" {
				bw.WriteString(`,"media_type":`)
				writeString(bw, it.MediaType)
			}
			bw.WriteByte('}')
		}
		bw.WriteString("]}")
	})
}

// writeVersions writes a versions resource (§5.8.1).
func writeVersions(w io.Writer, p *Page, next string) error {
	return send(w, func(bw sink) {
		if writeMore(bw, p, next) {
			return
		}
		bw.WriteString(`,"versions":[`)
		for i, it := range p.Items {
			if i > 0 {
				bw.WriteByte(',')
			}
			writeString(bw, it.Version)
		}
		bw.WriteString("]}")
	})
}

// writeMore opens a list resource with its more and next properties and
// reports whether it is complete: an empty answer with nothing after it
// is {} (§3.7, §5.3.1, §5.8.1), where more is absent, which means false,
// and so is the empty list.
func writeMore(bw sink, p *Page, next string) (done bool) {
	if len(p.Items) == 0 && !p.More {
		bw.WriteString("{}")
		return true
	}
	bw.WriteString(`{"more":`)
	bw.WriteString(strconv.FormatBool(p.More))
	if next != "" {
		bw.WriteString(`,"next":`)
		writeString(bw, next)
	}
	if len(p.Items) == 0 {
		bw.WriteByte('}')
		return true
	}
	return false
}

// writeString writes s as a JSON string. Ids, versions and tokens are
// plain ASCII, so the fast path almost always applies; anything else goes
// through encoding/json for correct escaping.
func writeString(bw sink, s string) {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // cannot fail for a string
			bw.Write(b)
			return
		}
	}
	bw.WriteByte('"')
	bw.WriteString(s)
	bw.WriteByte('"')
}

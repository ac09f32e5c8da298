package taxii

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
)

// The three list resources are written by hand, streaming each item's
// stored JSON through a buffer: a page of 1,000 objects is never decoded or
// re-encoded (BenchmarkWritePage measures the difference).

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

// writeEnvelope writes an envelope (§3.7) holding the page's objects.
func writeEnvelope(w io.Writer, p *Page, next string) error {
	if isEmpty(p) {
		return writeEmpty(w)
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	writeMore(bw, p.More, next)
	if len(p.Items) > 0 {
		bw.WriteString(`,"objects":[`)
		for i, it := range p.Items {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.Write(it.Object)
		}
		bw.WriteByte(']')
	}
	bw.WriteByte('}')
	return bw.Flush()
}

// writeManifest writes a manifest resource (§5.3.1).
func writeManifest(w io.Writer, p *Page, next string) error {
	if isEmpty(p) {
		return writeEmpty(w)
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	writeMore(bw, p.More, next)
	if len(p.Items) > 0 {
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
		bw.WriteByte(']')
	}
	bw.WriteByte('}')
	return bw.Flush()
}

// writeVersions writes a versions resource (§5.8.1).
func writeVersions(w io.Writer, p *Page, next string) error {
	if isEmpty(p) {
		return writeEmpty(w)
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	writeMore(bw, p.More, next)
	if len(p.Items) > 0 {
		bw.WriteString(`,"versions":[`)
		for i, it := range p.Items {
			if i > 0 {
				bw.WriteByte(',')
			}
			writeString(bw, it.Version)
		}
		bw.WriteByte(']')
	}
	bw.WriteByte('}')
	return bw.Flush()
}

// isEmpty reports whether p is an empty answer with nothing after it.
func isEmpty(p *Page) bool { return len(p.Items) == 0 && !p.More }

// writeEmpty writes an empty list resource: {} (§3.7, §5.3.1, §5.8.1),
// where more is absent, which means false, and so is the empty list.
func writeEmpty(w io.Writer) error {
	_, err := io.WriteString(w, "{}")
	return err
}

// writeMore opens a list resource with its more and next properties.
func writeMore(bw *bufio.Writer, more bool, next string) {
	bw.WriteString(`{"more":`)
	bw.WriteString(strconv.FormatBool(more))
	if next != "" {
		bw.WriteString(`,"next":`)
		writeString(bw, next)
	}
}

// writeString writes s as a JSON string. Ids, versions and tokens are
// plain ASCII, so the fast path almost always applies; anything else goes
// through encoding/json for correct escaping.
func writeString(bw *bufio.Writer, s string) {
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

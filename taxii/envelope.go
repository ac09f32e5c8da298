package taxii

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// DefaultMaxEnvelopeObjects is the most objects a POSTed envelope may hold
// when Config.MaxEnvelopeObjects is zero. A real STIX object takes a few
// hundred bytes at least, so max_content_length bounds real envelopes well
// below it; the cap is there for bodies of tiny objects, each of which
// costs a status detail and a validation.
const DefaultMaxEnvelopeObjects = 10_000

// errTooLarge is a request body beyond what the server accepts: 413.
var errTooLarge = errors.New("taxii: request too large")

// decodeEnvelope reads a POST body, which must be an envelope whose
// objects are JSON objects (TAXII 2.1 §5.5). Malformed JSON, and a name
// given twice in the envelope, are a 400; JSON that is not such an
// envelope is a 422; more than maxObjects objects is a 413. Each object is
// returned as sent, for the Backend to validate one by one.
//
// The custom property x_entente_provenance (ProvenanceProperty), when
// present, must be a list of one JSON object or null per object (else
// 422); it is returned aligned with the objects, nil for null, and nil as
// a whole when the envelope does not have it. Other custom properties are
// ignored, as §7.1 allows.
//
// The body is read as a stream: the objects (and provenance records) are copied, back to back,
// into one buffer of about the body's size (sizeHint, when known, sizes
// it), which the returned slices share. Nothing else of the body is kept,
// so a request costs about its own size, however many objects it holds.
func decodeEnvelope(body io.Reader, sizeHint int64, maxObjects int) (objs, provenance []json.RawMessage, err error) {
	// Names are checked for duplicates here at the envelope's level only;
	// the objects' own names and encoding are each object's business
	// (stix.Parse rejects duplicates there), so that a bad object fails
	// alone.
	dec := jsontext.NewDecoder(body, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	tok, err := dec.ReadToken()
	if err == io.EOF {
		return nil, nil, fmt.Errorf("%w: the body is empty; send an envelope {\"objects\": [...]}", ErrBadRequest)
	}
	if err != nil {
		return nil, nil, syntaxError(err)
	}
	if tok.Kind() != '{' {
		return nil, nil, fmt.Errorf("%w: the body must be an envelope, a JSON object {\"objects\": [...]}", ErrUnprocessable)
	}
	var (
		buf      []byte
		ends     []span // of each object in buf
		provEnds []span // of each provenance record in buf; {0, 0} for null
		seen     = make(map[string]bool)
		objects  = false // the envelope has a non-null "objects"
	)
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, nil, syntaxError(err)
		}
		name := tok.String()
		if name != "objects" && name != ProvenanceProperty && (strings.EqualFold(name, "objects") || strings.EqualFold(name, ProvenanceProperty)) {
			// encoding/json, and other readers that ignore case, would
			// take it for that member: a reader and a signer could see
			// different envelopes, as with a name given twice.
			return nil, nil, fmt.Errorf("%w: the envelope has %q; TAXII spells that member in lower case, and a reader that ignores case would take it for one; give the exact name", ErrBadRequest, name)
		}
		if seen[name] {
			// encoding/json would keep the last one silently, so a reader
			// and a signer could see different envelopes.
			return nil, nil, fmt.Errorf("%w: the envelope has %q twice; give each name once (RFC 8259 §4, I-JSON)", ErrBadRequest, name)
		}
		seen[name] = true
		switch name {
		case "type":
			return nil, nil, fmt.Errorf("%w: the body has a \"type\", like a STIX bundle or object; TAXII 2.1 takes an envelope {\"objects\": [...]}", ErrUnprocessable)
		case ProvenanceProperty:
			if provEnds, err = readProvenance(dec, &buf, sizeHint, maxObjects); err != nil {
				return nil, nil, err
			}
			continue
		case "objects":
			switch dec.PeekKind() {
			case 'n':
				if _, err := dec.ReadToken(); err != nil {
					return nil, nil, syntaxError(err)
				}
				continue
			case '[':
			default:
				if err := dec.SkipValue(); err != nil {
					return nil, nil, syntaxError(err)
				}
				return nil, nil, fmt.Errorf("%w: the envelope's \"objects\" must be a list of STIX objects", ErrUnprocessable)
			}
			objects = true
			if _, err := dec.ReadToken(); err != nil {
				return nil, nil, syntaxError(err)
			}
			if buf == nil {
				buf = make([]byte, 0, max(0, min(sizeHint, 1<<30)))
			}
			for dec.PeekKind() != ']' {
				if len(ends) == maxObjects {
					return nil, nil, fmt.Errorf("%w: the envelope holds more than %d objects, this server's limit; send them in several envelopes", errTooLarge, maxObjects)
				}
				v, err := dec.ReadValue()
				if err != nil {
					return nil, nil, syntaxError(err)
				}
				if v.Kind() != '{' {
					return nil, nil, fmt.Errorf("%w: objects[%d] is not a JSON object; every item must be a STIX object", ErrUnprocessable, len(ends))
				}
				start := len(buf)
				buf = append(buf, v...)
				ends = append(ends, span{start, len(buf)})
			}
			if _, err := dec.ReadToken(); err != nil {
				return nil, nil, syntaxError(err)
			}
		default:
			if err := dec.SkipValue(); err != nil {
				return nil, nil, syntaxError(err)
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, nil, syntaxError(err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = fmt.Errorf("trailing data after the envelope at byte %d", dec.InputOffset())
		}
		return nil, nil, syntaxError(err)
	}
	if !objects {
		return nil, nil, fmt.Errorf("%w: the envelope has no objects; put the STIX objects in its \"objects\" list", ErrUnprocessable)
	}
	if len(ends) == 0 {
		return nil, nil, fmt.Errorf("%w: the envelope's \"objects\" list is empty; TAXII lists hold at least one item", ErrUnprocessable)
	}
	if provEnds != nil && len(provEnds) != len(ends) {
		return nil, nil, fmt.Errorf("%w: the envelope's %q has %d items for %d objects; give one per object, null for none", ErrUnprocessable, ProvenanceProperty, len(provEnds), len(ends))
	}
	objs = make([]json.RawMessage, len(ends))
	for i, sp := range ends {
		objs[i] = buf[sp.start:sp.end:sp.end]
	}
	if provEnds != nil {
		provenance = make([]json.RawMessage, len(provEnds))
		for i, sp := range provEnds {
			if sp.end > sp.start {
				provenance[i] = buf[sp.start:sp.end:sp.end]
			}
		}
	}
	return objs, provenance, nil
}

// span is where one value lies in decodeEnvelope's buffer.
type span struct{ start, end int }

// readProvenance reads the value of the envelope's ProvenanceProperty into
// buf: a list of at most maxObjects JSON objects or nulls. It returns one
// span per item, an empty one for null, and a non-nil slice for an empty
// list, so that the caller can tell it from an absent property.
func readProvenance(dec *jsontext.Decoder, buf *[]byte, sizeHint int64, maxObjects int) ([]span, error) {
	if dec.PeekKind() == 'n' { // as if absent
		_, err := dec.ReadToken()
		if err != nil {
			return nil, syntaxError(err)
		}
		return nil, nil
	}
	if dec.PeekKind() != '[' {
		if err := dec.SkipValue(); err != nil {
			return nil, syntaxError(err)
		}
		return nil, fmt.Errorf("%w: the envelope's %q must be a list, one provenance record (or null) per object", ErrUnprocessable, ProvenanceProperty)
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, syntaxError(err)
	}
	if *buf == nil {
		*buf = make([]byte, 0, max(0, min(sizeHint, 1<<30)))
	}
	spans := []span{}
	for dec.PeekKind() != ']' {
		if len(spans) == maxObjects {
			return nil, fmt.Errorf("%w: the envelope's %q holds more than %d items, this server's limit of objects per envelope", errTooLarge, ProvenanceProperty, maxObjects)
		}
		v, err := dec.ReadValue()
		if err != nil {
			return nil, syntaxError(err)
		}
		switch v.Kind() {
		case 'n':
			spans = append(spans, span{})
		case '{':
			start := len(*buf)
			*buf = append(*buf, v...)
			spans = append(spans, span{start, len(*buf)})
		default:
			return nil, fmt.Errorf("%w: %s[%d] is neither a provenance record (a JSON object) nor null", ErrUnprocessable, ProvenanceProperty, len(spans))
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, syntaxError(err)
	}
	return spans, nil
}

// syntaxError makes a 400 of a decoding error, unless reading the body
// failed (a body over max_content_length, a broken connection): that error
// is returned as it is, for its own status.
func syntaxError(err error) error {
	var syn *jsontext.SyntacticError
	switch {
	case errors.As(err, new(*http.MaxBytesError)):
		return err
	case errors.As(err, &syn):
		return fmt.Errorf("%w: the body is not valid JSON: %v", ErrBadRequest, syn)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: the body is not valid JSON: it ends before the envelope does", ErrBadRequest)
	}
	return fmt.Errorf("%w: the body is not valid JSON: %v", ErrBadRequest, err)
}

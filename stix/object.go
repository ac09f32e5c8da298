package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// Object is one STIX 2.1 object. Raw holds its JSON exactly as it was received,
// so that every custom and unknown property survives a round trip; Props is the
// decoded view of the top-level properties, with numbers kept as json.Number so
// that no precision is lost. The common properties are lifted into fields.
//
// An Object is treated as immutable once parsed: to change a property, build a
// new one with New.
type Object struct {
	Type        string
	ID          string
	SpecVersion string // "" when absent (SCOs may omit it; it then means 2.1)
	Created     string // "" when absent
	Modified    string // "" when absent

	Props map[string]any
	Raw   json.RawMessage
}

// ErrNotObject is returned by Parse for input that is not a single JSON object.
var ErrNotObject = errors.New("stix: not a JSON object")

// Parse decodes one STIX object. It checks only that data is a single JSON
// object, I-JSON as RFC 7493 defines it (no duplicate names, valid UTF-8),
// whose "type" and "id" are strings; call Validate for the STIX 2.1 rules.
func Parse(data []byte) (*Object, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, ErrNotObject
	}
	props, err := decodeObject(trimmed)
	if err != nil {
		return nil, err
	}
	o := &Object{Props: props, Raw: json.RawMessage(trimmed)}
	if err := o.lift(); err != nil {
		return nil, err
	}
	return o, nil
}

// decodeObject decodes a JSON object into the form encoding/json gives with
// UseNumber: map[string]any, []any, string, json.Number, bool and nil.
//
// It reads with jsontext rather than encoding/json, which keeps the last of
// duplicate names and replaces invalid UTF-8: either would let two readers
// see different objects behind one signature, so both are rejected here
// (RFC 7493 §2.3, §2.1). It is also faster.
func decodeObject(data []byte) (map[string]any, error) {
	dec := decoders.Get().(*jsontext.Decoder)
	dec.Reset(bytes.NewReader(data))
	defer func() {
		// Drop the reference to data before pooling the decoder.
		dec.Reset(bytes.NewReader(nil))
		decoders.Put(dec)
	}()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("stix: invalid JSON: %w", err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return nil, fmt.Errorf("stix: invalid JSON: trailing data after the object at byte %d", dec.InputOffset())
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, ErrNotObject
	}
	return m, nil
}

// decoders holds jsontext decoders, whose buffers are worth reusing across
// the many small objects of an ingest.
var decoders = sync.Pool{New: func() any { return new(jsontext.Decoder) }}

func decodeValue(dec *jsontext.Decoder, depth int) (any, error) {
	tok, err := dec.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case '{':
		var m map[string]any
		if depth == 0 {
			// Typical objects have a dozen or more properties; sizing the
			// map for them saves its growing.
			m = make(map[string]any, 16)
		} else {
			m = make(map[string]any)
		}
		for dec.PeekKind() != '}' {
			name, err := dec.ReadToken()
			if err != nil {
				return nil, err
			}
			// A Token is valid only until the next read.
			key := name.String()
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			m[key] = v
		}
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		return m, nil
	case '[':
		l := []any{}
		for dec.PeekKind() != ']' {
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		return l, nil
	case '"':
		return tok.String(), nil
	case '0':
		return json.Number(tok.String()), nil
	case 't':
		return true, nil
	case 'f':
		return false, nil
	}
	return nil, nil
}

// New builds an Object from properties, encoding them as its Raw JSON.
// Props of the result is decoded back from that JSON, so that it holds the
// same Go types as after Parse ([]any, json.Number, ...) whatever types
// props used.
func New(props map[string]any) (*Object, error) {
	raw, err := json.Marshal(props)
	if err != nil {
		return nil, fmt.Errorf("stix: encoding object: %w", err)
	}
	decoded, err := decodeObject(raw)
	if err != nil {
		return nil, err
	}
	o := &Object{Props: decoded, Raw: raw}
	if err := o.lift(); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *Object) lift() error {
	for _, f := range []struct {
		name string
		dst  *string
		req  bool
	}{
		{"type", &o.Type, true},
		{"id", &o.ID, true},
		{"spec_version", &o.SpecVersion, false},
		{"created", &o.Created, false},
		{"modified", &o.Modified, false},
	} {
		v, ok := o.Props[f.name]
		if !ok {
			if f.req {
				return &Error{Path: f.name, Rule: "required", Msg: "property is required"}
			}
			continue
		}
		s, ok := v.(string)
		if !ok {
			return &Error{Path: f.name, Rule: "type", Msg: "must be a string"}
		}
		*f.dst = s
	}
	return nil
}

// Version is the object's version as TAXII defines it: modified, else
// created, else "" (SCOs and other unversioned objects; the store assigns one).
func (o *Object) Version() string {
	if o.Modified != "" {
		return o.Modified
	}
	return o.Created
}

// MarshalJSON returns the object's JSON as received.
func (o *Object) MarshalJSON() ([]byte, error) { return o.Raw, nil }

// String returns a short description for logs and error messages.
func (o *Object) String() string { return o.ID }

// Error is one violation of a STIX rule. Path names the property in JSON-path
// style ("granular_markings[0].selectors[1]"), Rule a short stable name of the
// rule broken ("required", "timestamp", "id-format", ...) and Msg says what is
// wrong and what a valid value looks like.
type Error struct {
	Path string
	Rule string
	Msg  string
}

// Error returns "path: message (rule)".
func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s (%s)", e.Msg, e.Rule)
	}
	return fmt.Sprintf("%s: %s (%s)", e.Path, e.Msg, e.Rule)
}

// TimestampLayout formats STIX timestamps with millisecond precision.
const TimestampLayout = "2006-01-02T15:04:05.000Z"

// ParseTime parses a STIX timestamp: RFC 3339 in UTC with a literal "Z" and
// any number of fractional digits (at least one if there is a decimal point).
func ParseTime(s string) (time.Time, error) {
	if !isTimestamp(s) {
		return time.Time{}, fmt.Errorf("stix: %q is not a STIX timestamp (want YYYY-MM-DDTHH:MM:SS[.s+]Z in UTC)", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stix: %q is not a valid date and time", s)
	}
	return t, nil
}

// FormatTime formats t as a STIX timestamp with millisecond precision.
func FormatTime(t time.Time) string { return t.UTC().Format(TimestampLayout) }

func isTimestamp(s string) bool {
	// YYYY-MM-DDTHH:MM:SS
	const base = len("2006-01-02T15:04:05")
	if len(s) < base+1 || s[len(s)-1] != 'Z' {
		return false
	}
	for i := 0; i < base; i++ {
		c := s[i]
		switch i {
		case 4, 7:
			if c != '-' {
				return false
			}
		case 10:
			if c != 'T' {
				return false
			}
		case 13, 16:
			if c != ':' {
				return false
			}
		default:
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	frac := s[base : len(s)-1]
	if frac == "" {
		return true
	}
	if frac[0] != '.' || len(frac) == 1 {
		return false
	}
	for i := 1; i < len(frac); i++ {
		if frac[i] < '0' || frac[i] > '9' {
			return false
		}
	}
	return true
}

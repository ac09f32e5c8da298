package stix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// Bundle is a STIX bundle (§8): a wrapper that carries objects. It is not
// a STIX object, has no spec_version and no versions.
type Bundle struct {
	ID      string          // "" when absent or not a string
	Objects []*Object       // in the order of the bundle
	Raw     json.RawMessage // the bundle as received

	typ          string // "" when absent or not a string
	emptyObjects bool   // objects is present and empty
}

// ParseBundle decodes a bundle and each object in it. It fails when data is
// not a JSON object or when an element of objects cannot be parsed as an
// object, and then lists every such element; call Bundle.Validate for the
// STIX rules.
func ParseBundle(data []byte) (*Bundle, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("stix: a bundle must be a JSON object: %w", ErrNotObject)
	}
	if !jsontext.Value(trimmed).IsValid() {
		// Say why, with the position.
		_, err := decodeObject(trimmed)
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		return nil, fmt.Errorf("stix: invalid bundle: %w", err)
	}
	b := &Bundle{Raw: json.RawMessage(trimmed)}
	var errs Errors
	if raw, ok := top["type"]; ok {
		// A type that is not a string is reported by Validate.
		_ = json.Unmarshal(raw, &b.typ)
	}
	if raw, ok := top["id"]; ok {
		if err := json.Unmarshal(raw, &b.ID); err != nil {
			errs = append(errs, &Error{Path: "id", Rule: "type", Msg: "must be a string of the form bundle--<UUID>"})
		}
	}
	if raw, ok := top["objects"]; ok {
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			errs = append(errs, &Error{Path: "objects", Rule: "type", Msg: "must be a list of STIX objects"})
		}
		b.emptyObjects = len(elems) == 0
		for i, e := range elems {
			o, err := Parse(e)
			if err != nil {
				errs = append(errs, elementError(i, err))
				continue
			}
			b.Objects = append(b.Objects, o)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return b, nil
}

// elementError places a Parse error at objects[i].
func elementError(i int, err error) *Error {
	path := "objects[" + strconv.Itoa(i) + "]"
	if e, ok := err.(*Error); ok {
		return &Error{Path: path + "." + e.Path, Rule: e.Rule, Msg: e.Msg}
	}
	return &Error{Path: path, Rule: "object", Msg: err.Error()}
}

// Validate checks the bundle (type "bundle", an id bundle--<UUID>, a
// non-empty objects list when present) and each object in it; the path of
// an object's violation starts with its place, as in objects[3].created.
func (b *Bundle) Validate() error {
	var v validator
	if b.typ != "bundle" {
		v.failAt("type", "bundle", "a bundle's type must be the string \"bundle\"")
	}
	if t, ok := splitIdentifier(b.ID); !ok || t != "bundle" {
		v.failAt("id", "id-format", "%q is not a bundle identifier: want bundle--<RFC 4122 UUID>", b.ID)
	}
	if b.emptyObjects {
		v.failAt("objects", "empty-list", "lists must not be empty; omit objects from an empty bundle")
	}
	for i, o := range b.Objects {
		v.path = append(v.path[:0], pathElem{key: "objects"}, pathElem{idx: i})
		v.object(o.Props)
	}
	return v.result()
}

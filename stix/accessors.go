package stix

import (
	"slices"
	"strings"
)

// MarkingRefs returns the object's object_marking_refs, or nil. Values that
// are not strings are skipped; Validate reports them.
func (o *Object) MarkingRefs() []string { return o.stringList("object_marking_refs") }

// Labels returns the object's labels, or nil.
func (o *Object) Labels() []string { return o.stringList("labels") }

// CreatedByRef returns the id of the identity that created the object, or
// "" when it is anonymous.
func (o *Object) CreatedByRef() string {
	s, _ := o.Props["created_by_ref"].(string)
	return s
}

// Revoked reports whether the object is revoked (§3.6): revocation is
// permanent, and no later version may follow.
func (o *Object) Revoked() bool {
	b, _ := o.Props["revoked"].(bool)
	return b
}

func (o *Object) stringList(key string) []string {
	l, _ := o.Props[key].([]any)
	if len(l) == 0 {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Refs returns every identifier the object refers to: the values of all
// *_ref and *_refs properties at any depth (in extensions, MIME parts,
// granular markings and so on), sorted and without duplicates. Values that
// are not identifiers are left out, and so are the local references inside
// the deprecated observable container of observed-data (§2.13), which name
// keys of that container rather than objects.
//
// Policy uses Refs to keep references closed: an object is released only
// together with, or to someone who already has, what it refers to.
func (o *Object) Refs() []string {
	var out []string
	for k, val := range o.Props {
		if k == "objects" && o.Type == "observed-data" {
			continue
		}
		out = collectRefs(out, k, val)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func collectRefs(out []string, key string, val any) []string {
	switch {
	case strings.HasSuffix(key, "_refs"):
		l, _ := val.([]any)
		for _, e := range l {
			if s, ok := e.(string); ok {
				if _, ok := splitIdentifier(s); ok {
					out = append(out, s)
				}
			}
		}
		return out
	case strings.HasSuffix(key, "_ref"):
		if s, ok := val.(string); ok {
			if _, ok := splitIdentifier(s); ok {
				out = append(out, s)
			}
		}
		return out
	}
	switch x := val.(type) {
	case map[string]any:
		for k, e := range x {
			out = collectRefs(out, k, e)
		}
	case []any:
		for _, e := range x {
			out = collectRefs(out, "", e)
		}
	}
	return out
}

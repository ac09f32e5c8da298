package match

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// A Mapping says which fields of a generic JSON-lines log hold which
// cyber-observable properties. It is read from a JSON file such as
//
//	{
//	  "time": "event.created",
//	  "fields": {
//	    "source.ip": "network-traffic:src_ref.value",
//	    "destination.ip": "network-traffic:dst_ref.value",
//	    "url.full": "url:value",
//	    "file.hash.sha256": "file:hashes.'SHA-256'"
//	  }
//	}
//
// A dotted field name matches a nested object member ("source": {"ip": ...})
// as well as a flat member spelled with the dots ("source.ip": ...). The
// properties are those of [Property], by their [Property.Path]. A field that
// holds an array contributes each of its elements.
type Mapping struct {
	// Time names the field holding the observation time, written as
	// RFC 3339 or as seconds since 1970.
	Time string `json:"time"`
	// Fields maps field names to property paths.
	Fields map[string]string `json:"fields"`
}

// ParseMapping decodes and checks a mapping file.
func ParseMapping(data []byte) (*Mapping, error) {
	var m Mapping
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("mapping: %w (want {\"time\": FIELD, \"fields\": {FIELD: PROPERTY-PATH, ...}})", err)
	}
	if len(m.Fields) == 0 {
		return nil, fmt.Errorf("mapping: no fields; map at least one log field to a property such as \"domain-name:value\"")
	}
	for _, f := range slices.Sorted(maps.Keys(m.Fields)) {
		if f == "" {
			return nil, fmt.Errorf("mapping: fields: empty field name")
		}
		if _, ok := PropertyByPath(m.Fields[f]); !ok {
			return nil, fmt.Errorf("mapping: fields.%s: unknown property %q; use one of %s", f, m.Fields[f], strings.Join(propertyPaths(), ", "))
		}
	}
	return &m, nil
}

func propertyPaths() []string {
	var paths []string
	for p := Property(1); p < numProperties; p++ {
		paths = append(paths, p.Path())
	}
	return paths
}

// JSON reads generic JSON lines through a Mapping. Build it with
// [NewJSON].
type JSON struct {
	root *fieldNode
}

// fieldNode is one level of the mapping's field names, split at the dots.
type fieldNode struct {
	prop     Property // set on leaves
	time     bool     // the leaf holds the observation time
	children map[string]*fieldNode
}

// NewJSON returns the Format that m describes.
func NewJSON(m *Mapping) (*JSON, error) {
	root := &fieldNode{}
	add := func(field string) *fieldNode {
		n := root
		for part := range strings.SplitSeq(field, ".") {
			if n.children == nil {
				n.children = make(map[string]*fieldNode)
			}
			c := n.children[part]
			if c == nil {
				c = &fieldNode{}
				n.children[part] = c
			}
			n = c
		}
		return n
	}
	for field, path := range m.Fields {
		p, ok := PropertyByPath(path)
		if !ok {
			return nil, fmt.Errorf("mapping: fields.%s: unknown property %q", field, path)
		}
		add(field).prop = p
	}
	if m.Time != "" {
		add(m.Time).time = true
	}
	return &JSON{root: root}, nil
}

// Parse implements [Format].
func (j *JSON) Parse(line []byte, rec *Record) error {
	s := scanner{b: line, buf: &rec.scratch}
	if err := s.mapped(j.root, rec); err != nil {
		return err
	}
	return s.end()
}

func (s *scanner) mapped(n *fieldNode, rec *Record) error {
	return s.object(func(key []byte) error {
		c := n.children[string(key)]
		if c == nil && len(key) > 0 && strings.IndexByte(string(key), '.') >= 0 {
			c = n.walk(string(key))
		}
		if c == nil {
			return s.skip()
		}
		if c.time || c.prop != PropInvalid {
			return s.mappedLeaf(c, rec)
		}
		if s.i < len(s.b) && s.b[s.i] == '{' {
			return s.mapped(c, rec)
		}
		return s.skip()
	})
}

// walk follows a flat dotted member name down the tree.
func (n *fieldNode) walk(key string) *fieldNode {
	for part := range strings.SplitSeq(key, ".") {
		if n = n.children[part]; n == nil {
			return nil
		}
	}
	return n
}

func (s *scanner) mappedLeaf(n *fieldNode, rec *Record) error {
	if s.i >= len(s.b) {
		return s.fail("expected a value")
	}
	switch c := s.b[s.i]; {
	case c == '[':
		return s.array(func() error { return s.mappedLeaf(n, rec) })
	case c == '"':
		v, _, err := s.str()
		if err != nil {
			return err
		}
		switch {
		case n.time:
			rec.setTime(v)
		case len(v) > 0 && !props[n.prop].integer:
			rec.Add(n.prop, v)
		}
		return nil
	case c == '-' || ('0' <= c && c <= '9'):
		v, err := s.number()
		if err != nil {
			return err
		}
		switch {
		case n.time:
			rec.Time = parseEpoch(v)
		case props[n.prop].integer:
			if v, ok := canonicalInt(v); ok && (!isPort(n.prop) || len(v) < 5 || len(v) == 5 && string(v) <= "65535") {
				rec.Add(n.prop, v)
			}
		}
		return nil
	}
	return s.skip()
}

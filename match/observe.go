package match

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/entente/entente/stix"
)

// Objects returns the cyber observables the record describes, as STIX 2.1
// SCO property maps with deterministic identifiers (section 2.9): one
// object per distinct address, domain name, URL and e-mail address, and one
// network-traffic, file, email-message and x509-certificate object holding
// the rest, linked through their _ref properties. The first object is the
// record's main one (network-traffic when there is one).
func (r *Record) Objects() ([]map[string]any, error) {
	b := objectBuilder{byValue: make(map[string]map[string]any)}
	for _, v := range r.Values {
		if err := b.add(v); err != nil {
			return nil, err
		}
	}
	return b.finish()
}

type objectBuilder struct {
	roots   []map[string]any          // network-traffic, file, email-message, x509-certificate
	values  []map[string]any          // SCOs identified by their value, in order of appearance
	byValue map[string]map[string]any // type + "\x00" + value → object
	domain  map[string]any            // the first domain name; DNS answers resolve from it
	answers []map[string]any          // DNS answers seen before any domain name
}

// valueObject returns the SCO of the given type and value, creating it once.
func (b *objectBuilder) valueObject(typ string, v []byte) map[string]any {
	key := typ + "\x00" + string(v)
	if o := b.byValue[key]; o != nil {
		return o
	}
	o := map[string]any{"type": typ, "value": string(v)}
	b.byValue[key] = o
	b.values = append(b.values, o)
	if typ == "domain-name" && b.domain == nil {
		b.domain = o
	}
	return o
}

// root returns the object of the given type that the value at path
// belongs to: the first one where the path is still free (or, for lists,
// any), so that a second file hash of the same algorithm describes a second
// file rather than being dropped.
func (b *objectBuilder) root(typ string, steps []string, list bool, val any) map[string]any {
	for _, o := range b.roots {
		if o["type"] != typ {
			continue
		}
		if have, ok := get(o, steps); list || !ok || same(have, val) {
			return o
		}
	}
	o := map[string]any{"type": typ}
	b.roots = append(b.roots, o)
	return o
}

func get(o map[string]any, steps []string) (any, bool) {
	var v any = o
	for _, st := range steps {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[st]; !ok {
			return nil, false
		}
	}
	return v, true
}

// same compares property values: strings and numbers, or referenced
// objects (by their value, as maps cannot be compared with ==).
func same(a, b any) bool {
	am, aObj := a.(map[string]any)
	bm, bObj := b.(map[string]any)
	if aObj || bObj {
		return aObj && bObj && am["type"] == bm["type"] && am["value"] == bm["value"]
	}
	return a == b
}

// ipType tells IPv6 from IPv4 by the colon, which no IPv4 form has.
func ipType(v []byte) string {
	if bytes.IndexByte(v, ':') >= 0 {
		return "ipv6-addr"
	}
	return "ipv4-addr"
}

func (b *objectBuilder) add(v Value) error {
	if v.Prop == PropInvalid || v.Prop >= numProperties {
		return fmt.Errorf("match: invalid property %d", v.Prop)
	}
	info := &props[v.Prop]
	switch v.Prop {
	case IPAddr:
		b.valueObject(ipType(v.Data), v.Data)
		return nil
	case ResolvesTo:
		ip := b.valueObject(ipType(v.Data), v.Data)
		if !slices.ContainsFunc(b.answers, func(a map[string]any) bool { return a["value"] == ip["value"] }) {
			b.answers = append(b.answers, ip)
		}
		return nil
	}
	if len(info.steps) == 1 && info.steps[0] == "value" {
		b.valueObject(info.objType, v.Data)
		return nil
	}
	if info.refType != "" {
		typ := info.refType
		if typ == "ip" {
			typ = ipType(v.Data)
		}
		ref := b.valueObject(typ, v.Data)
		o := b.root(info.objType, info.steps[:1], info.list, ref)
		if info.list {
			refs, _ := o[info.steps[0]].([]any)
			if !slices.ContainsFunc(refs, func(r any) bool {
				return r.(map[string]any)["value"] == ref["value"] && r.(map[string]any)["type"] == ref["type"]
			}) {
				o[info.steps[0]] = append(refs, ref)
			}
		} else {
			o[info.steps[0]] = ref
		}
		return nil
	}
	var val any = string(v.Data)
	if info.integer {
		val = json.Number(v.Data)
	}
	o := b.root(info.objType, info.steps, info.list, val)
	steps := info.steps
	if info.list {
		steps = steps[:len(steps)-1] // the list itself, without its [*]
	}
	// Walk to the innermost dictionary, creating it on the way.
	m := o
	for _, step := range steps[:len(steps)-1] {
		next, _ := m[step].(map[string]any)
		if next == nil {
			next = make(map[string]any)
			m[step] = next
		}
		m = next
	}
	last := steps[len(steps)-1]
	if info.list {
		list, _ := m[last].([]any)
		for _, have := range list {
			if have == val {
				return nil
			}
		}
		m[last] = append(list, val)
	} else {
		m[last] = val
	}
	return nil
}

// finish assigns identifiers, leaves first so that references resolve, and
// returns the objects with the main one first.
func (b *objectBuilder) finish() ([]map[string]any, error) {
	if len(b.answers) > 0 && b.domain != nil {
		refs := make([]any, len(b.answers))
		for i, a := range b.answers {
			refs[i] = a
		}
		b.domain["resolves_to_refs"] = refs
	}
	// Referenced objects are stored inline until their ids are known.
	for _, o := range b.values {
		if err := setID(o); err != nil {
			return nil, err
		}
	}
	for _, o := range b.values {
		resolveRefs(o)
	}
	for _, o := range b.roots {
		resolveRefs(o)
		if err := setID(o); err != nil {
			return nil, err
		}
	}
	out := make([]map[string]any, 0, len(b.roots)+len(b.values))
	out = append(out, b.roots...)
	out = append(out, b.values...)
	return out, nil
}

func setID(o map[string]any) error {
	id, err := stix.SCOID(o)
	if err != nil {
		return fmt.Errorf("match: identifying a %v: %w", o["type"], err)
	}
	o["id"] = id
	return nil
}

// resolveRefs replaces inline referenced objects with their ids.
func resolveRefs(o map[string]any) {
	for k, v := range o {
		switch v := v.(type) {
		case map[string]any:
			if _, isObj := v["type"]; isObj {
				o[k] = v["id"]
			}
		case []any:
			for i, e := range v {
				if ref, ok := e.(map[string]any); ok {
					v[i] = ref["id"]
				}
			}
		}
	}
}

package agreement

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// ChangeKind says how one part of an agreement changed between versions.
type ChangeKind uint8

const (
	Added   ChangeKind = iota + 1 // present in the new version only
	Removed                       // present in the old version only
	Changed                       // present in both, with another value
)

func (k ChangeKind) String() string {
	switch k {
	case Added:
		return "added"
	case Removed:
		return "removed"
	case Changed:
		return "changed"
	}
	return "unknown"
}

// Change is one difference between two versions of an agreement.
type Change struct {
	Kind ChangeKind
	// Section is the part of the agreement the change is in: "agreement"
	// (id, title, version, supersedes), "validity", "parties", "nodes",
	// "declarations", "rules", "deadlines" or "escalation".
	Section string
	// Path names what changed, with list elements named by their id:
	// "rules[arcadia-to-borealis].types",
	// "parties[arcadia].nodes[arcadia-node-1].witness_threshold".
	Path string
	// Old and New are the values before and after, as text (a list
	// element for a change in a list of values, the id of an element
	// added to or removed from a list of entries); empty where there is
	// none.
	Old, New string
}

func (c Change) String() string {
	switch c.Kind {
	case Added:
		return fmt.Sprintf("%s: added %s", c.Path, c.New)
	case Removed:
		return fmt.Sprintf("%s: removed %s", c.Path, c.Old)
	}
	return fmt.Sprintf("%s: %s → %s", c.Path, c.Old, c.New)
}

// Diff returns the differences between two versions of an agreement, old
// and new, as structure rather than text: rules, parties, nodes,
// authorities, declarations, deadlines and escalation steps are matched by
// their id (a deadline by its workflow, an escalation step by its level, a
// witness by its node or name), so that reordering a list changes nothing;
// lists of values (a rule's types, a party's CIDRs) are compared as sets,
// element by element. Signatures are not part of the content and are not
// compared. Diff is pure and deterministic: top-level parts come in the
// format's order, list entries in the old version's order (new ones
// after), and an entry's members alphabetically.
func Diff(old, new *Agreement) ([]Change, error) {
	o, err := tree(old)
	if err != nil {
		return nil, err
	}
	n, err := tree(new)
	if err != nil {
		return nil, err
	}
	var d differ
	d.value("", o, n)
	return d.out, nil
}

// tree is the agreement's content as generic JSON values.
func tree(a *Agreement) (any, error) {
	b, err := a.Content()
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("agreement: reading content: %w", err)
	}
	return v, nil
}

// elementKeys are the members that name an element of a list of entries,
// tried in order.
var elementKeys = []string{"id", "workflow", "level", "node", "name"}

// documentOrder is the order of the top-level keys in the format.
var documentOrder = []string{"agreement", "title", "version", "supersedes", "validity", "parties", "rules", "deadlines", "escalation"}

type differ struct {
	out []Change
}

func (d *differ) add(kind ChangeKind, path, old, new string) {
	d.out = append(d.out, Change{Kind: kind, Section: section(path), Path: path, Old: old, New: new})
}

// section names the part of the agreement path is in.
func section(path string) string {
	top, rest, _ := strings.Cut(path, "[")
	top, _, _ = strings.Cut(top, ".")
	switch {
	case top == "parties" && strings.Contains(rest, ".declarations"):
		return "declarations"
	case top == "parties" && strings.Contains(rest, ".nodes"):
		return "nodes"
	case top == "validity", top == "parties", top == "rules", top == "deadlines", top == "escalation":
		return top
	}
	return "agreement"
}

func (d *differ) value(path string, o, n any) {
	switch ov := o.(type) {
	case map[string]any:
		if nv, ok := n.(map[string]any); ok {
			d.object(path, ov, nv)
			return
		}
	case []any:
		if nv, ok := n.([]any); ok {
			d.list(path, ov, nv)
			return
		}
	}
	if o == nil && n == nil {
		return
	}
	os, ns := text(o), text(n)
	switch {
	case o == nil:
		d.add(Added, path, "", ns)
	case n == nil:
		d.add(Removed, path, os, "")
	case os != ns:
		d.add(Changed, path, os, ns)
	}
}

func (d *differ) object(path string, o, n map[string]any) {
	for _, k := range keys(path, o, n) {
		p := k
		if path != "" {
			p = path + "." + k
		}
		ov, oin := o[k]
		nv, nin := n[k]
		switch {
		case oin && nin:
			d.value(p, ov, nv)
		case oin:
			d.absent(Removed, p, ov)
		default:
			d.absent(Added, p, nv)
		}
	}
}

// absent records a member present on one side only; a list or object is
// recorded element by element, so that a list that appears reads as the
// elements it adds.
func (d *differ) absent(kind ChangeKind, path string, v any) {
	var empty any
	switch v.(type) {
	case []any:
		empty = []any{}
	case map[string]any:
		empty = map[string]any{}
	}
	if kind == Added {
		d.value(path, empty, v)
	} else {
		d.value(path, v, empty)
	}
}

// keys are the members of o and n: at the top in the format's order,
// elsewhere sorted.
func keys(path string, o, n map[string]any) []string {
	var out []string
	seen := map[string]bool{}
	if path == "" {
		for _, k := range documentOrder {
			_, a := o[k]
			_, b := n[k]
			if a || b {
				out = append(out, k)
				seen[k] = true
			}
		}
	}
	var rest []string
	for _, m := range []map[string]any{o, n} {
		for k := range m {
			if !seen[k] {
				rest = append(rest, k)
				seen[k] = true
			}
		}
	}
	slices.Sort(rest)
	out = append(out, rest...)
	return out
}

// list compares a list of entries by their names, or a list of values as
// a set.
func (d *differ) list(path string, o, n []any) {
	if entries(o) && entries(n) && len(o)+len(n) > 0 {
		om, nm := map[string]any{}, map[string]any{}
		var order []string
		for _, side := range []struct {
			l []any
			m map[string]any
		}{{o, om}, {n, nm}} {
			for _, e := range side.l {
				id := entryName(e.(map[string]any))
				_, inO := om[id]
				_, inN := nm[id]
				if !inO && !inN {
					order = append(order, id)
				}
				side.m[id] = e
			}
		}
		for _, id := range order {
			p := path + "[" + id + "]"
			ov, oin := om[id]
			nv, nin := nm[id]
			switch {
			case oin && nin:
				d.value(p, ov, nv)
			case oin:
				d.add(Removed, path, id, "")
			default:
				d.add(Added, path, "", id)
			}
		}
		return
	}
	ot, nt := texts(o), texts(n)
	for _, v := range ot {
		if !slices.Contains(nt, v) {
			d.add(Removed, path, v, "")
		}
	}
	for _, v := range nt {
		if !slices.Contains(ot, v) {
			d.add(Added, path, "", v)
		}
	}
}

// entries reports whether every element of l is an entry with a name.
func entries(l []any) bool {
	for _, e := range l {
		m, ok := e.(map[string]any)
		if !ok || entryName(m) == "" {
			return false
		}
	}
	return true
}

// entryName is the value of the first of elementKeys the entry has.
func entryName(m map[string]any) string {
	for _, k := range elementKeys {
		if v, ok := m[k]; ok {
			return text(v)
		}
	}
	return ""
}

func texts(l []any) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = text(v)
	}
	return out
}

// text renders a JSON value for a change: scalars as they are, anything
// else as compact JSON.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

package agreement

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxSize is the largest agreement document Parse accepts. Real agreements
// are a few kilobytes; the cap bounds the work done on hostile input.
const MaxSize = 1 << 20

// Error is one problem in an agreement document. Line and Column locate it
// (1-based; 0 when the document has no such position), Path names the field
// ("parties[1].authorities[0].contact.hours"), Msg says what is wrong and
// Fix how to correct it.
type Error struct {
	Line, Column int
	Path         string
	Msg          string
	Fix          string
}

func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Line > 0 && e.Column > 0:
		fmt.Fprintf(&b, "%d:%d: ", e.Line, e.Column)
	case e.Line > 0: // YAML syntax errors locate only the line
		fmt.Fprintf(&b, "%d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Fix != "" {
		b.WriteString("; fix: ")
		b.WriteString(e.Fix)
	}
	return b.String()
}

// pos is a position in the YAML text.
type pos struct{ line, column int }

// positions maps a field path to where it was written.
type positions map[string]pos

// at returns the position of path, or of its nearest written ancestor when
// the field itself is missing.
func (p positions) at(path string) pos {
	for {
		if q, ok := p[path]; ok {
			return q
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return p[""]
		}
		path = path[:i]
	}
}

// Parse decodes and validates an agreement document. The error, if any,
// joins one *Error per problem found, in document order.
func Parse(data []byte) (*Agreement, error) {
	doc, err := parseNode(data)
	if err != nil {
		return nil, err
	}
	root := doc.Content[0]
	a := &Agreement{pos: positions{"": {root.Line, root.Column}}}
	if errs := check(root, reflect.TypeFor[Agreement](), "", a.pos); len(errs) > 0 {
		return nil, joinSorted(errs)
	}
	// The walk above has checked every key and scalar with its position;
	// decoding again with KnownFields is a second, independent guard.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(a); err != nil {
		return nil, &Error{Msg: err.Error(), Fix: "correct the document's structure"}
	}
	if errs := a.validate(); len(errs) > 0 {
		return nil, joinSorted(errs)
	}
	return a, nil
}

// parseNode parses data as exactly one YAML document whose root is a
// mapping, and returns the document node.
func parseNode(data []byte) (*yaml.Node, error) {
	if len(data) > MaxSize {
		return nil, &Error{Msg: fmt.Sprintf("document is %d bytes, more than the %d allowed", len(data), MaxSize),
			Fix: "an agreement is a few kilobytes; check that this is the right file"}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, &Error{Msg: "document is empty", Fix: "start from the example agreement"}
		}
		return nil, &Error{Line: yamlErrorLine(err), Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: "),
			Fix: "correct the YAML syntax at that line"}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, &Error{Line: extra.Line, Column: extra.Column, Msg: "more than one YAML document",
			Fix: "keep one agreement per file and remove the '---' separator"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &Error{Line: doc.Line, Column: doc.Column, Msg: "document is not a mapping",
			Fix: "start from the example agreement"}
	}
	return &doc, nil
}

// yamlErrorLine extracts the line number from a yaml syntax error ("yaml:
// line 3: ..."), which carries it only in its text.
func yamlErrorLine(err error) int {
	s, ok := strings.CutPrefix(err.Error(), "yaml: line ")
	if !ok {
		return 0
	}
	n, _, _ := strings.Cut(s, ":")
	line, _ := strconv.Atoi(n)
	return line
}

// check walks n against the Go type t, recording positions and reporting
// every unknown key and every value of the wrong kind with its position.
func check(n *yaml.Node, t reflect.Type, path string, ps positions) []error {
	ps[path] = pos{n.Line, n.Column}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return []error{errAt(n, path, "anchors and aliases are not allowed", "write the value out in full")}
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return []error{errAt(n, path, "expected a mapping of keys to values", "see the example agreement for this field's shape")}
		}
		var errs []error
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if seen[k.Value] {
				errs = append(errs, errAt(k, join(path, k.Value), fmt.Sprintf("key %q appears twice", k.Value),
					"keep one of them"))
				continue
			}
			seen[k.Value] = true
			f, ok := fieldByKey(t, k.Value)
			if k.Kind != yaml.ScalarNode || !ok {
				errs = append(errs, errAt(k, join(path, k.Value), fmt.Sprintf("unknown key %q", k.Value),
					unknownKeyFix(t, k.Value)))
				continue
			}
			ps[join(path, k.Value)] = pos{k.Line, k.Column}
			errs = append(errs, check(v, f.Type, join(path, k.Value), ps)...)
		}
		return errs
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return []error{errAt(n, path, "expected a list", "write the items as '- item' lines or as [a, b]")}
		}
		var errs []error
		for i, item := range n.Content {
			errs = append(errs, check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), ps)...)
		}
		return errs
	}
	if n.Kind != yaml.ScalarNode {
		return []error{errAt(n, path, "expected a single value", "write one value, not a list or mapping")}
	}
	if n.Tag == "!!null" {
		return []error{errAt(n, path, "has no value", "write the value after the colon")}
	}
	switch t.Kind() {
	case reflect.String:
		// A date is the one unquoted non-string YAML value kept as text.
		if n.Tag != "!!str" && !(t == reflect.TypeFor[Date]() && n.Tag == "!!timestamp") {
			return []error{errAt(n, path, fmt.Sprintf("%q is not text", n.Value), "put the value in quotes")}
		}
	case reflect.Int, reflect.Int64:
		if _, err := strconv.ParseInt(n.Value, 0, 64); n.Tag != "!!int" || err != nil {
			return []error{errAt(n, path, fmt.Sprintf("%q is not a whole number", n.Value), "write a decimal number without quotes")}
		}
	case reflect.Bool:
		if n.Tag != "!!bool" {
			return []error{errAt(n, path, fmt.Sprintf("%q is not true or false", n.Value), "write true or false without quotes")}
		}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func errAt(n *yaml.Node, path, msg, fix string) *Error {
	return &Error{Line: n.Line, Column: n.Column, Path: path, Msg: msg, Fix: fix}
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		if yamlKey(f) == key && f.IsExported() {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func yamlKey(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

// unknownKeyFix suggests the nearest known key, or lists them all.
func unknownKeyFix(t reflect.Type, key string) string {
	var known []string
	for f := range t.Fields() {
		if k := yamlKey(f); k != "" && k != "-" && f.IsExported() {
			known = append(known, k)
		}
	}
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(key, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("did you mean %q? the format defines only its own keys", best)
	}
	return "remove it; the keys allowed here are " + strings.Join(known, ", ")
}

// editDistance is the Levenshtein distance, used only to suggest a key.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func joinSorted(errs []error) error {
	slices.SortStableFunc(errs, func(x, y error) int {
		var a, b *Error
		errors.As(x, &a)
		errors.As(y, &b)
		if a == nil || b == nil {
			return 0
		}
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return errors.Join(errs...)
}

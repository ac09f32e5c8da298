package signature

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A SigmaRule is what ParseSigma reads of a Sigma rule.
type SigmaRule struct {
	ID, Title, Status, Level string
	// LogSource holds the logsource's category, product and service.
	LogSource map[string]string
	// Searches are the detection's search identifiers, in order.
	Searches []string
	// Conditions are the detection's conditions (one, or a list).
	Conditions []string
	Tags       []string
}

// ParseSigma reads one Sigma rule (a YAML document) and checks it against
// the Sigma specification (version 2): title, logsource and detection
// present and of the right shape, the optional fields of their types and
// values (id a UUID, status, level, date, tags, related), the search
// identifiers maps, lists of maps or lists of values, field names with
// modifiers Sigma defines, and each condition parsed, naming only search
// identifiers that exist.
func ParseSigma(src string) (*SigmaRule, error) {
	if err := tooLarge("sigma", src); err != nil {
		return nil, err
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(strings.NewReader(src))
	if err := dec.Decode(&doc); err != nil {
		return nil, sigmaYAMLError(src, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, sigmaAt(src, &extra, "more than one YAML document: give one Sigma rule per indicator")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errorAt("sigma", src, 0, "a Sigma rule is a YAML mapping (title:, logsource:, detection: …)")
	}
	s := &sigmaChecker{src: src}
	return s.rule(doc.Content[0])
}

type sigmaChecker struct{ src string }

func sigmaAt(src string, n *yaml.Node, format string, args ...any) error {
	off := offsetOf(src, n.Line, n.Column)
	return errorAt("sigma", src, off, format, args...)
}

// offsetOf turns a 1-based line and column into a byte offset.
func offsetOf(src string, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(src[off:], '\n')
		if i < 0 {
			return len(src)
		}
		off += i + 1
	}
	return min(len(src), off+max(col-1, 0))
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func sigmaYAMLError(src string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		fmt.Sscan(m[1], &line)
	}
	return errorAt("sigma", src, offsetOf(src, line, 1), "not valid YAML: %s", msg)
}

var (
	sigmaUUID     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	sigmaDate     = regexp.MustCompile(`^\d{4}[-/]\d{2}[-/]\d{2}$`)
	sigmaTag      = regexp.MustCompile(`^[a-z0-9_-]+\.[a-z0-9._-]+$`)
	sigmaStatus   = set("stable", "test", "experimental", "deprecated", "unsupported")
	sigmaLevel    = set("informational", "low", "medium", "high", "critical")
	sigmaRelation = set("derived", "obsolete", "merged", "renamed", "similar")
	// sigmaModifiers are the value modifiers of the Sigma specification's
	// appendix, and the regular expression flags.
	sigmaModifiers = set("contains", "all", "startswith", "endswith", "base64", "base64offset", "utf16le", "utf16be",
		"wide", "utf16", "windash", "re", "i", "m", "s", "cidr", "lt", "lte", "gt", "gte", "expand", "fieldref",
		"exists", "cased", "neq", "minute", "hour", "day", "week", "month", "year")
)

func (s *sigmaChecker) rule(m *yaml.Node) (*SigmaRule, error) {
	r := &SigmaRule{}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, sigmaAt(s.src, k, "a key must be a plain name")
		}
		if _, dup := seen[k.Value]; dup {
			return nil, sigmaAt(s.src, k, "%s is given twice", k.Value)
		}
		seen[k.Value] = v
	}
	for _, req := range []string{"title", "logsource", "detection"} {
		if seen[req] == nil {
			return nil, sigmaAt(s.src, m, "missing %s: a Sigma rule needs title, logsource and detection", req)
		}
	}
	var err error
	str := func(key string, dst *string, ok func(string) bool, want string) {
		v := seen[key]
		if v == nil || err != nil {
			return
		}
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			err = sigmaAt(s.src, v, "%s must be a string", key)
			return
		}
		if ok != nil && !ok(v.Value) {
			err = sigmaAt(s.src, v, "%s %q: want %s", key, v.Value, want)
			return
		}
		if dst != nil {
			*dst = v.Value
		}
	}
	str("title", &r.Title, func(t string) bool { return strings.TrimSpace(t) != "" && len(t) <= 256 }, "a non-empty title of at most 256 characters")
	str("id", &r.ID, sigmaUUID.MatchString, "a UUID")
	str("status", &r.Status, func(v string) bool { return sigmaStatus[v] }, "stable, test, experimental, deprecated or unsupported")
	str("level", &r.Level, func(v string) bool { return sigmaLevel[v] }, "informational, low, medium, high or critical")
	str("description", nil, nil, "")
	str("author", nil, nil, "")
	str("license", nil, nil, "")
	str("date", nil, sigmaDate.MatchString, "a date, YYYY-MM-DD")
	str("modified", nil, sigmaDate.MatchString, "a date, YYYY-MM-DD")
	if err != nil {
		return nil, err
	}
	for _, key := range []string{"references", "falsepositives", "fields", "tags"} {
		v := seen[key]
		if v == nil {
			continue
		}
		if v.Kind == yaml.ScalarNode && key == "falsepositives" {
			continue // a single string is allowed
		}
		if v.Kind != yaml.SequenceNode {
			return nil, sigmaAt(s.src, v, "%s must be a list", key)
		}
		for _, e := range v.Content {
			if e.Kind != yaml.ScalarNode {
				return nil, sigmaAt(s.src, e, "%s holds strings only", key)
			}
			if key == "tags" {
				if !sigmaTag.MatchString(e.Value) {
					return nil, sigmaAt(s.src, e, "tag %q: want namespace.name in lower case (attack.t1059, tlp.clear)", e.Value)
				}
				r.Tags = append(r.Tags, e.Value)
			}
		}
	}
	if v := seen["related"]; v != nil {
		if err := s.related(v); err != nil {
			return nil, err
		}
	}
	if err := s.logsource(seen["logsource"], r); err != nil {
		return nil, err
	}
	if err := s.detection(seen["detection"], r); err != nil {
		return nil, err
	}
	return r, nil
}

func (s *sigmaChecker) related(v *yaml.Node) error {
	if v.Kind != yaml.SequenceNode {
		return sigmaAt(s.src, v, "related must be a list of {id, type}")
	}
	for _, e := range v.Content {
		if e.Kind != yaml.MappingNode {
			return sigmaAt(s.src, e, "each related entry is a mapping with id and type")
		}
		got := map[string]string{}
		for i := 0; i+1 < len(e.Content); i += 2 {
			got[e.Content[i].Value] = e.Content[i+1].Value
		}
		if !sigmaUUID.MatchString(got["id"]) {
			return sigmaAt(s.src, e, "related id %q: want a UUID", got["id"])
		}
		if !sigmaRelation[got["type"]] {
			return sigmaAt(s.src, e, "related type %q: want derived, obsolete, merged, renamed or similar", got["type"])
		}
	}
	return nil
}

func (s *sigmaChecker) logsource(v *yaml.Node, r *SigmaRule) error {
	if v.Kind != yaml.MappingNode {
		return sigmaAt(s.src, v, "logsource must be a mapping of category, product, service")
	}
	r.LogSource = map[string]string{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		if val.Kind != yaml.ScalarNode {
			return sigmaAt(s.src, val, "logsource %s must be a string", k.Value)
		}
		r.LogSource[k.Value] = val.Value
	}
	if r.LogSource["category"] == "" && r.LogSource["product"] == "" && r.LogSource["service"] == "" {
		return sigmaAt(s.src, v, "logsource names none of category, product and service")
	}
	return nil
}

func (s *sigmaChecker) detection(v *yaml.Node, r *SigmaRule) error {
	if v.Kind != yaml.MappingNode {
		return sigmaAt(s.src, v, "detection must be a mapping of search identifiers and a condition")
	}
	var cond *yaml.Node
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		switch k.Value {
		case "condition":
			cond = val
			continue
		case "timeframe":
			continue
		}
		if !isSigmaIdent(k.Value) {
			return sigmaAt(s.src, k, "search identifier %q: use letters, digits and _", k.Value)
		}
		if err := s.search(val); err != nil {
			return err
		}
		r.Searches = append(r.Searches, k.Value)
	}
	if cond == nil {
		return sigmaAt(s.src, v, "detection has no condition")
	}
	if len(r.Searches) == 0 {
		return sigmaAt(s.src, v, "detection has no search identifier")
	}
	conds := []*yaml.Node{cond}
	if cond.Kind == yaml.SequenceNode {
		conds = cond.Content
	}
	for _, c := range conds {
		if c.Kind != yaml.ScalarNode {
			return sigmaAt(s.src, c, "a condition is a string")
		}
		p := &condParser{src: c.Value, searches: r.Searches}
		if err := p.parse(); err != nil {
			// Point into the condition when it is written on its line.
			off := offsetOf(s.src, c.Line, c.Column)
			if c.Style == yaml.DoubleQuotedStyle || c.Style == yaml.SingleQuotedStyle {
				off++
			}
			if c.Style == 0 || c.Style == yaml.DoubleQuotedStyle || c.Style == yaml.SingleQuotedStyle {
				off += p.errPos
			}
			return errorAt("sigma", s.src, off, "condition: %v", err)
		}
		r.Conditions = append(r.Conditions, c.Value)
	}
	return nil
}

func isSigmaIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// search checks a search identifier's body: a map of fields, a list of
// such maps (any of them), or a list of values (keywords).
func (s *sigmaChecker) search(v *yaml.Node) error {
	switch v.Kind {
	case yaml.MappingNode:
		return s.fields(v)
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			return sigmaAt(s.src, v, "an empty list matches nothing")
		}
		maps := v.Content[0].Kind == yaml.MappingNode
		for _, e := range v.Content {
			if (e.Kind == yaml.MappingNode) != maps {
				return sigmaAt(s.src, e, "a search list holds either field maps or plain values, not both")
			}
			if maps {
				if err := s.fields(e); err != nil {
					return err
				}
			} else if e.Kind != yaml.ScalarNode {
				return sigmaAt(s.src, e, "a keyword must be a plain value")
			}
		}
		return nil
	case yaml.ScalarNode:
		return nil // a single keyword
	}
	return sigmaAt(s.src, v, "a search identifier holds a map of fields or a list")
}

func (s *sigmaChecker) fields(m *yaml.Node) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		parts := strings.Split(k.Value, "|")
		for _, mod := range parts[1:] {
			if !sigmaModifiers[mod] {
				return sigmaAt(s.src, k, "field %q: unknown modifier %q", k.Value, mod)
			}
		}
		switch v.Kind {
		case yaml.ScalarNode:
		case yaml.SequenceNode:
			for _, e := range v.Content {
				if e.Kind != yaml.ScalarNode {
					return sigmaAt(s.src, e, "field %s: a list of values holds plain values", parts[0])
				}
			}
		default:
			return sigmaAt(s.src, v, "field %s: want a value or a list of values", parts[0])
		}
		if len(parts) > 1 && parts[1] == "re" {
			vals := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				vals = v.Content
			}
			for _, e := range vals {
				if _, err := regexp.Compile(e.Value); err != nil && !strings.Contains(err.Error(), "invalid or unsupported Perl syntax") {
					return sigmaAt(s.src, e, "field %s: not a regular expression: %v", parts[0], err)
				}
			}
		}
	}
	return nil
}

// condParser parses a Sigma condition:
//
//	expr    = and { "or" and }
//	and     = not { "and" not }
//	not     = "not" not | primary
//	primary = "(" expr ")" | ("1" | "all" | "any") "of" (pattern | "them") | identifier
//
// Keywords are case-insensitive; a pattern is an identifier with *
// wildcards, and must match at least one search identifier.
type condParser struct {
	src      string
	searches []string
	toks     []condTok
	i        int
	errPos   int
}

type condTok struct {
	text string
	pos  int
}

func (p *condParser) fail(pos int, format string, args ...any) error {
	p.errPos = pos
	return fmt.Errorf(format, args...)
}

func (p *condParser) parse() error {
	for i := 0; i < len(p.src); {
		c := p.src[i]
		switch {
		case isSpace(c):
			i++
		case c == '(' || c == ')':
			p.toks = append(p.toks, condTok{p.src[i : i+1], i})
			i++
		case c == '|':
			return p.fail(i, "aggregations (| count() …) were removed in Sigma 2; use a correlation rule")
		default:
			j := i
			for j < len(p.src) && !isSpace(p.src[j]) && p.src[j] != '(' && p.src[j] != ')' && p.src[j] != '|' {
				j++
			}
			p.toks = append(p.toks, condTok{p.src[i:j], i})
			i = j
		}
	}
	if len(p.toks) == 0 {
		return p.fail(0, "empty condition")
	}
	if err := p.expr(0); err != nil {
		return err
	}
	if p.i < len(p.toks) {
		t := p.toks[p.i]
		return p.fail(t.pos, "unexpected %q; join expressions with and/or", t.text)
	}
	return nil
}

const maxCondDepth = 64

func (p *condParser) peek() string {
	if p.i < len(p.toks) {
		return strings.ToLower(p.toks[p.i].text)
	}
	return ""
}

func (p *condParser) expr(depth int) error {
	if depth > maxCondDepth {
		return p.fail(p.pos(), "the condition nests too deeply")
	}
	if err := p.and(depth); err != nil {
		return err
	}
	for p.peek() == "or" {
		p.i++
		if err := p.and(depth); err != nil {
			return err
		}
	}
	return nil
}

func (p *condParser) and(depth int) error {
	if err := p.not(depth); err != nil {
		return err
	}
	for p.peek() == "and" {
		p.i++
		if err := p.not(depth); err != nil {
			return err
		}
	}
	return nil
}

func (p *condParser) not(depth int) error {
	if p.peek() == "not" {
		p.i++
		if depth > maxCondDepth {
			return p.fail(p.pos(), "the condition nests too deeply")
		}
		return p.not(depth + 1)
	}
	return p.primary(depth)
}

func (p *condParser) pos() int {
	if p.i < len(p.toks) {
		return p.toks[p.i].pos
	}
	return len(p.src)
}

func (p *condParser) primary(depth int) error {
	if p.i >= len(p.toks) {
		return p.fail(len(p.src), "the condition ends early; want a search identifier, ( or 1 of/all of")
	}
	t := p.toks[p.i]
	low := strings.ToLower(t.text)
	switch {
	case low == "(":
		p.i++
		if err := p.expr(depth + 1); err != nil {
			return err
		}
		if p.peek() != ")" {
			return p.fail(p.pos(), "missing )")
		}
		p.i++
		return nil
	case low == ")" || low == "and" || low == "or" || low == "of" || low == "them":
		return p.fail(t.pos, "unexpected %q; want a search identifier, ( or 1 of/all of", t.text)
	case (low == "1" || low == "all" || low == "any") && p.i+1 < len(p.toks) && strings.ToLower(p.toks[p.i+1].text) == "of":
		p.i += 2
		if p.i >= len(p.toks) {
			return p.fail(len(p.src), "%s of what? want them or a search identifier pattern", t.text)
		}
		target := p.toks[p.i]
		p.i++
		if strings.ToLower(target.text) == "them" {
			return nil
		}
		if !p.matches(target.text) {
			return p.fail(target.pos, "%q matches no search identifier", target.text)
		}
		return nil
	}
	if strings.Contains(t.text, "*") {
		return p.fail(t.pos, "%q: a wildcard needs 1 of or all of before it", t.text)
	}
	if !p.matches(t.text) {
		return p.fail(t.pos, "%q is not a search identifier of this rule's detection", t.text)
	}
	p.i++
	return nil
}

func (p *condParser) matches(pattern string) bool {
	for _, s := range p.searches {
		if ok, _ := path.Match(pattern, s); ok {
			return true
		}
	}
	return false
}

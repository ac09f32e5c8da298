package pattern

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// lines returns the non-blank, non-comment lines of a testdata file.
func lines(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// stripPositions zeroes every source offset and compiled field, leaving
// only what String prints, so that trees parsed from different spellings
// can be compared.
func stripPositions(p *Pattern) *Pattern {
	var obs func(ObservationExpr)
	var cmp func(ComparisonExpr)
	cmp = func(e ComparisonExpr) {
		switch e := e.(type) {
		case *ComparisonBinary:
			e.OpOffset = 0
			cmp(e.Left)
			cmp(e.Right)
		case *Comparison:
			e.Offset, e.Path.Offset, e.re, e.pcre, e.canonLike = 0, 0, nil, nil, nil
			e.hexProp, e.binProp = false, false
		}
	}
	obs = func(e ObservationExpr) {
		switch e := e.(type) {
		case *ObservationSimple:
			e.Offset = 0
			cmp(e.Comparison)
		case *ObservationBinary:
			e.OpOffset = 0
			obs(e.Left)
			obs(e.Right)
		case *ObservationQualified:
			switch q := e.Qualifier.(type) {
			case *Repeats:
				q.Offset = 0
			case *Within:
				q.Offset = 0
			case *StartStop:
				q.Offset = 0
			}
			obs(e.Expr)
		}
	}
	obs(p.Expr)
	return p
}

// checkRoundTrip asserts that the canonical form of p parses to the same
// tree and prints identically.
func checkRoundTrip(t *testing.T, src string, p *Pattern) {
	t.Helper()
	canon := p.String()
	q, err := Parse(canon)
	if err != nil {
		t.Fatalf("canonical form of %q does not parse: %q: %v", src, canon, err)
	}
	if again := q.String(); again != canon {
		t.Fatalf("printing is not stable for %q:\n first %s\nsecond %s", src, canon, again)
	}
	if !reflect.DeepEqual(stripPositions(p), stripPositions(q)) {
		t.Fatalf("canonical form of %q parses to a different tree: %s", src, canon)
	}
}

func TestCanonical(t *testing.T) {
	var got strings.Builder
	for _, src := range lines(t, "valid.txt") {
		p, err := Parse(src)
		if err != nil {
			t.Errorf("Parse(%q): %v", src, err)
			continue
		}
		checkRoundTrip(t, src, p)
		got.WriteString(p.String())
		got.WriteByte('\n')
	}
	golden := filepath.Join("testdata", "valid.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestCanonical -update to create it)", err)
	}
	if got.String() != string(want) {
		t.Errorf("canonical forms differ from %s (run with -update after checking):\n%s", golden, got.String())
	}
}

func TestParseErrors(t *testing.T) {
	for _, l := range lines(t, "errors.txt") {
		fields := strings.Split(l, "\t")
		if len(fields) != 3 {
			t.Fatalf("errors.txt: malformed line %q", l)
		}
		src, wantMsg := fields[0], fields[2]
		wantPos, err := strconv.Atoi(fields[1])
		if err != nil {
			t.Fatalf("errors.txt: bad position in %q", l)
		}
		_, err = Parse(src)
		var perr *Error
		if !errors.As(err, &perr) {
			t.Errorf("Parse(%q) = %v, want an *Error", src, err)
			continue
		}
		if perr.Pos != wantPos || !strings.Contains(perr.Msg, wantMsg) {
			t.Errorf("Parse(%q):\n got %v\nwant position %d: …%s…", src, err, wantPos, wantMsg)
		}
		if !strings.HasPrefix(err.Error(), "position "+strconv.Itoa(wantPos)+": ") {
			t.Errorf("Parse(%q) error text %q does not lead with its position", src, err)
		}
	}
}

// matchCase is one file of testdata/match: a bundle and patterns with the
// expected outcome.
type matchCase struct {
	bundle   string
	patterns []matchLine
}

type matchLine struct {
	want    bool
	pattern string
	line    int
}

func readMatchCase(t *testing.T, path string) matchCase {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mc      matchCase
		section string
		bundle  strings.Builder
	)
	for i, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "-- ") && strings.HasSuffix(l, " --") {
			section = strings.TrimSuffix(strings.TrimPrefix(l, "-- "), " --")
			continue
		}
		switch section {
		case "bundle.json":
			bundle.WriteString(l)
			bundle.WriteByte('\n')
		case "patterns":
			if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
				continue
			}
			verdict, pat, ok := strings.Cut(l, " ")
			if !ok || verdict != "match" && verdict != "nomatch" {
				t.Fatalf("%s:%d: want \"match PATTERN\" or \"nomatch PATTERN\"", path, i+1)
			}
			mc.patterns = append(mc.patterns, matchLine{want: verdict == "match", pattern: strings.TrimSpace(pat), line: i + 1})
		}
	}
	mc.bundle = bundle.String()
	if mc.bundle == "" || len(mc.patterns) == 0 {
		t.Fatalf("%s: needs a bundle.json and a patterns section", path)
	}
	return mc
}

func TestMatchData(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "match", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no match cases: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			mc := readMatchCase(t, path)
			obs, err := ObservationsFromBundle([]byte(mc.bundle))
			if err != nil {
				t.Fatal(err)
			}
			for _, pl := range mc.patterns {
				p, err := Parse(pl.pattern)
				if err != nil {
					t.Errorf("%s:%d: %v", path, pl.line, err)
					continue
				}
				res, got := p.Match(obs)
				if got != pl.want {
					t.Errorf("%s:%d: Match(%s) = %v, want %v (truncated %v)", path, pl.line, pl.pattern, got, pl.want, res.Truncated)
					continue
				}
				if got {
					checkBindings(t, p, obs, res)
				}
				if len(obs) == 1 {
					if one := p.MatchOne(&obs[0]); one != pl.want {
						t.Errorf("%s:%d: MatchOne(%s) = %v, want %v", path, pl.line, pl.pattern, one, pl.want)
					}
				}
				// The canonical form must mean the same.
				q, err := Parse(p.String())
				if err != nil {
					t.Errorf("%s:%d: canonical %s: %v", path, pl.line, p, err)
					continue
				}
				if _, again := q.Match(obs); again != got {
					t.Errorf("%s:%d: canonical %s matches %v, original %v", path, pl.line, q, again, got)
				}
			}
		})
	}
}

// checkBindings verifies that every binding names an observation and root
// that really satisfy its simple expression.
func checkBindings(t *testing.T, p *Pattern, obs []Observation, res Result) {
	t.Helper()
	if len(res.Bindings) == 0 {
		t.Errorf("Match(%s) matched with no bindings", p)
	}
	for _, b := range res.Bindings {
		o := &obs[b.Observation]
		if !EvalComparison(b.Expr.Comparison, o, o.Objects[b.Root]) {
			t.Errorf("Match(%s): binding %s/%s does not satisfy %v", p, o.ID, b.Root, b.Expr.Comparison)
		}
	}
}

func TestBindingsCountRepeats(t *testing.T) {
	mc := readMatchCase(t, filepath.Join("testdata", "match", "temporal.txt"))
	obs, err := ObservationsFromBundle([]byte(mc.bundle))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse("[domain-name:value = 'example.com'] REPEATS 4 TIMES")
	if err != nil {
		t.Fatal(err)
	}
	res, ok := p.Match(obs)
	if !ok {
		t.Fatal("no match")
	}
	uses := map[string]int{}
	for _, b := range res.Bindings {
		uses[obs[b.Observation].ID]++
	}
	want := map[string]int{
		"observed-data--00000000-0000-4000-8000-000000000003": 3,
		"observed-data--00000000-0000-4000-8000-000000000004": 1,
	}
	if !reflect.DeepEqual(uses, want) {
		t.Errorf("bindings use observations %v, want %v (number_observed caps each)", uses, want)
	}
}

func TestObservationsFromBundleErrors(t *testing.T) {
	od := func(extra string) string {
		return `{"type":"bundle","id":"bundle--1","objects":[{"type":"observed-data","id":"observed-data--1",` +
			`"first_observed":"2020-01-01T00:00:00Z","last_observed":"2020-01-01T00:00:00Z"` + extra + `}]}`
	}
	tests := []struct {
		name, bundle, want string
	}{
		{"not json", `{`, "invalid JSON"},
		{"not a bundle", `{"type":"indicator"}`, `type is "indicator"`},
		{"no observed-data", `{"type":"bundle","objects":[{"type":"file","id":"file--1"}]}`, "no observed-data"},
		{"missing id", `{"type":"bundle","objects":[{"type":"file"}]}`, "missing string id"},
		{"no count", od(`,"object_refs":[]`), "number_observed must be"},
		{"zero count", od(`,"number_observed":0,"object_refs":[]`), "number_observed must be"},
		{"huge count", od(`,"number_observed":1000000000,"object_refs":[]`), "number_observed must be"},
		{"dangling ref", od(`,"number_observed":1,"object_refs":["file--9"]`), `object_refs[0] "file--9" is not in the bundle`},
		{"no objects", od(`,"number_observed":1`), "neither object_refs nor objects"},
		{"bad embedded", od(`,"number_observed":1,"objects":{"0":5}`), `objects["0"] is not a JSON object`},
		{"bad time", `{"type":"bundle","objects":[{"type":"observed-data","id":"observed-data--1","first_observed":"yesterday"}]}`, "first_observed"},
		{"reversed window", `{"type":"bundle","objects":[{"type":"observed-data","id":"observed-data--1","first_observed":"2020-01-02T00:00:00Z","last_observed":"2020-01-01T00:00:00Z","number_observed":1,"object_refs":[]}]}`, "last_observed is before first_observed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ObservationsFromBundle([]byte(tt.bundle))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestWorkIsBounded feeds patterns whose naive evaluation explodes.
func TestWorkIsBounded(t *testing.T) {
	objs := map[string]map[string]any{"x": {"type": "a", "b": 1.0}}
	one := []Observation{{Count: 999_999_999, Objects: objs, Roots: []string{"x"}}}
	// Half a billion repetitions of one observed-data cost a few dozen
	// joins, not half a billion.
	p, err := Parse("[a:b = 1] REPEATS 500000000 TIMES")
	if err != nil {
		t.Fatal(err)
	}
	res, ok := p.Match(one)
	if !ok {
		t.Errorf("Match(%s) = false on number_observed 999999999", p)
	}
	if len(res.Bindings) != MaxReported {
		t.Errorf("Match(%s) reported %d bindings, want MaxReported", p, len(res.Bindings))
	}
	if p, _ := Parse("[a:b = 1] REPEATS 1000000000 TIMES"); p.MatchOne(&one[0]) {
		t.Errorf("Match(%s) = true with only 999999999 observations", p)
	}

	// 200 candidates on each side of every AND make the pairs explode; the
	// search must stop at its caps and say so.
	many := make([]Observation, 200)
	for i := range many {
		many[i] = Observation{Count: 999_999_999, Objects: objs, Roots: []string{"x"}}
	}
	p, err = Parse("[a:b = 1] AND [a:b = 1] AND [a:b = 1] AND [a:b = 1] AND [a:b = 2]")
	if err != nil {
		t.Fatal(err)
	}
	if res, ok := p.Match(many); ok || !res.Truncated {
		t.Errorf("Match(%s) = %v, truncated %v; want false, truncated", p, ok, res.Truncated)
	}
}

func TestDeepNesting(t *testing.T) {
	deep := strings.Repeat("(", maxDepth+1) + "[a:b = 1]" + strings.Repeat(")", maxDepth+1)
	var perr *Error
	if _, err := Parse(deep); !errors.As(err, &perr) || !strings.Contains(perr.Msg, "nested more than") {
		t.Errorf("Parse(deep) = %v, want a nesting error", err)
	}
	ok := strings.Repeat("(", maxDepth-1) + "[a:b = 1]" + strings.Repeat(")", maxDepth-1)
	if _, err := Parse(ok); err != nil {
		t.Errorf("Parse(%d levels) = %v", maxDepth-1, err)
	}
}

// TestPCREBudget runs catastrophic backtracking expressions, as many as a
// pattern may hold, on a long value: the evaluation must end within the
// budgets (with a wide margin for a loaded machine), not run for ages.
func TestPCREBudget(t *testing.T) {
	exprs := []string{`^(a+)+\\1?b`, `^(a|a?)+(?=b)`, `^(?:(a)|a)+\\1?(?!a)b`, `(a*)*\\1c`}
	var cmps []string
	for i := range MaxBacktracking {
		cmps = append(cmps, "x:v MATCHES '"+exprs[i%len(exprs)]+"'")
	}
	p, err := Parse("[" + strings.Join(cmps, " OR ") + "]")
	if err != nil {
		t.Fatal(err)
	}
	o := &Observation{Objects: map[string]map[string]any{"r": {"type": "x", "v": strings.Repeat("a", 5000) + "!"}}, Roots: []string{"r"}}
	start := time.Now()
	if p.MatchOne(o) {
		t.Errorf("%s matched", p)
	}
	if took, limit := time.Since(start), 20*MaxBacktracking*PCREBudget; took > limit {
		t.Errorf("evaluation took %v, beyond %v", took, limit)
	}
}

func TestPCREScanIgnoresEscapesAndClasses(t *testing.T) {
	for _, re := range []string{`\(?=x\)`, `[(?=]`, `a\+\+`, `[a++]`, `\Q(?=\E`, `(?i)x`, `(?P<n>x)`, `(?<n>x)`, `(?:x)+`, `[]a]+`, `a}+`, `[[:alpha:]\]]+`} {
		if sc := scanPCRE(re); sc.pcre != "" || sc.unsupported != "" {
			t.Errorf("scanPCRE(%q) found %q / %q, want nothing", re, sc.pcre, sc.unsupported)
		}
	}
}

func TestWithinDuration(t *testing.T) {
	tests := []struct {
		c    Constant
		want string
	}{
		{Constant{Kind: KindInt, Int: 300}, "5m0s"},
		{Constant{Kind: KindFloat, Float: 0.5}, "500ms"},
		{Constant{Kind: KindFloat, Float: 1e300}, "2562047h47m16.854775807s"},
	}
	for _, tt := range tests {
		if got := (&Within{Seconds: tt.c}).Duration().String(); got != tt.want {
			t.Errorf("Within{%v}.Duration() = %s, want %s", tt.c, got, tt.want)
		}
	}
}

// TestNumberRepresentations checks exact comparison across the ways a
// number reaches the evaluator: json.Number (ObservationsFromBundle),
// float64 (plain encoding/json) and Go integers (hand-built observations).
func TestNumberRepresentations(t *testing.T) {
	tests := []struct {
		pattern string
		value   any
		want    bool
	}{
		{"[x:n = 9007199254740993]", json.Number("9007199254740993"), true},
		{"[x:n = 9007199254740992]", json.Number("9007199254740993"), false},
		{"[x:n = 9007199254740992.0]", json.Number("9007199254740993"), false},
		{"[x:n > 9007199254740992.0]", json.Number("9007199254740993"), true},
		{"[x:n = 1.5]", json.Number("1.5"), true},
		{"[x:n = 1000]", json.Number("1e3"), true},
		{"[x:n = 3]", 3.0, true},
		{"[x:n < 3]", 2.999, true},
		{"[x:n = 3]", 3.0000001, false},
		{"[x:n >= -9223372036854775808]", -9.3e18, false},
		{"[x:n < -9223372036854775808]", -9.3e18, true},
		{"[x:n > 9223372036854775807]", 1e19, true},
		{"[x:n = 443]", 443, true},
		{"[x:n = 443.0]", int64(443), true},
		{"[x:n != 443]", uint8(1), true}, // an unsupported Go type is incompatible
		{"[x:n = 443]", uint8(1), false},
	}
	for _, tt := range tests {
		p, err := Parse(tt.pattern)
		if err != nil {
			t.Fatalf("Parse(%s): %v", tt.pattern, err)
		}
		o := &Observation{Objects: map[string]map[string]any{"r": {"type": "x", "n": tt.value}}, Roots: []string{"r"}}
		if got := p.MatchOne(o); got != tt.want {
			t.Errorf("%s on %T(%v) = %v, want %v", tt.pattern, tt.value, tt.value, got, tt.want)
		}
	}
}

// TestHandBuiltComparison checks that a Comparison assembled without Parse,
// and so without compiled forms, evaluates to false instead of panicking.
func TestHandBuiltComparison(t *testing.T) {
	o := &Observation{Objects: map[string]map[string]any{"r": {"type": "x", "v": "10.0.0.1"}}, Roots: []string{"r"}}
	for _, op := range []Operator{OpMatches, OpLike, OpIsSubset, OpIsSuperset} {
		c := &Comparison{Path: ObjectPath{Type: "x", Steps: []PathStep{{Kind: StepKey, Key: "v"}}}, Op: op, Value: Constant{Kind: KindString, Str: "10.0.0.0/8"}}
		p := &Pattern{Expr: &ObservationSimple{Comparison: c}}
		if p.MatchOne(o) {
			t.Errorf("hand-built %v comparison matched", op)
		}
	}
}

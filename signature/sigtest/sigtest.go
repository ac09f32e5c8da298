// Package sigtest runs the rule languages' own tools on rules, for tests:
// YARA's compiler (yarac, Debian's yara package) and the rule parser of
// suricata-update (Debian's suricata-update package, a Python module).
//
// A test that needs a tool asks for it with [Yarac] or [SuricataUpdate].
// When the tool is missing the test is skipped, saying what to install;
// when ENTENTE_TEST_TOOLS is set, as CI sets it after installing the tools
// (.ci/tools), a missing tool fails the test instead.
package sigtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/entente/entente/signature"
)

// missing skips t, or fails it when ENTENTE_TEST_TOOLS is set.
func missing(t testing.TB, tool, pkg string, err error) {
	t.Helper()
	msg := fmt.Sprintf("%s is not available (%v); install Debian's %s package (.ci/tools does)", tool, err, pkg)
	if os.Getenv("ENTENTE_TEST_TOOLS") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// A YaracTool compiles YARA sources with YARA's own compiler.
type YaracTool struct {
	path    string
	dir     string
	Version string // as yarac --version prints it, e.g. "4.2.3"
}

// Yarac finds yarac on PATH.
func Yarac(t testing.TB) *YaracTool {
	t.Helper()
	path, err := exec.LookPath("yarac")
	if err != nil {
		missing(t, "yarac", "yara", err)
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		missing(t, "yarac", "yara", err)
	}
	return &YaracTool{path: path, dir: t.TempDir(), Version: strings.TrimSpace(string(out))}
}

// AtLeast reports whether the compiler's version is at least major.minor.
func (y *YaracTool) AtLeast(major, minor int) bool {
	parts := strings.SplitN(y.Version, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	return err1 == nil && err2 == nil && (ma > major || ma == major && mi >= minor)
}

// Compile compiles src, written to a file of its own, and returns nil when
// yarac accepts it, or yarac's messages. It may be called from several
// goroutines at once.
func (y *YaracTool) Compile(src string) error {
	f, err := os.CreateTemp(y.dir, "rules-*.yar")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(src); err != nil {
		f.Close()
		return err
	}
	f.Close()
	out, err := exec.Command(y.path, f.Name(), os.DevNull).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("yarac: %s", bytes.TrimSpace(out))
	}
	return err
}

// A ParsedRule is what suricata-update's parser (suricata.update.rule.parse)
// read of one rule.
type ParsedRule struct {
	Enabled                           bool
	Action, Proto                     string
	SourceAddr, SourcePort, Direction string `json:"-"`
	DestAddr, DestPort                string `json:"-"`
	SID, GID, Rev                     int
	Msg                               string
	Metadata                          []string
	Keys                              []string // the options it stored by name
	Header                            map[string]string
	Error                             string // the exception it raised, if any
	Unparsed                          bool   // parse returned None
}

// A SuricataUpdateTool runs suricata-update's rule parser.
type SuricataUpdateTool struct{ python string }

// SuricataUpdate finds a Python 3 that imports suricata.update.rule: the
// one on PATH, or Debian's, where its python3 packages are installed.
func SuricataUpdate(t testing.TB) *SuricataUpdateTool {
	t.Helper()
	var last error = errors.New("no python3")
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		if out, err := exec.Command(path, "-c", "import suricata.update.rule").CombinedOutput(); err != nil {
			last = fmt.Errorf("%s: %s", path, bytes.TrimSpace(out))
			continue
		}
		return &SuricataUpdateTool{python: path}
	}
	missing(t, "suricata-update's Python rule parser", "suricata-update", last)
	return nil
}

// parseScript reads one rule per line of standard input and writes, per
// rule, one JSON line of what suricata.update.rule.parse made of it.
const parseScript = `
import json, sys
from suricata.update import rule
defaults = set(rule.Rule().keys())
for line in sys.stdin:
    line = line.rstrip("\n")
    try:
        r = rule.parse(line)
    except Exception as e:
        print(json.dumps({"Error": "%s: %s" % (type(e).__name__, e)}))
        continue
    if r is None:
        print(json.dumps({"Unparsed": True}))
        continue
    print(json.dumps({
        "Enabled": bool(r["enabled"]), "Action": r["action"], "Proto": r["proto"] or "",
        "Header": {"source_addr": r["source_addr"] or "", "source_port": r["source_port"] or "",
                   "direction": r["direction"] or "", "dest_addr": r["dest_addr"] or "", "dest_port": r["dest_port"] or ""},
        "SID": r["sid"], "GID": int(r["gid"]), "Rev": int(r["rev"]), "Msg": r["msg"], "Metadata": r["metadata"],
        "Keys": sorted(k for k in r.keys() if k not in defaults and k != "header"),
    }))
`

// Parse parses each rule (one line each) with suricata-update's parser.
func (s *SuricataUpdateTool) Parse(rules []string) ([]ParsedRule, error) {
	for i, r := range rules {
		if strings.ContainsAny(r, "\r\n") {
			return nil, fmt.Errorf("rule %d spans lines; give one rule per line", i)
		}
	}
	cmd := exec.Command(s.python, "-c", parseScript)
	cmd.Stdin = strings.NewReader(strings.Join(rules, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("suricata-update's parser: %v: %s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(rules) {
		return nil, fmt.Errorf("suricata-update's parser answered %d lines for %d rules", len(lines), len(rules))
	}
	parsed := make([]ParsedRule, len(rules))
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &parsed[i]); err != nil {
			return nil, fmt.Errorf("rule %d: %v: %s", i, err, l)
		}
		h := parsed[i].Header
		parsed[i].SourceAddr, parsed[i].SourcePort, parsed[i].Direction = h["source_addr"], h["source_port"], h["direction"]
		parsed[i].DestAddr, parsed[i].DestPort = h["dest_addr"], h["dest_port"]
	}
	return parsed, nil
}

// spaces are left out when address and port lists are compared: ours keeps
// a list as written, suricata-update's header splitting may not.
var spaces = regexp.MustCompile(`\s+`)

// CheckSuricata parses src (Suricata rules, one a line, # comments) with
// both parsers and reports every rule on which suricata-update's parser
// fails, or reads another header, sid, rev, msg, metadata or set of options
// than signature.ParseSuricata. It returns the rules it compared.
func (s *SuricataUpdateTool) CheckSuricata(t testing.TB, src string) int {
	t.Helper()
	ours, err := signature.ParseSuricata(src)
	if err != nil {
		t.Errorf("signature.ParseSuricata: %v", err)
		return 0
	}
	texts := make([]string, len(ours))
	for i, r := range ours {
		texts[i] = r.Text
	}
	theirs, err := s.Parse(texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range ours {
		th := theirs[i]
		if th.Error != "" || th.Unparsed {
			t.Errorf("line %d: suricata-update does not parse the rule (%s%v):\n%s", o.Line, th.Error, map[bool]string{true: "no rule"}[th.Unparsed], o.Text)
			continue
		}
		var diffs []string
		diff := func(what string, theirs, ours any) {
			if fmt.Sprint(theirs) != fmt.Sprint(ours) {
				diffs = append(diffs, fmt.Sprintf("%s: suricata-update %q, ours %q", what, fmt.Sprint(theirs), fmt.Sprint(ours)))
			}
		}
		noSpace := func(s string) string { return spaces.ReplaceAllString(s, "") }
		diff("enabled", th.Enabled, true)
		diff("action", th.Action, o.Action)
		diff("protocol", th.Proto, o.Protocol)
		diff("source", noSpace(th.SourceAddr), noSpace(o.Source))
		diff("source port", noSpace(th.SourcePort), noSpace(o.SourcePort))
		diff("direction", th.Direction, o.Direction)
		diff("destination", noSpace(th.DestAddr), noSpace(o.Dest))
		diff("destination port", noSpace(th.DestPort), noSpace(o.DestPort))
		diff("sid", th.SID, o.SID())
		if rev, ok := o.Value("rev"); ok {
			diff("rev", th.Rev, rev)
		}
		if msg, ok := o.Value("msg"); ok {
			diff("msg", th.Msg, strings.TrimSuffix(strings.TrimPrefix(msg, `"`), `"`))
		}
		var meta []string
		keys := map[string]bool{}
		for _, opt := range o.Options {
			if opt.Keyword == "metadata" {
				for m := range strings.SplitSeq(opt.Value, ",") {
					meta = append(meta, strings.TrimSpace(m))
				}
			}
			keys[opt.Keyword] = true
		}
		diff("metadata", th.Metadata, meta)
		// Options suricata-update keeps under their own name: every one
		// but those it files elsewhere (reference into a list).
		delete(keys, "reference")
		for _, k := range []string{"sid", "rev", "gid", "msg", "metadata", "flowbits", "classtype", "priority", "noalert"} {
			delete(keys, k)
		}
		diff("options", th.Keys, slices.Sorted(func(yield func(string) bool) {
			for k := range keys {
				if !yield(k) {
					return
				}
			}
		}))
		if len(diffs) > 0 {
			t.Errorf("line %d: the parsers differ:\n\t%s\n%s", o.Line, strings.Join(diffs, "\n\t"), o.Text)
		}
	}
	return len(ours)
}

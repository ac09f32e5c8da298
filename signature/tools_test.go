package signature_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/entente/entente/signature"
	"github.com/entente/entente/signature/sigtest"
)

// yaraProbes are YARA sources at the edges of the language, with what
// YARA's compiler makes of them (yarac 4.2.3, Debian's, and newer where
// since says). TestYARAProbes holds our validator to these verdicts without
// the tool; TestYARAAgreesWithYarac asks the tool itself.
//
// gap, when set, says why our validator accepts a source the compiler
// refuses: what it does not check. These are the known disagreements.
var yaraProbes = []struct {
	src      string
	compiles bool
	since    string // the YARA version that accepts it, when newer than 4.2
	gap      string
	strict   string // why our validator refuses a source that compiles
}{
	{src: "/* unterminated", compiles: true, strict: "yarac compiles a source without rules, and ignores a comment open at its end; an indicator carries at least one rule"},
	{src: `rule a { strings: $h = { AB ( CD | EF [1-] 00 ) } condition: $h }`},
	{src: `rule a { strings: $h = { AB ( CD | EF [201] 00 ) } condition: $h }`},
	{src: `rule a { strings: $h = { AB ( CD | EF [1-200] 00 ) } condition: $h }`, compiles: true},
	{src: `rule a { strings: $a = "x" condition: !a > 0 and @a > 0 and #a == 2 and !a[1] > 0 }`, compiles: true},
	{src: `rule a { strings: $a = "x" private condition: $a }`, compiles: true},
	{src: `rule a { strings: $a = "x" fullword wide ascii nocase condition: $a }`, compiles: true},
	{src: `rule a { strings: $a = "x" xor base64 condition: $a }`},
	{src: `rule a { strings: $a = "x" base64 base64wide condition: $a }`, compiles: true},
	{src: `rule a { strings: $a = "x" base64("0123456789012345678901234567890123456789012345678901234567890123") condition: $a }`, compiles: true},
	{src: `rule a { strings: $a = "x" base64("abc") condition: $a }`},
	{src: `rule a { strings: $a = "x" xor(300) condition: $a }`},
	{src: `rule a { strings: $a = "x" xor(5-2) condition: $a }`},
	{src: `rule a { strings: $a = "x" nocase nocase condition: $a }`},
	{src: `rule a { strings: $a = { AB ?? } $b = { ?? AB } condition: $a and $b }`, compiles: true},
	{src: `rule a { strings: $a = { AB [0-] CD } $b = { AB [-] CD } $c = { AB [1-300] CD } condition: all of them }`, compiles: true},
	{src: `rule a { strings: $a = { AB ( CD | EF [2] 01 ) } condition: $a }`, compiles: true},
	{src: `rule a { strings: $a = { AB ( CD | [2] 01 ) } condition: $a }`},
	{src: `rule a { strings: $a = { AB ~?? CD } condition: $a }`},
	{src: `rule a { strings: $a = { AB ~A? ~00 CD } condition: $a }`, compiles: true, since: "4.3"},
	{src: `rule a { strings: $a = { AB CD } nocase condition: $a }`},
	{src: `rule a { strings: $a = { AB CD } private condition: $a }`, compiles: true},
	{src: `rule a { strings: $a = /abc/is condition: $a }`, compiles: true},
	{src: `rule a { strings: $a = /a{2,1}/ condition: $a }`},
	{src: `rule a { strings: $a = /a{,3}/ condition: $a }`, compiles: true},
	{src: `rule a { strings: $a = /[a-/ condition: $a }`},
	{src: `rule a { strings: $a = /\babc\d+\w\s/ condition: $a }`, compiles: true},
	{src: `rule a { strings: $a = /abc/ xor condition: $a }`},
	{src: `rule a { strings: $a = /abc/ wide nocase fullword condition: $a }`, compiles: true},
	{src: `rule a { strings: $a = /abc/ base64 condition: $a }`},
	{src: `rule a { strings: $a = "" condition: $a }`},
	{src: `rule a { strings: $a = "x\x4" condition: $a }`},
	{src: `rule a { strings: $a = "x\x41\n\r\t\\\"" condition: $a }`, compiles: true},
	{src: `rule a { meta: a = "x" b = 1 c = true d = -5 condition: true }`, compiles: true},
	{src: `rule a { meta: a = 1.5 condition: true }`},
	{src: `rule a { meta: condition: true }`},
	{src: `rule a { strings: condition: true }`},
	{src: `rule a { condition: filesize > 10KB and filesize < 1MB and 1MB > 0 }`, compiles: true},
	{src: `rule a { condition: uint8(0) == 0x4D and int16be(0) == 1 and uint32be(0) == 0 }`, compiles: true},
	{src: `rule a { condition: 1 + 2 * 3 - 4 \ 2 % 3 == 3 }`, compiles: true},
	{src: `rule a { condition: 0o17 == 15 and 1.5 > 1 and -1 }`, compiles: true},
	{src: `rule a { condition: "abc" contains "b" and "abc" icontains "B" and "abc" startswith "a" and "abc" iendswith "C" and "a" iequals "A" }`, compiles: true},
	{src: `rule a { condition: "abc" matches /b/ and not true or false and entrypoint > 0 }`, compiles: true},
	{src: `rule a { strings: $a = "x" $b = "y" condition: none of them and 1 of ($a, $b) and 50% of them and 3 of them and all of ($*) }`, compiles: true},
	{src: `rule a { strings: $a1 = "x" $a2 = "y" condition: all of ($a*) }`, compiles: true},
	{src: `rule a { strings: $a1 = "x" $a2 = "y" condition: all of ($b*) }`},
	{src: `rule a { strings: $a = "x" $b = "y" condition: for any of them : ( $ at 0 ) and for all of them : ( # > 1 ) }`, compiles: true},
	{src: `rule a { strings: $a = "x" condition: for any i in (1..#a) : ( @a[i] > 0 ) and for 2 i in (1, 2, 3) : ( @a[i] > 0 ) }`, compiles: true},
	{src: `rule a { condition: for any i in (1..3) : ( j > 2 ) }`},
	{src: `rule a { strings: $a = "x" condition: $a at 100 and $a in (0..100) }`, compiles: true},
	{src: `rule a { strings: $a = "x" $b = "y" condition: any of them at 0 }`, compiles: true, since: "4.3"},
	{src: `rule a { strings: $a = "x" $b = "y" condition: any of them in (0..10) }`, compiles: true},
	{src: `rule a { condition: defined 1 }`, compiles: true},
	{src: `rule a { condition: true } rule b { condition: a }`, compiles: true},
	{src: `rule b { condition: a } rule a { condition: true }`},
	{src: `rule a { condition: a }`, compiles: true},
	{src: `rule a { condition: 1 of (a*) }`, compiles: true},
	{src: `rule a1 { condition: true } rule a2 { condition: true } rule b { condition: 1 of (a*) }`, compiles: true},
	{src: `rule a1 { condition: true } rule b { condition: 1 of (c*) }`},
	{src: `global rule a { condition: true } private global rule b { condition: true } global private rule c { condition: true }`, compiles: true},
	{src: `rule a : t1 t2 { condition: true }`, compiles: true},
	{src: `rule a : t1 t1 { condition: true }`},
	{src: `rule true { condition: true }`},
	{src: `rule for { condition: true }`},
	{src: `rule _a9 { condition: true }`, compiles: true},
	{src: `rule 9a { condition: true }`},
	{src: `rule a { strings: $a = "x" $a = "y" condition: $a }`},
	{src: `rule a { strings: $ = "x" $ = "y" condition: all of them }`, compiles: true},
	{src: `rule a { strings: $ = "x" condition: $ }`},
	{src: `import "pe" rule a { condition: pe.number_of_sections > 1 }`, compiles: true},
	{src: `import "math" rule a { condition: math.entropy(0, filesize) > 7 }`, compiles: true},
	{src: `import "hash" rule a { condition: hash.md5(0, filesize) == "x" }`, compiles: true},
	{src: `import "elf" rule a { condition: elf.type == elf.ET_EXEC }`, compiles: true},
	{src: `import "dotnet" import "dotnet" rule a { condition: dotnet.number_of_streams > 0 }`, compiles: true},
	{src: `import "nope" rule a { condition: true }`},
	{src: `import "pe" rule a { condition: pe.nope_field > 1 }`, gap: "it does not know the modules' fields"},
	{src: `include "other.yar" rule a { condition: true }`, gap: "it cannot open included files; the YARA export leaves out rule sets that include"},
	{src: `rule a { condition: true`},
	{src: `rule a { condition: }`},
	{src: `rule a { strings: $a = "x" }`},
	{src: `rule a { condition: true } // comment`, compiles: true},
	{src: `rule a { condition: /* c */ true }`, compiles: true},
	{src: `rule a { condition: 1 == "a" }`},
	{src: `rule a { condition: "a" + 1 }`},
	{src: `rule a { strings: $a = "x" condition: $a at "x" }`},
	{src: `rule a { condition: 1 and "a" and 1 and "a" and filesize }`, compiles: true},
	{src: `rule a { condition: 1 / 0 }`},
	{src: `rule a { condition: 1 \ 0 > 0 }`},
	{src: `rule a { condition: 0x7fffffffffffffff > 0 }`, compiles: true},
	{src: `rule a { condition: 0x8000000000000000 > 0 }`},
	{src: `rule a { condition: 99999999999999999999 > 0 }`},
	{src: `rule a { condition: 9007199254740992KB > 0 }`},
	{src: `rule a { strings: $a = "x" condition: #a in (0..10) > 0 }`, compiles: true},
	{src: `rule a { strings: $a = "x" condition: #a[1] > 0 }`},
	// Types: YARA refuses operands of the wrong type, and booleans (string
	// matches, comparisons, rules, of, for) as operands of anything but
	// and, or and not.
	{src: `rule r { strings: $a = "x" condition: $a or (true == 1) }`},
	{src: `rule r { strings: $a = "x" condition: $a or ("a" < "b") }`, compiles: true},
	{src: `rule r { strings: $a = "x" condition: $a or (1.5 & 1 == 1) }`},
	{src: `rule r { strings: $a = "x" condition: $a or (-"a" == 1) }`},
	{src: `rule r { strings: $a = "x" condition: $a or (uint8(0) + 1 == 1) }`, compiles: true},
	{src: `rule r { strings: $a = "x" condition: $a or ($a == 1) }`},
	{src: `rule r { strings: $a = "x" condition: $a or ($a + 1 > 0) }`},
	{src: `rule r { strings: $a = "x" condition: $a or (#a == "x") }`},
	{src: `rule r { strings: $a = "x" condition: $a or ((1 == 1) + 1 > 0) }`},
	{src: `rule r { strings: $a = "x" condition: $a or (1 \ (0) > 0) }`},
	{src: `rule r { strings: $a = "x" condition: $a or (2 \ (1 + 0) > 0) }`, compiles: true},
	{src: `rule r { strings: $a = "x" condition: $a or (1 % 0 > 0) }`},
	{src: `rule r { strings: $a = "x" condition: $a or (1.0 \ 0 > 0) }`, compiles: true},
	{src: `rule r { strings: $a = "x" condition: $a or ("a" contains 1) }`},
	{src: `rule r { strings: $a = "x" condition: $a or (1 contains "a") }`},
	{src: `rule r { strings: $a = "x" condition: $a or (1 matches /a/) }`},
	{src: `rule r { strings: $a = "x" condition: $a or (uint8("a") == 1) }`},
	{src: `rule r { strings: $a = "x" condition: $a or (for any i in (1..3) : (i == 1)) }`, compiles: true},
	{src: `rule r { strings: $a = "x" condition: $a or (not "a") }`, compiles: true},
	{src: `rule r { strings: $a = "x" condition: $a or (1 of ($a) == 1) }`},
	{src: `rule r { strings: $a = "x" condition: $a or ($a in (0..filesize)) }`, compiles: true},
	{src: `rule r { strings: $a = "x" condition: $a or ($a in ("a".."b")) }`},
	{src: `rule r { strings: $a = "x" condition: $a or (~"a" == 1) }`},
	{src: `rule r { strings: $a = "x" condition: $a or (1 << "a" > 0) }`},
	{src: `rule r { strings: $a = "x" condition: $a or (filesize > 1.5) }`, compiles: true},
	{src: `rule r { strings: $a = "x" condition: $a or (defined "a") }`, compiles: true},
	{src: `rule a { condition: true } rule r { condition: a == 1 }`},
	{src: `rule r { strings: $a = "x" condition: $a or (1 + 1 == 2 and 0x10 \ 0x0 == 1) }`},
	{src: `rule r { strings: $a = "x" condition: $a or ("x" == "x" and -1.5 < 0) }`, compiles: true},
}

// TestYARAProbes holds the validator to the compiler's verdicts, except
// where a gap is known.
func TestYARAProbes(t *testing.T) {
	for _, p := range yaraProbes {
		err := signature.Check("yara", p.src)
		if want := (p.compiles || p.gap != "") && p.strict == ""; (err == nil) != want {
			t.Errorf("%s\n\tours: %v; YARA's compiler: compiles=%v", p.src, err, p.compiles)
		}
	}
}

// yaraCorpus is every YARA source of this package's tests: the valid and
// invalid rules, the fuzz seeds and the probes.
func yaraCorpus(t *testing.T) []string {
	srcs := append([]string(nil), signature.ValidForTest["yara"]...)
	for _, tt := range signature.InvalidForTest {
		if tt.Lang == "yara" {
			srcs = append(srcs, tt.Src)
		}
	}
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzYARA", "*"))
	if err != nil || len(seeds) == 0 {
		t.Fatalf("no YARA fuzz seeds: %v", err)
	}
	for _, f := range seeds {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, rest, _ := strings.Cut(string(b), "\nstring(")
		s, err := strconv.Unquote(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), ")")))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		srcs = append(srcs, s)
	}
	for _, p := range yaraProbes {
		srcs = append(srcs, p.src)
	}
	return srcs
}

// TestYARAAgreesWithYarac compiles every YARA source of the tests with
// YARA's compiler: what our validator accepts must compile, and what it
// refuses must not, except for the known gaps and the syntax newer than the
// installed compiler.
func TestYARAAgreesWithYarac(t *testing.T) {
	yarac := sigtest.Yarac(t)
	t.Logf("yarac %s", yarac.Version)
	known := map[string]string{}
	for _, p := range yaraProbes {
		switch {
		case p.gap != "":
			known[p.src] = "known gap: " + p.gap
		case p.strict != "":
			known[p.src] = "stricter by design: " + p.strict
		case p.since != "" && !yarac.AtLeast(versionOf(t, p.since)):
			known[p.src] = fmt.Sprintf("YARA %s syntax; this yarac is %s", p.since, yarac.Version)
		}
	}
	// yarac runs in a few processes at once: each takes little processor
	// time, but starting one waits on a busy machine.
	corpus := yaraCorpus(t)
	verdicts := make([]error, len(corpus))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, src := range corpus {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			verdicts[i] = yarac.Compile(src)
		})
	}
	wg.Wait()
	agree := 0
	for i, src := range corpus {
		ours := signature.Check("yara", src)
		theirs := verdicts[i]
		if (ours == nil) == (theirs == nil) {
			agree++
			continue
		}
		if why, ok := known[src]; ok {
			t.Logf("disagreement (%s):\n%s", why, src)
			continue
		}
		t.Errorf("our validator and yarac disagree on\n%s\n\tours: %v\n\tyarac: %v", src, ours, theirs)
	}
	t.Logf("%d sources agree", agree)
	verdict := map[string]error{}
	for i, src := range corpus {
		verdict[src] = verdicts[i]
	}
	for _, p := range yaraProbes {
		if _, ok := known[p.src]; ok && p.gap == "" && p.strict == "" {
			continue
		}
		if err := verdict[p.src]; (err == nil) != p.compiles {
			t.Errorf("the probe's verdict is stale: yarac %s says %v, the table compiles=%v:\n%s", yarac.Version, err, p.compiles, p.src)
		}
	}
}

func versionOf(t *testing.T, v string) (int, int) {
	ma, mi, _ := strings.Cut(v, ".")
	a, err1 := strconv.Atoi(ma)
	b, err2 := strconv.Atoi(mi)
	if err1 != nil || err2 != nil {
		t.Fatalf("bad version %q", v)
	}
	return a, b
}

// TestSuricataAgreesWithSuricataUpdate reads every Suricata rule the
// validator accepts in its tests with suricata-update's parser, which must
// read the same header, sid, rev, msg, metadata and options.
func TestSuricataAgreesWithSuricataUpdate(t *testing.T) {
	su := sigtest.SuricataUpdate(t)
	n := 0
	for _, src := range signature.ValidForTest["suricata"] {
		if strings.Contains(src, "\\\n") {
			continue // suricata-update reads files' continuation lines, not parse()'s
		}
		n += su.CheckSuricata(t, src)
	}
	t.Logf("%d rules compared", n)
}

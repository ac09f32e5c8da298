package web

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/entente/entente/stix"
)

// Golden HTML: the main pages, rendered from fixed data at a fixed time,
// are compared with testdata/golden/<page>.html. After a deliberate
// change to a page, rewrite them and review the diff:
//
//	go test ./web -run Golden -update
//
// Each golden file starts with a comment naming the request and the
// status it got. What varies from run to run is replaced before the
// comparison (goldenNormal): a page that still varies after that fails
// the test, and -update refuses to write it, so a golden file never holds
// a value that the next run would not reproduce.

var update = flag.Bool("update", false, "rewrite the golden files of testdata/golden")

// goldenTime is the clock of the golden pages: every "ago", deadline and
// date_added is computed from it.
var goldenTime = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

// envConfig holds what envOptions change in newEnv.
type envConfig struct {
	now  func() time.Time
	lang language.Tag // Config.Language
}

// envOption changes a default of newEnv.
type envOption func(*envConfig)

// atTime runs the env's store, node and console on a clock that stays at
// t, so that pages render the same on every run. The store still gives
// strictly increasing date_added values, a microsecond apart.
func atTime(t time.Time) envOption {
	return func(c *envConfig) { c.now = func() time.Time { return t } }
}

// withLanguage shows the env's console in lang.
func withLanguage(lang language.Tag) envOption {
	return func(c *envConfig) { c.lang = lang }
}

// fixture is the data the golden pages and the accessibility check show:
// one object of each kind a page links to, with fixed ids and times.
type fixture struct {
	Identity, Indicator, Malware, Relationship, Sighting string
	// CasePath and MatchPath are pages of a case and a match result,
	// whose ids are random: set by addCaseAndMatch where a test needs them.
	CasePath, MatchPath string
}

var theFixture = fixture{
	Identity:     "identity--a1c0e2d4-5b6f-4a70-8c9d-0e1f2a3b4c5d",
	Indicator:    "indicator--7d3f1c2a-9b84-4e6d-a5f0-1c2b3d4e5f60",
	Malware:      "malware--4e2d1c0b-8a79-4f65-b3c2-d1e0f9a8b7c6",
	Relationship: "relationship--0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
	Sighting:     "sighting--9a8b7c6d-5e4f-4031-a2b1-c0d9e8f7a6b5",
}

// addFixture stores the fixture in the env's default collection, with the
// TLP marking definitions it refers to.
func (e *env) addFixture() fixture {
	e.t.Helper()
	f := theFixture
	var objs []string
	for _, m := range stix.TLPMarkingDefinitions() {
		objs = append(objs, string(m.Raw))
	}
	const ts = `"created":"2026-11-28T08:00:00.000Z","modified":"2026-11-28T08:00:00.000Z"`
	objs = append(objs,
		`{"type":"identity","spec_version":"2.1","id":"`+f.Identity+`",`+ts+`,"name":"Arcadia CERT","identity_class":"organization"}`,
		`{"type":"indicator","spec_version":"2.1","id":"`+f.Indicator+`",`+ts+`,"created_by_ref":"`+f.Identity+`",`+
			`"name":"Botnet controller 203.0.113.7","description":"Command and control server of the Ember botnet.",`+
			`"indicator_types":["malicious-activity"],"labels":["botnet"],"pattern":"[ipv4-addr:value = '203.0.113.7']",`+
			`"pattern_type":"stix","valid_from":"2026-11-28T08:00:00Z","object_marking_refs":["`+stix.TLP2Green+`"]}`,
		`{"type":"malware","spec_version":"2.1","id":"`+f.Malware+`",`+ts+`,"created_by_ref":"`+f.Identity+`",`+
			`"name":"Ember","is_family":true,"malware_types":["bot"],"object_marking_refs":["`+stix.TLP2Amber+`"]}`,
		`{"type":"relationship","spec_version":"2.1","id":"`+f.Relationship+`",`+ts+`,"created_by_ref":"`+f.Identity+`",`+
			`"relationship_type":"indicates","source_ref":"`+f.Indicator+`","target_ref":"`+f.Malware+`",`+
			`"object_marking_refs":["`+stix.TLP2Green+`"]}`,
		`{"type":"sighting","spec_version":"2.1","id":"`+f.Sighting+`",`+ts+`,"created_by_ref":"`+f.Identity+`",`+
			`"sighting_of_ref":"`+f.Indicator+`","count":3,"first_seen":"2026-11-28T09:00:00Z","last_seen":"2026-11-28T09:30:00Z",`+
			`"object_marking_refs":["`+stix.TLP2Amber+`"]}`,
	)
	e.add(objs...)
	return f
}

// goldenPages are the main pages: name (the golden file's), account to
// log in as ("" for none) and path.
var goldenPages = []struct{ name, account, path string }{
	{"login", "", "/ui/login"},
	{"overview", "admin", "/ui/"},
	{"objects", "admin", "/ui/objects"},
	{"object", "admin", "/ui/objects/" + theFixture.Indicator},
	{"agreement", "admin", "/ui/agreement"},
	{"cases", "admin", "/ui/cases"},
	{"ledger", "admin", "/ui/ledger"},
	{"detection", "admin", "/ui/detection"},
	{"accounts", "admin", "/ui/accounts"},
	{"error-404", "admin", "/ui/no-such-page"},
}

// goldenNormal lists what differs between two renderings of the same
// page over the same data, and what stands in for it. Add a line here
// when a page shows another value made at random (the test says which
// page varies); never for a value the data or the clock fixes.
func goldenNormal(e *env) []struct{ re, with string } {
	return []struct{ re, with string }{
		// The session's (or the login form's) CSRF token.
		{`name="csrf" value="[^"]*"`, `name="csrf" value="CSRF"`},
		// The default collection's id, a random UUID made at initialisation.
		{regexp.QuoteMeta(e.collection), "COLLECTION-ID"},
		// The test server's address, with its random port.
		{regexp.QuoteMeta(strings.TrimPrefix(e.srv.URL, "https://")), "NODE-ADDRESS"},
		// The accounts' tokens, should a page show one.
		{regexp.QuoteMeta(e.tokens["admin"]), "ADMIN-TOKEN"},
		{regexp.QuoteMeta(e.tokens["analyst"]), "ANALYST-TOKEN"},
		{regexp.QuoteMeta(e.tokens["reader"]), "READER-TOKEN"},
	}
}

// renderGolden renders every golden page in a new env at goldenTime and
// returns each page's normalised text, headed by its request and status.
func renderGolden(t *testing.T) map[string]string {
	t.Helper()
	e := newEnv(t, atTime(goldenTime))
	e.addFixture()
	var normal []struct {
		re   *regexp.Regexp
		with string
	}
	for _, n := range goldenNormal(e) {
		normal = append(normal, struct {
			re   *regexp.Regexp
			with string
		}{regexp.MustCompile(n.re), n.with})
	}
	clients := map[string]*client{"": e.anonymous()}
	out := map[string]string{}
	for _, p := range goldenPages {
		c, ok := clients[p.account]
		if !ok {
			c = e.login(t, p.account)
			clients[p.account] = c
		}
		status, body := c.get(t, p.path)
		as := "without a session"
		if p.account != "" {
			as = "as " + p.account
		}
		page := fmt.Sprintf("<!-- GET %s %s: %d %s -->\n%s", p.path, as, status, http.StatusText(status), body)
		for _, n := range normal {
			page = n.re.ReplaceAllString(page, n.with)
		}
		out[p.name] = page
	}
	return out
}

// TestGoldenPages compares the main pages with their golden files.
func TestGoldenPages(t *testing.T) {
	first, second := renderGolden(t), renderGolden(t)
	for _, p := range goldenPages {
		got := first[p.name]
		if again := second[p.name]; again != got {
			t.Errorf("%s (%s) differs between two runs over the same data at the same time; "+
				"add what varies to goldenNormal:\n%s", p.name, p.path, firstDiff(got, again, "run 1", "run 2"))
			continue
		}
		file := filepath.Join("testdata", "golden", p.name+".html")
		if *update {
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("%s: %v (write it with go test ./web -run Golden -update)", p.name, err)
			continue
		}
		if got != string(want) {
			t.Errorf("%s (%s) differs from %s; if the change is deliberate, run go test ./web -run Golden -update and review the diff:\n%s",
				p.name, p.path, file, firstDiff(string(want), got, "golden", "now"))
		}
	}
}

// firstDiff shows the first line where a and b differ, with the lines
// around it, numbered.
func firstDiff(a, b, aName, bName string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(al) && i < len(bl) && al[i] == bl[i] {
		i++
	}
	const context = 3
	var sb strings.Builder
	for j := max(0, i-context); j < i; j++ {
		fmt.Fprintf(&sb, "  %4d   %s\n", j+1, al[j])
	}
	show := func(name string, lines []string) {
		if i >= len(lines) {
			fmt.Fprintf(&sb, "  %4d %s (end of file)\n", i+1, name)
			return
		}
		for j := i; j < min(len(lines), i+context); j++ {
			fmt.Fprintf(&sb, "  %4d %s %s\n", j+1, name, lines[j])
		}
	}
	show("-"+aName+":", al)
	show("+"+bName+":", bl)
	return sb.String()
}

func TestFirstDiff(t *testing.T) {
	got := firstDiff("a\nb\nc\nd", "a\nb\nX\nd", "golden", "now")
	if !strings.Contains(got, "   2   b\n") || !strings.Contains(got, "   3 -golden: c\n") || !strings.Contains(got, "   3 +now: X\n") {
		t.Errorf("firstDiff:\n%s", got)
	}
	if got := firstDiff("a\nb", "a\nb\nc", "golden", "now"); !strings.Contains(got, "   3 -golden: (end of file)") || !strings.Contains(got, "   3 +now: c") {
		t.Errorf("firstDiff with a longer second text:\n%s", got)
	}
}

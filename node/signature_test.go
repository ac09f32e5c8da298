package node

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/entente/entente/store"
)

func ruleIndicator(n int, lang, rule string) json.RawMessage {
	pattern, _ := json.Marshal(rule)
	return json.RawMessage(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-00000000000a",`+
		`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern_type":%q,"pattern":%s,"valid_from":"2024-01-01T00:00:00Z"}`, n, lang, pattern))
}

// TestAddObjectsSignatures checks that rules in detection languages are
// parsed on ingest: a broken rule fails alone, with its language, line and
// column; the valid ones beside it are stored.
func TestAddObjectsSignatures(t *testing.T) {
	f := newFixture(t)
	envelope := []json.RawMessage{
		ruleIndicator(1, "suricata", `alert dns any any -> any any (msg:"x"; dns.query; content:"evil.example"; nocase; sid:1000001; rev:1;)`),
		ruleIndicator(2, "suricata", `alert dns any any -> any any (msg:"x"; dns.query; content:"evil.example"; nocase; rev:1;)`),
		ruleIndicator(3, "yara", "rule a {\n strings: $a = \"x\"\n condition: $b\n}"),
		ruleIndicator(4, "sigma", "title: t\nlogsource: {product: windows}\ndetection:\n  sel: {Image|endswith: '\\\\cmd.exe'}\n  condition: sel\n"),
		ruleIndicator(5, "snort", `alert tcp any any -> any 445 (msg:"smb"; content:"|FF|SMB"; sid:2465;)`),
		ruleIndicator(6, "sigma", "title: t\nlogsource: {product: windows}\ndetection:\n  sel: {a: 1}\n  condition: sel or other\n"),
	}
	s, err := f.node.AddObjects(t.Context(), f.callers[store.RoleAnalyst], DefaultAPIRoot, f.ini.CollectionID, envelope)
	if err != nil {
		t.Fatal(err)
	}
	if s.SuccessCount != 3 || s.FailureCount != 3 {
		t.Fatalf("status = %+v; want 3 successes and 3 failures", s)
	}
	for i, want := range []string{
		"pattern: not a valid suricata rule: suricata rule, line 1, column 30: the rule has no sid",
		"pattern: not a valid yara rule: yara rule, line 3, column 13: $b is not defined",
		"pattern: not a valid sigma rule: sigma rule, line 5, column 21: condition: \"other\" is not a search identifier",
	} {
		if m := s.Failures[i].Message; !strings.HasPrefix(m, want) {
			t.Errorf("failure %d: %q; want it to start with %q", i, m, want)
		}
	}
}

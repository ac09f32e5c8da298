package match

import (
	"strings"
	"testing"
)

func TestParseIndicators(t *testing.T) {
	ind := func(id, pattern, typ string) string {
		return `{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-00000000000` + id + `","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"` + pattern + `","pattern_type":"` + typ + `","valid_from":"2026-01-01T00:00:00Z"}`
	}
	identity := `{"type":"identity","spec_version":"2.1","id":"identity--00000000-0000-4000-8000-000000000009","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"CERT"}`
	objs := []string{identity, ind("1", "[domain-name:value = 'a.example']", "stix"), ind("2", "rule x {}", "yara")}
	for name, data := range map[string]string{
		"bundle": `{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","objects":[` + strings.Join(objs, ",") + `]}`,
		"lines":  strings.Join(objs, "\n") + "\n\n",
	} {
		inds, problems, err := ParseIndicators([]byte(data))
		if err != nil || len(inds) != 1 || len(problems) != 1 || !strings.Contains(problems[0].Error(), "yara") {
			t.Errorf("%s: %d indicators, problems %v, error %v; want 1 indicator and the yara one refused", name, len(inds), problems, err)
		}
	}
	if _, _, err := ParseIndicators([]byte(identity + "\nnot json\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("ParseIndicators of a bad line: %v, want an error naming line 2", err)
	}
}

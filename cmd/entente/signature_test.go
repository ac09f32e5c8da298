package main

import (
	"strings"
	"testing"
)

func TestPatternCheckSignatures(t *testing.T) {
	tests := []struct {
		name, stdin string
		args        []string
		code        int
		has         string
	}{
		{"suricata", "", []string{"check", "--type", "suricata", `alert dns any any -> any any (msg:"x"; dns.query; content:"a.example"; sid:1;)`}, 0, "valid suricata: 1 rule(s)"},
		{"suricata error", "", []string{"check", "--type", "suricata", `alert dns any any -> any any (msg:"x"; sid:1; nope;)`}, 2,
			"column 47: unknown rule option \"nope\"\n  alert dns any any -> any any (msg:\"x\"; sid:1; nope;)\n" + strings.Repeat(" ", 2+46) + "^"},
		{"snort", "", []string{"check", "--type", "snort", `alert tcp any any -> any 80 (content:"GET"; sid:3;)`}, 0, "valid snort"},
		{"yara from stdin", "rule a {\n  strings: $a = \"x\"\n  condition: $a and $c\n}\n", []string{"check", "--type", "yara", "-"}, 2, "line 3, column 21: $c is not defined"},
		{"sigma from stdin", "title: t\nlogsource: {product: p}\ndetection:\n  s: {a: 1}\n  condition: s\n", []string{"check", "--type", "sigma", "-"}, 0, "valid sigma: 1 rule(s)"},
		{"stix through --type", "", []string{"check", "--type", "stix", "[ipv4-addr:value = '198.51.100.1']"}, 0, "[ipv4-addr:value = '198.51.100.1']"},
		{"unknown type", "", []string{"check", "--type", "lua", "x"}, 2, `--type "lua"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runPatternCmd(t, tt.stdin, tt.args...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.has) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, stdout, stderr, tt.code, tt.has)
			}
		})
	}
}

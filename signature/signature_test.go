package signature

import (
	"errors"
	"strings"
	"testing"
)

// Rules as their projects publish them (Emerging Threats, SigmaHQ, YARA's
// documentation); each must parse.
var valid = map[string][]string{
	"suricata": {
		`alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"ET MALWARE Example CnC Beacon"; flow:established,to_server; http.method; content:"POST"; http.uri; content:"/gate.php"; endswith; http.user_agent; content:"Mozilla/4.0 (compatible|3b| MSIE 6.0)"; classtype:trojan-activity; sid:2030001; rev:2; metadata:affected_product Windows_XP_Vista_7_8_10_Server_32_64_Bit, created_at 2020_04_01;)`,
		`alert dns $HOME_NET any -> any any (msg:"ET DNS Query to a *.top domain - Likely Hostile"; dns.query; content:".top"; nocase; endswith; reference:url,www.symantec.com/connect/blogs/shady-tld-research-gdn-and-our-2016-wrap; classtype:bad-unknown; sid:2023883; rev:6;)`,
		`alert tls any any -> any any (msg:"SNI"; tls.sni; content:"evil.example"; startswith; endswith; nocase; sid:1; rev:1;)`,
		"# a comment\n\nalert tcp [10.0.0.0/8,!10.1.0.0/16] [1024:,!3306] <> [192.0.2.1, 2001:db8::/32] 80 (msg:\"list \\\"quoted\\\" \\; semicolon\"; content:\"|de ad be ef|abc\"; depth:10; pcre:\"/ab+c/Ri\"; sid:5;)",
		"alert ip any any -> any any (msg:\"continued\"; \\\n  sid:7; rev:1;)",
		`drop udp any any -> 198.51.100.0/24 53 (msg:"x"; dataset:isset,bad-domains,type string,load bad.lst; sid:8;)`,
		`alert http any any => any any (msg:"transactional"; http.host; content:"x"; sid:9;)`,
		// PCRE's escapes pass through a pcre value as written.
		`alert http $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (msg:"ET TROJAN x"; flow:established,to_server; uricontent:"/gate.php?id="; nocase; pcre:"/\/gate\.php\?id=[0-9a-f]{16}$/Ui"; threshold: type limit, track by_src, count 1, seconds 60; reference:url,doc.emergingthreats.net/2008000; classtype:trojan-activity; sid:2008000; rev:5; metadata:created_at 2010_07_30, updated_at 2019_07_26;)`,
	},
	"snort": {
		`alert tcp $EXTERNAL_NET any -> $HOME_NET 445 (msg:"NETBIOS SMB-DS IPC$ share access"; flow:established,to_server; content:"|00|"; depth:1; content:"|FF|SMB|75|"; within:5; distance:3; classtype:protocol-command-decode; sid:2465; rev:7;)`,
		`log udp any any -> any 53 (msg:"dns"; content:"|01 00|"; offset:2; depth:2; sid:1000001;)`,
		`alert tcp any any -> any 80 (msg:"the last option without its semicolon"; sid:1000002)`,
	},
	"sigma": {
		`title: Suspicious Encoded PowerShell Command Line
id: ca2092a1-c273-4878-9b4b-0d60115bf5ea
status: test
description: Detects suspicious powershell process starts with base64 encoded commands
references:
    - https://app.any.run/tasks/6217d77d-3189-4db2-a957-8ab239f3e01e
author: Florian Roth (Nextron Systems)
date: 2018-09-03
modified: 2023-04-06
tags:
    - attack.execution
    - attack.t1059.001
logsource:
    category: process_creation
    product: windows
detection:
    selection_cli_enc:
        CommandLine|contains: ' -e'
    selection_cli_content:
        CommandLine|contains:
            - ' JAB'
            - ' SUVYI'
    selection_img:
        - Image|endswith:
              - '\powershell.exe'
              - '\pwsh.exe'
        - OriginalFileName:
              - 'PowerShell.EXE'
    filter_optional_remote_signed:
        ParentImage|endswith: ':\Windows\system32\wsmprovhost.exe'
    condition: all of selection_* and not 1 of filter_optional_*
falsepositives:
    - Unknown
level: high
`,
		`title: keywords
logsource:
    product: linux
    service: auth
detection:
    keywords:
        - 'Accepted publickey'
        - 'session opened'
    condition: keywords
`,
	},
	"yara": {
		`import "pe"

rule silent_banker : banker
{
    meta:
        description = "This is just an example"
        threat_level = 3
        in_the_wild = true

    strings:
        $a = {6A 40 68 00 30 00 00 6A 14 8D 91}
        $b = {8D 4D B0 2B C1 83 C0 27 99 6A 4E 59 F7 F9}
        $c = "UVODFRYSIHLNWPEJXQZAKCBGMT"

    condition:
        $a or $b or $c
}

private rule IsPE { condition: uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550 }

rule jumps_and_alternatives
{
    strings:
        $hex = { F4 23 ( 62 B4 | 56 | 45 ?? 67 ) 45 [2-4] A? ?B }
        $re = /md5: [0-9a-fA-F]{32}/ nocase
        $w = "wide text\x00\t" wide ascii xor(1-31)
        $b = "b64" base64
        $ = "anonymous"
    condition:
        IsPE and #hex > 2 and @re[1] < 100 and !w[1] == 10 and
        for any i in (1..#hex) : ( @hex[i] + 10 < filesize ) and
        for all of ($w, $b) : ( $ at pe.entry_point or # > 1 ) and
        2 of them in (0..1KB) and pe.number_of_sections > 1 and
        pe.sections[0].name contains ".text" and not defined pe.dll_name and
        any of (IsPE, silent_*) and "a" matches /a/is
}
`,
	},
}

func TestValid(t *testing.T) {
	for lang, rules := range valid {
		for i, src := range rules {
			if err := Check(lang, src); err != nil {
				t.Errorf("%s rule %d: %v", lang, i, err)
			}
		}
	}
}

func TestSuricataRule(t *testing.T) {
	rules, err := ParseSuricata(valid["suricata"][3])
	if err != nil {
		t.Fatal(err)
	}
	r := rules[0]
	if r.Line != 3 || r.Action != "alert" || r.Protocol != "tcp" || r.Source != "[10.0.0.0/8,!10.1.0.0/16]" ||
		r.SourcePort != "[1024:,!3306]" || r.Direction != "<>" || r.Dest != "[192.0.2.1, 2001:db8::/32]" || r.DestPort != "80" || r.SID() != 5 {
		t.Errorf("header: %+v", r)
	}
	if msg, _ := r.Value("msg"); msg != `"list \"quoted\" \; semicolon"` {
		t.Errorf("msg = %s", msg)
	}
	if len(r.Options) != 5 {
		t.Errorf("%d options, want 5: %+v", len(r.Options), r.Options)
	}
}

// Each broken rule fails alone with its position: the line and the column
// of the fault, and a message that names it.
var invalid = []struct {
	lang, src  string
	line, col  int
	msgContain string
}{
	{"suricata", `alert tcp any any -> any any (msg:"no sid";)`, 1, 30, "no sid"},
	{"suricata", `alrt tcp any any -> any any (sid:1;)`, 1, 1, "not an action"},
	{"suricata", `alert tcp 10.0.0.300 any -> any any (sid:1;)`, 1, 11, "source address"},
	{"suricata", `alert tcp any 70000 -> any any (sid:1;)`, 1, 15, "source port"},
	{"suricata", `alert tcp any any -< any any (sid:1;)`, 1, 19, "direction"},
	{"suricata", `alert tcp any any -> any any (msg:"x"; sid:1; bogus_opt:3;)`, 1, 47, "unknown rule option"},
	{"suricata", `alert tcp any any -> any any (msg:"a"b"; sid:1;)`, 1, 35, `unescaped "`},
	{"suricata", `alert tcp any any -> any any (content:"|4G|"; sid:1;)`, 1, 39, "hex"},
	{"suricata", `alert tcp any any -> any any (content:"abc"; sid:0;)`, 1, 50, "number from 1"},
	{"suricata", `alert tcp any any -> any any (pcre:"/abc"; sid:1;)`, 1, 36, "closing /"},
	{"suricata", "alert tcp any any -> any any (sid:1;)\nalert tcp any any -> any any (sid:2; flow:sideways;)", 2, 43, "flow"},
	{"suricata", `alert tcp any any -> any any (sid:1;`, 1, 37, "does not end with )"},
	{"suricata", `alert tcp any any -> any any (msg:"x"; sid:1)`, 1, 45, "no ; after it"},
	{"suricata", "# only a comment\n", 2, 1, "no rule"},
	{"snort", `alert http any any -> any any (sid:1;)`, 1, 7, "protocol"},
	{"sigma", "title: x\nlogsource:\n  product: windows\ndetection:\n  sel:\n    a: 1\n  condition: sel and nope\n", 7, 22, "not a search identifier"},
	{"sigma", "title: x\nlogsource:\n  product: windows\ndetection:\n  sel:\n    a|containz: 1\n  condition: sel\n", 6, 5, "unknown modifier"},
	{"sigma", "title: x\nlogsource: {}\ndetection:\n  sel: {a: 1}\n  condition: sel\n", 2, 12, "logsource names none"},
	{"sigma", "title: x\nlogsource:\n  product: p\ndetection:\n  sel: {a: 1}\n", 5, 3, "no condition"},
	{"sigma", "title: x\nlevel: severe\nlogsource:\n  product: p\ndetection:\n  sel: {a: 1}\n  condition: sel\n", 2, 8, "level"},
	{"sigma", "title: x\nlogsource:\n  product: p\ndetection:\n  sel: {a: 1}\n  condition: (sel or\n", 6, 21, "ends early"},
	{"sigma", "title: [x\n", 1, 1, "not valid YAML"},
	{"yara", "rule a { strings: $a = \"x\" condition: $b }", 1, 39, "$b is not defined"},
	{"yara", "rule a { strings: $a = \"x\" $b = \"y\" condition: $a }", 1, 28, "$b is not used"},
	{"yara", "rule a { condition: true }\nrule a { condition: true }", 2, 6, "defined already"},
	{"yara", "rule a { strings: $h = { AB [2-1] CD } condition: $h }", 1, 29, "lower bound"},
	{"yara", "rule a { strings: $h = { AB CD [2] } condition: $h }", 1, 36, "end with a jump"},
	{"yara", "rule a { strings: $t = \"\\q\" condition: $t }", 1, 25, "unknown escape"},
	{"yara", "rule a { strings: $r = /a(b/ condition: $r }", 1, 25, "regular expression"},
	{"yara", "rule a { condition: pe.is_dll() }", 1, 21, "pe is not defined"},
	{"yara", "rule a { strings: $t = \"x\" nocase xor condition: $t }", 1, 39, "nocase cannot"},
	{"yara", "rule a { condition: filesize > }", 1, 32, "want an expression"},
	{"yara", "rule a { condition: $ }", 1, 21, "only inside for"},
}

func TestInvalid(t *testing.T) {
	for _, tt := range invalid {
		err := Check(tt.lang, tt.src)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s %q: got %v, want an *Error", tt.lang, tt.src, err)
			continue
		}
		if e.Line != tt.line || e.Column != tt.col || !strings.Contains(e.Msg, tt.msgContain) || e.Lang != tt.lang {
			t.Errorf("%s %q:\n got %v\nwant line %d, column %d, containing %q", tt.lang, tt.src, e, tt.line, tt.col, tt.msgContain)
		}
	}
}

func TestOtherLanguagesPass(t *testing.T) {
	if Checks("pcre") || Check("pcre", "((") != nil {
		t.Error("Check must leave languages it does not read alone")
	}
}

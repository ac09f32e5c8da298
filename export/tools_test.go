package export

import (
	"fmt"
	"strings"
	"testing"

	"github.com/entente/entente/signature/sigtest"
)

// toolSample is sample with more rules of the kinds partners send: YARA
// rule sets with modules, private rules and every kind of string, one that
// repeats a name (left out) and one that includes a file (left out).
var toolSample = append(append([][]byte(nil), sample...),
	ind(30, "yara", `import "pe"
import "math"
private rule IsPE { condition: uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550 }
rule packed : packer {
    meta:
        author = "partner"
        score = 70
    strings:
        $upx = "UPX!" ascii wide
        $h = { 60 BE ?? ?? ?? ?? 8D BE ( ?? ?? ?? ?? | 00 [1-4] 00 ) 57 }
        $r = /UPX[0-9]{1,2}/ nocase
    condition:
        IsPE and math.entropy(0, filesize) > 7.0 and 2 of them and pe.number_of_sections < 5
}`),
	ind(31, "yara", `rule one { condition: filesize == 0 }`),
	ind(32, "yara", `include "common.yar"
rule with_include { condition: true }`),
	ind(33, "yara", `rule xored { strings: $x = "http://" xor(1-255) $b = "cmd.exe" base64 condition: any of them }`),
	ind(34, "suricata", `alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"partner http"; flow:established,to_server; http.uri; content:"/gate.php"; endswith; reference:url,example.org/x; classtype:trojan-activity; sid:2100002; rev:1; metadata:created_at 2024_01_01;)`),
	ind(35, "stix", "[network-traffic:src_ref.value = '203.0.113.9'] OR [ipv4-addr:value ISSUBSET '198.51.100.0/24']"),
	ind(36, "stix", "[url:value = 'http://evil.example/a%20b;c']"),
)

// TestYARAExportCompiles compiles the YARA export with YARA's compiler.
func TestYARAExportCompiles(t *testing.T) {
	yarac := sigtest.Yarac(t)
	out, r := run(t, Config{Format: YARA}, toolSample)
	if r.Exported != 3 {
		t.Fatalf("exported %d YARA indicators, want 3 (one repeats a name, one includes): %+v", r.Exported, r.Skipped)
	}
	if err := yarac.Compile(out); err != nil {
		t.Errorf("yarac %s refuses the YARA export: %v\n%s", yarac.Version, err, out)
	}
}

// TestSuricataExportParses reads every rule of the Suricata export with
// suricata-update's rule parser, which must read what ours reads.
func TestSuricataExportParses(t *testing.T) {
	su := sigtest.SuricataUpdate(t)
	out, _ := run(t, Config{Format: Suricata, Source: "api1/default"}, toolSample)
	if n := su.CheckSuricata(t, out); n < 15 {
		t.Errorf("only %d rules compared:\n%s", n, out)
	}
	// The generated rules carry the STIX id in metadata, which
	// suricata-update must read as such.
	rules, err := su.Parse(strings.Split(strings.TrimSpace(out), "\n"))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rules {
		if !strings.Contains(fmt.Sprint(r.Metadata), "stix_id indicator--") && r.SID >= 3_000_000_000 {
			t.Errorf("rule %d: suricata-update reads no stix_id in its metadata: %v", i, r.Metadata)
		}
	}
}

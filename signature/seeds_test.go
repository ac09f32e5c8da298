package signature

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestWriteSeeds writes the seed corpus of the fuzz targets into
// testdata/fuzz when ENTENTE_WRITE_SEEDS is set; the files are committed.
func TestWriteSeeds(t *testing.T) {
	if os.Getenv("ENTENTE_WRITE_SEEDS") == "" {
		t.Skip("set ENTENTE_WRITE_SEEDS=1 to rewrite testdata/fuzz")
	}
	broken := map[string][]string{
		"suricata": {`alert tcp any any -> any any (msg:"a"b"; sid:1;)`, `alert tcp [[[1.2.3.4]]] any -> any any (sid:1;)`, "alert ip any any -> any any (sid:1; \\\n"},
		"snort":    {`alert tcp any any -> any any (content:"|0|"; sid:1;)`},
		"sigma":    {"title: x\nlogsource:\n  product: p\ndetection:\n  s: {a: 1}\n  condition: not not (s or 1 of s*) and all of them\n", "title: x\n---\ntitle: y\n"},
		"yara":     {"rule a { strings: $h = { AB ( CD | EF [1-] 00 ) } condition: for 2 of ($h) : ( # > 0 ) }", "rule b { condition: -(-1) \\ 2 % 3 << 1 >> 1 & 1 | 2 ^ 3 == ~0 }", "/* unterminated", "rule a { strings: $a = { AB ( CD | EF [1-200] 00 ) } condition: ($a == 1) + \"x\" \\ 0 or 5 % 2 of them and uint8(\"a\") }"},
	}
	targets := map[string]string{"suricata": "FuzzSuricata", "snort": "FuzzSnort", "sigma": "FuzzSigma", "yara": "FuzzYARA"}
	for lang, target := range targets {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, s := range append(append([]string(nil), valid[lang]...), broken[lang]...) {
			body := fmt.Sprintf("go test fuzz v1\nstring(%s)\n", strconv.Quote(s))
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

package stix

import (
	"errors"
	"strings"
	"testing"
)

// TestSCOIDVectors checks deterministic ids against values published by
// others: the STIX 2.1 specification's own examples (§2.9, §4.12) and the
// deterministic-id tests of the OASIS stix2 library (test_v21_base.py).
func TestSCOIDVectors(t *testing.T) {
	tests := []struct {
		source string
		obj    string
		want   string
	}{
		{"STIX 2.1 §2.9", `{"type":"ipv4-addr","value":"198.51.100.3"}`, "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"},
		{"STIX 2.1 §4.12", `{"type":"directory","spec_version":"2.1","path":"C:\\"}`, "directory--ab82f84a-5afc-5ea7-8d98-9fcbc277eda6"},
		{"stix2 test_id_gen_recursive_dict_conversion_1", `{"type":"file","name":"example.exe","size":68000,"magic_number_hex":"50000000",
			"hashes":{"SHA-256":"841a8921140aba50671ebb0770fecc4ee308c4952cfeff8de154ab14eeef4649"},
			"extensions":{"windows-pebinary-ext":{"pe_type":"exe","machine_hex":"014c","sections":[{"name":".data","size":4096,"entropy":7.980693,
			"hashes":{"SHA-256":"6e3b6f3978e5cd96ba7abee35c24e867b7e64072e2ecb22d0ee7a6e6af6894d0"}}]}}}`, "file--ced31cd4-bdcb-537d-aefa-92d291bfc11d"},
		{"stix2 test_id_gen_recursive_dict_conversion_2", `{"type":"windows-registry-key","values":[{"name":"Foo","data":"qwerty"},{"name":"Bar","data":"42"}]}`, "windows-registry-key--36594eba-bcc7-5014-9835-0e154264e588"},
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			props := mustProps(t, tt.obj)
			got, err := SCOID(props)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("SCOID = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestSCOIDRules checks the rules of §2.9 that the vectors do not reach.
func TestSCOIDRules(t *testing.T) {
	id := func(obj string) string {
		t.Helper()
		got, err := SCOID(mustProps(t, obj))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	const md5 = "a92e5b2bae0b4b3a3d81c85610b95cd4"
	const sha1 = "5374e08903744ceeaedd8f5e1bfc06b2c4688e76"
	const sha256 = "35a01331e9ad96f751278b891b6ea09699806faedfa237d40513d92ad1b7100f"

	// Only the preferred hash contributes: MD5, then SHA-1, then SHA-256.
	if a, b := id(`{"type":"file","hashes":{"MD5":"`+md5+`","SHA-1":"`+sha1+`"}}`), id(`{"type":"file","hashes":{"MD5":"`+md5+`"}}`); a != b {
		t.Errorf("MD5 and SHA-1 gave %s, MD5 alone %s: only MD5 should contribute", a, b)
	}
	if a, b := id(`{"type":"file","hashes":{"SHA-256":"`+sha256+`","SHA-1":"`+sha1+`"}}`), id(`{"type":"file","hashes":{"SHA-1":"`+sha1+`"}}`); a != b {
		t.Errorf("SHA-256 and SHA-1 gave %s, SHA-1 alone %s: only SHA-1 should contribute", a, b)
	}
	// Properties that do not contribute do not change the id.
	if a, b := id(`{"type":"email-addr","value":"john@example.com","display_name":"Johnny Doe"}`), id(`{"type":"email-addr","value":"john@example.com","display_name":"Janey Doe"}`); a != b {
		t.Errorf("display_name changed the id: %s, %s", a, b)
	}
	// Key order and number spelling do not change the id (RFC 8785).
	if a, b := id(`{"type":"network-traffic","src_port":80,"protocols":["tcp"]}`), id(`{"protocols":["tcp"],"src_port":8.0e1,"type":"network-traffic"}`); a != b {
		t.Errorf("equal JSON gave different ids: %s, %s", a, b)
	}
	// Without contributing properties the id is a fresh UUIDv4.
	a, b := id(`{"type":"process","pid":1}`), id(`{"type":"process","pid":1}`)
	if a == b || a[len("process--")+14] != '4' {
		t.Errorf("process ids %s and %s: want two different UUIDv4s", a, b)
	}
	if got := id(`{"type":"email-message","is_multipart":false}`); got[len("email-message--")+14] != '4' {
		t.Errorf("email-message without contributing properties got %s, want a UUIDv4", got)
	}

	if _, err := SCOID(mustProps(t, `{"type":"indicator"}`)); !errors.Is(err, ErrNotSCO) {
		t.Errorf("SCOID(indicator) error = %v, want ErrNotSCO", err)
	}
	if _, err := SCOID(mustProps(t, `{"type":"file","hashes":{}}`)); err == nil {
		t.Error("SCOID accepted empty hashes")
	}
}

func TestSplitIdentifier(t *testing.T) {
	tests := []struct {
		in   string
		typ  string
		isID bool
	}{
		{"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "indicator", true},
		{"x-acme-thing--8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F", "x-acme-thing", true},
		{"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4", "ipv4-addr", true},
		{"trailing---8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "trailing-", true},
		{"indicator--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f", "", false}, // version 0
		{"indicator--8e2e2d2b-17d4-6cbf-938f-98ee46b3cd3f", "", false}, // version 6
		{"indicator--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f", "", false}, // variant 110
		{"indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f", "", false},
		{"indicator-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "", false},
		{"Indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "", false},
		{"in--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "", false},
		{"a--b--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "", false},
		{"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3g", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		typ, ok := splitIdentifier(tt.in)
		if ok != tt.isID || typ != tt.typ {
			t.Errorf("splitIdentifier(%q) = %q, %v; want %q, %v", tt.in, typ, ok, tt.typ, tt.isID)
		}
	}
}

func TestNameRules(t *testing.T) {
	long := strings.Repeat("a", 250)
	tests := []struct {
		rule string
		f    func(string) bool
		yes  []string
		no   []string
	}{
		{"ValidTypeName", ValidTypeName,
			[]string{"abc", "x-acme", "ipv4-addr", "trailing-", long},
			[]string{"ab", "x_acme", "X-acme", "1abc", "a--b", long + "a", ""}},
		{"validPropertyName", validPropertyName,
			[]string{"abc", "x_acme", "123", "_ab", long},
			[]string{"ab", "x-acme", "X_acme", long + "a"}},
		{"validLangTag", validLangTag,
			[]string{"en", "de-CH", "zh-Hant-TW", "en-US-x-twain", "i-klingon"},
			[]string{"", "en-", "-en", "english language", "1en", "en-abcdefghi"}},
		{"isMAC48", isMAC48,
			[]string{"d2:fb:49:24:37:18"},
			[]string{"D2:FB:49:24:37:18", "d2-fb-49-24-37-18", "d2:fb:49:24:37", "d2:fb:49:24:37:1g"}},
		{"isCVE", isCVE,
			[]string{"CVE-2016-1234", "CVE-2021-44228"},
			[]string{"CVE-16-1234", "CVE-2016-123", "cve-2016-1234", "CVE-2016-12a4"}},
		{"isLowerHex", isLowerHex,
			[]string{"", "00ff", "014c"},
			[]string{"0", "00FF", "0x00", "zz"}},
	}
	for _, tt := range tests {
		for _, s := range tt.yes {
			if !tt.f(s) {
				t.Errorf("%s(%q) = false, want true", tt.rule, s)
			}
		}
		for _, s := range tt.no {
			if tt.f(s) {
				t.Errorf("%s(%q) = true, want false", tt.rule, s)
			}
		}
	}
}

func mustProps(t testing.TB, s string) map[string]any {
	t.Helper()
	o, err := Parse([]byte(s))
	if err != nil {
		if errors.Is(err, ErrNotObject) {
			t.Fatal(err)
		}
		// Objects without an id are fine for SCOID, which makes one.
		o, err = Parse([]byte(strings.Replace(s, "{", `{"id":"x--00000000-0000-4000-8000-000000000000",`, 1)))
		if err != nil {
			t.Fatal(err)
		}
		delete(o.Props, "id")
	}
	return o.Props
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", true},
		{"x-custom-type--8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F", true},
		{"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", true},
		{"indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f", false},
		{"Indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", false},
		{"in--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", false},
		{"x--y--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", false},
		{"--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

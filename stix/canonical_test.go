package stix

import (
	"strings"
	"testing"
)

func TestCanonical(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"whitespace and order", `{ "b" : 2, "a" : [ 1 , true , null ] }`, `{"a":[1,true,null],"b":2}`},
		{"nested order", `{"z":{"y":1,"x":2},"a":{}}`, `{"a":{},"z":{"x":2,"y":1}}`},
		// RFC 8785 §3.2.3: names sort by UTF-16 code units, so U+1F600
		// (a surrogate pair) comes before U+FB33.
		{"utf-16 order", `{"\ufb33":3,"\ud83d\ude00":2,"\u20ac":1}`, "{\"\u20ac\":1,\"\U0001F600\":2,\"\uFB33\":3}"},
		// RFC 8785 §3.2.2.2: minimal escapes, lower-case hex for controls.
		{"strings", `{"a":"\u0041\/\u001f\u2028é"}`, "{\"a\":\"A/\\u001f\u2028é\"}"},
		// RFC 8785 §3.2.2.3: ECMAScript number formatting.
		{"numbers", `[1.0, -0, 1e21, 1e-7, 123456789012, 0.000001, 1E2]`, `[1,0,1e+21,1e-7,123456789012,0.000001,100]`},
		{"scalar", ` "x" `, `"x"`},
		{"exact big integer", `[100000000000000000000, 9007199254740992]`, `[100000000000000000000,9007199254740992]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonical([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Canonical(%s) = %s, want %s", tt.in, got, tt.want)
			}
			again, err := Canonical(got)
			if err != nil || string(again) != string(got) {
				t.Errorf("canonical form is not stable: %s, %v", again, err)
			}
		})
	}
}

func TestCanonicalRejects(t *testing.T) {
	tests := []struct {
		name, in, msg string
	}{
		{"duplicate names", `{"a":1,"a":2}`, "duplicate"},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", "UTF-8"},
		{"lone surrogate", `{"a":"\ud800"}`, "surrogate"},
		{"big integer", `{"n":9007199254740993}`, "not exactly a double"},
		{"overflowing number", `[1e400]`, "double"},
		{"not JSON", `{a:1}`, "invalid"},
		{"two values", `{} {}`, ""},
		{"empty", ``, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonical([]byte(tt.in))
			if err == nil {
				t.Fatalf("Canonical(%q) = %s, want an error", tt.in, got)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
		})
	}
}

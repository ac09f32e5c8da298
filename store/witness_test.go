package store

import "testing"

func TestFreshCosignatures(t *testing.T) {
	note := []byte("origin\n5\nhash\n\n— node key1\n— witness-a sig-a\n")
	for _, tc := range []struct{ lines, want string }{
		{"— witness-a sig-a\n", ""},
		{"— witness-b sig-b\n", "— witness-b sig-b\n"},
		{"— witness-b sig-b\n— witness-a sig-a\n— witness-b sig-b\n— witness-c sig-c\n", "— witness-b sig-b\n— witness-c sig-c\n"},
		{"", ""},
	} {
		if got := string(FreshCosignatures(note, []byte(tc.lines))); got != tc.want {
			t.Errorf("FreshCosignatures(note, %q) = %q, want %q", tc.lines, got, tc.want)
		}
	}
}

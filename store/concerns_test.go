package store

import (
	"slices"
	"testing"
)

func TestConcerns(t *testing.T) {
	for _, parties := range [][]string{nil, {"party-a"}, {"party-a", "party-b", "party c"}} {
		s, err := JoinConcerns(parties)
		if err != nil {
			t.Fatalf("JoinConcerns(%q): %v", parties, err)
		}
		if got := SplitConcerns(s); !slices.Equal(got, parties) {
			t.Errorf("SplitConcerns(JoinConcerns(%q)) = %q", parties, got)
		}
	}
	for _, bad := range []string{"", "a\nb", "a\rb", "a\x00b"} {
		if _, err := JoinConcerns([]string{"party-a", bad}); err == nil {
			t.Errorf("JoinConcerns accepted party id %q", bad)
		}
	}
}

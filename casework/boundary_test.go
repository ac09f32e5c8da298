package casework

import "testing"

func TestScreen(t *testing.T) {
	for _, tc := range []struct {
		text string
		want Flags
	}{
		{"Please take down the article criticising the minister.", FlagRemoval},
		{"Request: TAKEDOWN of the video at the URL below", FlagRemoval},
		{"Block access to the website of the opposition newspaper", FlagRemoval},
		{"Flag the post as disinformation and identify the author.", FlagSpeech | FlagAuthors},
		{"Who posted this? Please unmask the account.", FlagAuthors},
		{"Destabilising material spread by diaspora groups", FlagSpeech},
		{"Sinkhole the C2 domains listed in the bundle; block indicators at the border.", 0},
		{"Scanning of the grid operator from AS64510 since 02:00 UTC.", 0},
		{"", 0},
		// A limit, kept on purpose: the words of a legitimate technical
		// request trip the screen too, and an operator releases it.
		{"The botnet's C2 server was taken down by the hosting provider.", FlagRemoval},
	} {
		if got := Screen(tc.text); got != tc.want {
			t.Errorf("Screen(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
	if got := Findings("Take-down the post; identify the author"); len(got) != 2 {
		t.Errorf("findings %q", got)
	}
}

// TestFlaggedNotRefused: free text that asks for takedown does not stop a
// step, it flags the case for an operator; the structured fields cannot
// say it at all (TestNewRefusesBadFields).
func TestFlaggedNotRefused(t *testing.T) {
	a := testAgreement(t)
	f := sampleFields(TypeAssistance).(*Assistance)
	f.Description = "Please take down the blog that insults our president."
	c, err := New(NewID(TypeAssistance), f, "arcadia", "borealis", a, t0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Flags&FlagRemoval == 0 {
		t.Fatalf("flags %v", c.Flags)
	}
	c = step(t, c, EventSend, "arcadia")
	if c.Flags&FlagRemoval == 0 {
		t.Error("the flag was lost on a step")
	}
}

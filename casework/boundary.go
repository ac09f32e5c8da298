package casework

import (
	"strings"
	"unicode"
)

// Flags are what the content screen found in a case's free text.
type Flags uint8

const (
	// FlagRemoval: the text reads as a request to take down, remove, block
	// or de-list content.
	FlagRemoval Flags = 1 << iota
	// FlagSpeech: the text reads as a request to flag or label speech.
	FlagSpeech
	// FlagAuthors: the text reads as a request to identify the authors of
	// speech.
	FlagAuthors
)

func (f Flags) String() string {
	var parts []string
	if f&FlagRemoval != 0 {
		parts = append(parts, "content-removal")
	}
	if f&FlagSpeech != 0 {
		parts = append(parts, "speech-flagging")
	}
	if f&FlagAuthors != 0 {
		parts = append(parts, "author-identification")
	}
	return strings.Join(parts, ",")
}

// screenPhrases are the phrases the screen looks for, lower case, with
// words separated by single spaces. The list is narrow on purpose: it is a
// tripwire for a request the formats cannot express and someone tries to
// slip into free text, not a classifier. See doc/casework.md for what it
// cannot do.
var screenPhrases = []struct {
	phrase string
	flag   Flags
}{
	{"takedown", FlagRemoval}, {"take down", FlagRemoval}, {"taken down", FlagRemoval}, {"take-down", FlagRemoval},
	{"remove the content", FlagRemoval}, {"remove content", FlagRemoval}, {"content removal", FlagRemoval},
	{"remove the post", FlagRemoval}, {"remove the article", FlagRemoval}, {"remove the video", FlagRemoval},
	{"delete the post", FlagRemoval}, {"delete the account", FlagRemoval}, {"delete the article", FlagRemoval},
	{"block access to the website", FlagRemoval}, {"block the website", FlagRemoval}, {"block the site", FlagRemoval},
	{"de-index", FlagRemoval}, {"deindex", FlagRemoval}, {"delist", FlagRemoval}, {"censor", FlagRemoval},
	{"flag the post", FlagSpeech}, {"flag the content", FlagSpeech}, {"flag as disinformation", FlagSpeech},
	{"label as disinformation", FlagSpeech}, {"disinformation", FlagSpeech}, {"destabilizing", FlagSpeech},
	{"destabilising", FlagSpeech}, {"fake news", FlagSpeech}, {"extremist content", FlagSpeech},
	{"harmful information", FlagSpeech}, {"interference in internal affairs", FlagSpeech},
	{"identify the author", FlagAuthors}, {"identity of the author", FlagAuthors}, {"authors of the", FlagAuthors},
	{"author of the", FlagAuthors}, {"who posted", FlagAuthors}, {"who wrote", FlagAuthors}, {"unmask", FlagAuthors},
	{"deanonymi", FlagAuthors}, {"de-anonymi", FlagAuthors}, {"identify the blogger", FlagAuthors},
	{"identify the journalist", FlagAuthors}, {"owner of the account that posted", FlagAuthors},
}

// Screen reports which of the requests the formats cannot express the text
// seems to make. It folds case and collapses runs of spaces and punctuation
// other than hyphens, then looks for fixed phrases. A flagged case is not
// refused: it waits for an operator, who may find the words harmless ("the
// botnet's C2 was taken down") and release it, or stop it.
func Screen(text string) Flags {
	if text == "" {
		return 0
	}
	norm := normalize(text)
	var f Flags
	for _, p := range screenPhrases {
		if f&p.flag == 0 && strings.Contains(norm, p.phrase) {
			f |= p.flag
		}
	}
	return f
}

// Findings lists the phrases Screen matched in text, for the operator.
func Findings(text string) []string {
	norm := normalize(text)
	var out []string
	for _, p := range screenPhrases {
		if strings.Contains(norm, p.phrase) {
			out = append(out, p.phrase)
		}
	}
	return out
}

func normalize(text string) string {
	var b strings.Builder
	b.Grow(len(text) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range text {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-':
			b.WriteRune(unicode.ToLower(r))
			space = false
		case !space:
			b.WriteByte(' ')
			space = true
		}
	}
	b.WriteByte(' ')
	return b.String()
}

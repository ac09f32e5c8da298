package signature

import (
	"fmt"
	"strings"
)

// An Error is a rule that does not parse or breaks its language's rules,
// and where.
type Error struct {
	Lang   string // "suricata", "snort", "sigma" or "yara"
	Offset int    // byte offset in the source
	Line   int    // 1-based
	Column int    // 1-based, in bytes
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s rule, line %d, column %d: %s", e.Lang, e.Line, e.Column, e.Msg)
}

// errorAt builds an Error for the byte offset off of src.
func errorAt(lang, src string, off int, format string, args ...any) *Error {
	off = max(0, min(off, len(src)))
	line := 1 + strings.Count(src[:off], "\n")
	col := off + 1
	if i := strings.LastIndexByte(src[:off], '\n'); i >= 0 {
		col = off - i
	}
	return &Error{Lang: lang, Offset: off, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// Languages are the pattern_type values Check reads.
var Languages = []string{"suricata", "snort", "sigma", "yara"}

// Checks reports whether Check reads patterns of the given pattern_type.
func Checks(patternType string) bool {
	switch patternType {
	case "suricata", "snort", "sigma", "yara":
		return true
	}
	return false
}

// Check parses src as a rule of the language patternType names. It returns
// nil for a valid rule and for a language it does not read (see Checks).
func Check(patternType, src string) error {
	var err error
	switch patternType {
	case "suricata":
		_, err = ParseSuricata(src)
	case "snort":
		_, err = ParseSnort(src)
	case "sigma":
		_, err = ParseSigma(src)
	case "yara":
		_, err = ParseYARA(src)
	}
	return err
}

// maxRuleSize bounds one pattern: a rule set larger than this belongs in
// several indicators.
const maxRuleSize = 1 << 20

func tooLarge(lang, src string) error {
	if len(src) > maxRuleSize {
		return errorAt(lang, src, maxRuleSize, "the rule text is longer than %d bytes; split it over several indicators", maxRuleSize)
	}
	return nil
}

package node

import (
	"github.com/entente/entente/signature"
	"github.com/entente/entente/stix"
)

// checkSignature parses the pattern of an indicator written in a detection
// rule language (pattern_type suricata, snort, sigma or yara) with that
// language's parser, so that a partner's sensor never receives a rule it
// cannot load. Other objects and pattern types pass; stix.Check has parsed
// STIX patterns already.
func checkSignature(o *stix.Object) error {
	if o.Type != "indicator" {
		return nil
	}
	lang, _ := o.Props["pattern_type"].(string)
	src, ok := o.Props["pattern"].(string)
	if !ok || !signature.Checks(lang) {
		return nil
	}
	if err := signature.Check(lang, src); err != nil {
		return &stix.Error{Path: "pattern", Rule: "pattern", Msg: "not a valid " + lang + " rule: " + err.Error()}
	}
	return nil
}

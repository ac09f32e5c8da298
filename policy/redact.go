package policy

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/entente/entente/stix"
)

// commonRequired are the properties no object can lose: its identity, its
// version, and its markings (removing a marking would release the data it
// protects unmarked).
var commonRequired = []string{"type", "id", "spec_version", "created", "modified", "object_marking_refs", "granular_markings"}

// typeRequired are the properties STIX 2.1 requires of each type (§4–§6),
// or that make up a cyber-observable's identity.
var typeRequired = map[string][]string{
	"attack-pattern":   {"name"},
	"campaign":         {"name"},
	"course-of-action": {"name"},
	"grouping":         {"context", "object_refs"},
	"identity":         {"name"},
	"incident":         {"name"},
	"indicator":        {"pattern", "pattern_type", "valid_from"},
	"infrastructure":   {"name"},
	"intrusion-set":    {"name"},
	"malware":          {"is_family"},
	"malware-analysis": {"product"},
	"note":             {"content", "object_refs"},
	"observed-data":    {"first_observed", "last_observed", "number_observed"},
	"opinion":          {"opinion", "object_refs"},
	"report":           {"name", "published", "object_refs"},
	"threat-actor":     {"name"},
	"tool":             {"name"},
	"vulnerability":    {"name"},
	"relationship":     {"relationship_type", "source_ref", "target_ref"},
	"sighting":         {"sighting_of_ref"},

	"autonomous-system":    {"number"},
	"domain-name":          {"value"},
	"email-addr":           {"value"},
	"ipv4-addr":            {"value"},
	"ipv6-addr":            {"value"},
	"mac-addr":             {"value"},
	"mutex":                {"name"},
	"url":                  {"value"},
	"windows-registry-key": {"key"},
}

func required(typ, prop string) bool {
	return slices.Contains(commonRequired, prop) || slices.Contains(typeRequired[typ], prop)
}

// Apply returns the object to send for decision d: o itself for Allow, a
// redacted copy for Redact. It refuses a Deny. The copy keeps only the
// granular markings whose selectors all point at properties that remain.
func Apply(o *stix.Object, d Decision) (*stix.Object, error) {
	switch d.Verdict {
	case Allow:
		return o, nil
	case Redact:
	default:
		return nil, errors.New("policy: the decision denies release")
	}
	props := maps.Clone(o.Props)
	for _, p := range d.Redact {
		if required(o.Type, p) {
			return nil, fmt.Errorf("policy: cannot redact required property %q", p)
		}
		delete(props, p)
	}
	if gms, ok := props["granular_markings"].([]any); ok {
		var kept []any
		for _, gm := range gms {
			if keepMarking(gm, props) {
				kept = append(kept, gm)
			}
		}
		if len(kept) == 0 {
			delete(props, "granular_markings")
		} else {
			props["granular_markings"] = kept
		}
	}
	return stix.New(props)
}

func keepMarking(gm any, props map[string]any) bool {
	m, _ := gm.(map[string]any)
	sels, _ := m["selectors"].([]any)
	for _, s := range sels {
		sel, _ := s.(string)
		top, _, _ := strings.Cut(sel, ".")
		if _, ok := props[top]; !ok {
			return false
		}
	}
	return true
}

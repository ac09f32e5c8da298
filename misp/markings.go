package misp

import (
	"strings"

	"github.com/entente/entente/stix"
)

// distributionTLP is the TLP 2.0 level that a MISP distribution level
// allows at most. "Your organisation only" and sharing groups (lists of
// named organisations) become TLP:RED, which Entente releases only to named
// recipients; "This community only" TLP:AMBER; "Connected communities" and
// "All communities" TLP:GREEN: MISP communities are closed groups, so not
// even "all communities" is TLP:CLEAR, which only a TLP tag gives. 5
// ("inherit") and an absent level say nothing.
func distributionTLP(level Text) stix.TLP {
	switch level {
	case "0", "4":
		return stix.TLPRed
	case "1":
		return stix.TLPAmber
	case "2", "3":
		return stix.TLPGreen
	}
	return stix.TLPNone
}

// tlpDistribution is the MISP distribution level an export gives a TLP
// level: the most permissive level whose TLP is not more permissive.
func tlpDistribution(t stix.TLP) Text {
	switch t {
	case stix.TLPClear:
		return "3"
	case stix.TLPGreen:
		return "2"
	case stix.TLPAmber, stix.TLPAmberStrict:
		return "1"
	}
	return "0"
}

// tagTLP returns the TLP level a tag names ("tlp:amber", "tlp:white",
// "tlp:amber+strict"), or false for any other tag.
func tagTLP(name string) (stix.TLP, bool) {
	if len(name) < 4 || !strings.EqualFold(name[:4], "tlp:") {
		return stix.TLPNone, false
	}
	return stix.ParseTLP(name)
}

// tlpTag is the MISP tag of a TLP level.
func tlpTag(t stix.TLP) string { return strings.ToLower(t.String()) }

// levelOf is the most restrictive of what a distribution level and a
// list of tags say.
func levelOf(distribution Text, tags []Tag) stix.TLP {
	level := distributionTLP(distribution)
	for _, t := range tags {
		if l, ok := tagTLP(t.Name); ok {
			level = max(level, l)
		}
	}
	return level
}

// isGalaxyTag reports whether a tag names a galaxy cluster, which the
// galaxy's own mapping carries.
func isGalaxyTag(name string) bool { return strings.HasPrefix(name, "misp-galaxy:") }

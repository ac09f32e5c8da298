package match

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/entente/entente/stix"
)

// ParseIndicators reads the indicators of a STIX bundle, or of STIX
// objects written one per line. Objects of other types are ignored. An
// indicator that cannot be matched (another pattern_type, a bad pattern)
// is returned among the problems; input that is not STIX is an error.
func ParseIndicators(data []byte) (inds []Indicator, problems []error, err error) {
	var probe struct {
		Type string `json:"type"`
	}
	var objs []*stix.Object
	if json.Unmarshal(data, &probe) == nil && probe.Type == "bundle" {
		b, err := stix.ParseBundle(data)
		if err != nil {
			return nil, nil, err
		}
		objs = b.Objects
	} else {
		n := 0
		for line := range bytes.Lines(data) {
			n++
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			o, err := stix.Parse(line)
			if err != nil {
				return nil, nil, fmt.Errorf("line %d: %w (want a STIX bundle, or one STIX object per line)", n, err)
			}
			objs = append(objs, o)
		}
	}
	inds, problems = IndicatorsOf(objs)
	return inds, problems, nil
}

// IndicatorsOf returns the indicators among objs that can be matched, and
// why the others cannot.
func IndicatorsOf(objs []*stix.Object) ([]Indicator, []error) {
	var inds []Indicator
	var problems []error
	for _, o := range objs {
		if o.Type != "indicator" {
			continue
		}
		ind, err := IndicatorFromObject(o)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		inds = append(inds, ind)
	}
	return inds, problems
}

package pattern

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// ObservationsFromBundle reads a STIX 2.1 bundle and returns one
// Observation per observed-data object, in bundle order. An observed-data
// names its SCOs with object_refs (resolved against the bundle's other
// objects) or, in the deprecated STIX 2.0 style, embeds them in an objects
// dictionary. Numbers are kept as json.Number so that integer comparisons
// stay exact.
func ObservationsFromBundle(data []byte) ([]Observation, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var bundle struct {
		Type    string            `json:"type"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := dec.Decode(&bundle); err != nil {
		return nil, fmt.Errorf("bundle: invalid JSON: %w", err)
	}
	if bundle.Type != "bundle" {
		return nil, fmt.Errorf("bundle: type is %q, want \"bundle\"", bundle.Type)
	}
	byID := make(map[string]map[string]any, len(bundle.Objects))
	var observed []map[string]any
	for i, raw := range bundle.Objects {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var obj map[string]any
		if err := d.Decode(&obj); err != nil {
			return nil, fmt.Errorf("bundle: objects[%d]: not a JSON object", i)
		}
		id, _ := obj["id"].(string)
		if id == "" {
			return nil, fmt.Errorf("bundle: objects[%d]: missing string id", i)
		}
		byID[id] = obj
		if obj["type"] == "observed-data" {
			observed = append(observed, obj)
		}
	}
	if len(observed) == 0 {
		return nil, errors.New("bundle: no observed-data objects to match against")
	}
	out := make([]Observation, 0, len(observed))
	for _, od := range observed {
		o, err := observationFrom(od, byID)
		if err != nil {
			return nil, fmt.Errorf("bundle: %s: %w", od["id"], err)
		}
		out = append(out, o)
	}
	return out, nil
}

// maxNumberObserved is the spec's upper bound for number_observed.
const maxNumberObserved = 999_999_999

func observationFrom(od map[string]any, byID map[string]map[string]any) (Observation, error) {
	o := Observation{ID: od["id"].(string)}
	var err error
	if o.First, err = timeProp(od, "first_observed"); err != nil {
		return o, err
	}
	if o.Last, err = timeProp(od, "last_observed"); err != nil {
		return o, err
	}
	if o.Last.Before(o.First) {
		return o, errors.New("last_observed is before first_observed")
	}
	n, _ := od["number_observed"].(json.Number)
	count, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || count < 1 || count > maxNumberObserved {
		return o, fmt.Errorf("number_observed must be an integer from 1 to %d", maxNumberObserved)
	}
	o.Count = int(count)

	refs, hasRefs := od["object_refs"].([]any)
	embedded, hasObjects := od["objects"].(map[string]any)
	switch {
	case hasRefs:
		// Only the SCOs the observed-data lists belong to the observation:
		// a reference to any other object does not resolve, even when the
		// bundle holds it (section 9.7.4).
		o.Objects = make(map[string]map[string]any, len(refs))
		for i, r := range refs {
			id, _ := r.(string)
			obj, ok := byID[id]
			if !ok {
				return o, fmt.Errorf("object_refs[%d] %q is not in the bundle: include the SCO it names", i, r)
			}
			o.Objects[id] = obj
			o.Roots = append(o.Roots, id)
		}
	case hasObjects:
		o.Objects = make(map[string]map[string]any, len(embedded))
		for k, v := range embedded {
			obj, ok := v.(map[string]any)
			if !ok {
				return o, fmt.Errorf("objects[%q] is not a JSON object", k)
			}
			o.Objects[k] = obj
			o.Roots = append(o.Roots, k)
		}
		// Dictionary keys are "0", "1", …; order them numerically so
		// bindings are reported deterministically.
		slices.SortFunc(o.Roots, func(a, b string) int {
			if len(a) != len(b) {
				return len(a) - len(b)
			}
			return cmp.Compare(a, b)
		})
	default:
		return o, errors.New("neither object_refs nor objects is present")
	}
	return o, nil
}

func timeProp(obj map[string]any, name string) (time.Time, error) {
	s, _ := obj[name].(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, fmt.Errorf("%s %q is not an RFC 3339 timestamp", name, s)
	}
	return t.UTC(), nil
}

// Package stix20 upgrades STIX 2.0 content to STIX 2.1.
//
// STIX 2.0 (OASIS, July 2017: https://docs.oasis-open.org/cti/stix/v2.0/)
// differs from STIX 2.1 (https://docs.oasis-open.org/cti/stix/v2.1/) in ways
// that [Upgrade] rewrites: objects gain spec_version; observed data's
// embedded "objects" become cyber-observable objects of their own, with
// the identifiers STIX 2.1 §2.9 derives from their ID contributing
// properties, referenced from object_refs; the labels that 2.0 required on
// indicators, malware, tools, threat actors and reports become the *_types
// vocabularies 2.1 gives them; indicators gain pattern_type; renamed
// properties of observables (file created → ctime, process binary_ref →
// image_ref, ...) take their 2.1 names. What 2.1 has no place for is
// refused with the object's index and the field, never dropped silently.
// The conversions follow those of OASIS's stix2-elevator where the
// specifications leave a choice (malware is_family is true).
package stix20

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/entente/entente/stix"
)

// Problem is an object that cannot be upgraded: Index is its place in the
// bundle's objects (from 0), Path the field, Msg the reason.
type Problem struct {
	Index int
	ID    string
	Path  string
	Msg   string
}

func (p *Problem) Error() string {
	id := ""
	if p.ID != "" {
		id = " (" + p.ID + ")"
	}
	return fmt.Sprintf("objects[%d]%s: %s: %s", p.Index, id, p.Path, p.Msg)
}

// ErrNotBundle is returned for input that is not a STIX bundle.
var ErrNotBundle = errors.New("stix20: not a STIX bundle: want {\"type\": \"bundle\", \"objects\": [...]}")

// typesVocab names, for the types whose labels 2.0 required, the 2.1
// property that holds the same open vocabulary.
var typesVocab = map[string]string{
	"indicator": "indicator_types", "malware": "malware_types", "tool": "tool_types",
	"threat-actor": "threat_actor_types", "report": "report_types",
}

// Upgrade reads a STIX 2.0 bundle and returns its objects in STIX 2.1, the
// cyber-observables of observed data just before the observed data. Objects
// that already say spec_version 2.1 are kept as they are. Each object that
// cannot be upgraded is left out and reported as a *Problem; err is set
// only when data is not a bundle at all.
func Upgrade(data []byte) (objs []json.RawMessage, problems []error, err error) {
	var bundle struct {
		Type    string            `json:"type"`
		Objects []json.RawMessage `json:"objects"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&bundle); err != nil || bundle.Type != "bundle" {
		if err != nil {
			return nil, nil, fmt.Errorf("%w (%v)", ErrNotBundle, err)
		}
		return nil, nil, ErrNotBundle
	}
	for i, raw := range bundle.Objects {
		out, err := upgradeObject(i, raw)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		objs = append(objs, out...)
	}
	return objs, problems, nil
}

func upgradeObject(i int, raw json.RawMessage) ([]json.RawMessage, error) {
	// stix.Parse refuses what encoding/json would read leniently (a name
	// given twice, invalid UTF-8), which could hide a value.
	if _, err := stix.Parse(raw); err != nil {
		var se *stix.Error
		if errors.As(err, &se) {
			return nil, &Problem{Index: i, Path: se.Path, Msg: se.Msg}
		}
		return nil, &Problem{Index: i, Msg: err.Error()}
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, &Problem{Index: i, Path: "", Msg: "not a JSON object"}
	}
	fail := func(path, format string, args ...any) error {
		id, _ := m["id"].(string)
		return &Problem{Index: i, ID: id, Path: path, Msg: fmt.Sprintf(format, args...)}
	}
	typ, _ := m["type"].(string)
	id, _ := m["id"].(string)
	if typ == "" {
		return nil, fail("type", "missing or not a string")
	}
	if !strings.HasPrefix(id, typ+"--") {
		return nil, fail("id", "%q is not an identifier of a %s", id, typ)
	}
	switch sv := m["spec_version"]; sv {
	case "2.1":
		return []json.RawMessage{raw}, nil
	case nil, "2.0":
	default:
		return nil, fail("spec_version", "%v is neither 2.0 nor 2.1", sv)
	}
	if _, ok := stix.TLPOf(id); ok && typ == "marking-definition" {
		// The TLP 1.0 definitions have the same ids in 2.1, which also
		// gives them a name; use the published objects.
		for _, o := range stix.TLPMarkingDefinitions() {
			if o.ID == id {
				return []json.RawMessage{o.Raw}, nil
			}
		}
	}
	m["spec_version"] = "2.1"
	if vocab := typesVocab[typ]; vocab != "" {
		if labels, ok := m["labels"]; ok {
			if _, has := m[vocab]; !has {
				m[vocab] = labels
			}
			delete(m, "labels")
		}
	}
	var out []json.RawMessage
	switch typ {
	case "indicator":
		if _, ok := m["pattern_type"]; !ok {
			m["pattern_type"] = "stix"
		}
	case "malware":
		if _, ok := m["is_family"]; !ok {
			m["is_family"] = true
		}
	case "observed-data":
		objects, ok := m["objects"].(map[string]any)
		if !ok || len(objects) == 0 {
			return nil, fail("objects", "observed data in STIX 2.0 needs a non-empty objects dictionary")
		}
		scos, refs, err := observables(id, objects)
		if err != nil {
			var p *Problem
			if errors.As(err, &p) {
				p.Index, p.ID = i, id
			}
			return nil, err
		}
		delete(m, "objects")
		m["object_refs"] = refs
		out = scos
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fail("", "cannot be encoded: %v", err)
	}
	return append(out, b), nil
}

// renamed lists the properties of observables that STIX 2.1 renamed.
var renamed = map[string]map[string]string{
	"file":                 {"created": "ctime", "modified": "mtime", "accessed": "atime"},
	"directory":            {"created": "ctime", "modified": "mtime", "accessed": "atime"},
	"process":              {"created": "created_time", "binary_ref": "image_ref"},
	"windows-registry-key": {"modified": "modified_time"},
}

// removed lists the properties of observables that STIX 2.1 removed
// without a successor, so that an object holding them cannot be upgraded
// without losing them.
var removed = map[string][]string{
	"file":    {"is_encrypted", "encryption_algorithm", "decryption_key"},
	"process": {"name", "arguments"},
}

// observables turns the embedded objects of one observed data into SCOs,
// resolving their local references ("0", "1", ...) into the identifiers
// the SCOs get; since references contribute to ids, referenced objects
// are resolved first.
func observables(parent string, objects map[string]any) ([]json.RawMessage, []string, error) {
	keys := make([]string, 0, len(objects))
	for k := range objects {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	ids := map[string]string{}
	state := map[string]int{} // 1 resolving, 2 done
	built := map[string]map[string]any{}
	var resolve func(k string) error
	resolve = func(k string) error {
		switch state[k] {
		case 1:
			return &Problem{Path: "objects." + k, Msg: "its references form a cycle, which STIX 2.1 ids cannot express"}
		case 2:
			return nil
		}
		state[k] = 1
		o, ok := objects[k].(map[string]any)
		if !ok {
			return &Problem{Path: "objects." + k, Msg: "not a JSON object"}
		}
		typ, _ := o["type"].(string)
		if typ == "" {
			return &Problem{Path: "objects." + k + ".type", Msg: "missing or not a string"}
		}
		sco := make(map[string]any, len(o)+2)
		for p, v := range o {
			if slices.Contains(removed[typ], p) {
				return &Problem{Path: "objects." + k + "." + p, Msg: fmt.Sprintf("STIX 2.1 removed this property of %s and has none to take its value", typ)}
			}
			if n, ok := renamed[typ][p]; ok {
				p = n
			}
			sco[p] = v
		}
		// Local references become identifiers.
		var err error
		for p, v := range sco {
			if sco[p], err = rewriteRefs("objects."+k+"."+p, p, v, objects, ids, resolve); err != nil {
				return err
			}
		}
		sco["spec_version"] = "2.1"
		id, err := stix.SCOID(sco)
		if errors.Is(err, stix.ErrNotSCO) {
			return &Problem{Path: "objects." + k + ".type", Msg: fmt.Sprintf("%q is not a STIX 2.1 cyber-observable type; a custom observable needs an extension definition in 2.1", typ)}
		}
		if err != nil {
			return &Problem{Path: "objects." + k, Msg: err.Error()}
		}
		if u, err := uuid.Parse(strings.TrimPrefix(id, typ+"--")); err == nil && u.Version() == 4 {
			// No ID contributing property: §2.9 wants a UUIDv4; draw it
			// from the observed data's id and the key, so that a re-import
			// gives the same one.
			d := uuid.NewSHA1(stix.SCONamespace, []byte(parent+"/"+k))
			d[6] = d[6]&0x0f | 0x40
			id = typ + "--" + d.String()
		}
		sco["id"] = id
		ids[k] = id
		built[k] = sco
		state[k] = 2
		return nil
	}
	for _, k := range keys {
		if err := resolve(k); err != nil {
			return nil, nil, err
		}
	}
	var out []json.RawMessage
	var refs []string
	seen := map[string]bool{}
	for _, k := range keys {
		id := ids[k]
		refs = append(refs, id)
		if seen[id] {
			continue // two keys, one observable
		}
		seen[id] = true
		b, err := json.Marshal(built[k])
		if err != nil {
			return nil, nil, &Problem{Path: "objects." + k, Msg: err.Error()}
		}
		out = append(out, b)
	}
	return out, slices.Compact(refs), nil
}

// rewriteRefs replaces the local references under a property: the values
// of *_ref and the elements of *_refs, at any depth.
func rewriteRefs(path, name string, v any, objects map[string]any, ids map[string]string, resolve func(string) error) (any, error) {
	ref := func(path string, v any) (any, error) {
		k, ok := v.(string)
		if !ok {
			return nil, &Problem{Path: path, Msg: "a reference must be a string, the key of another object of the observed data"}
		}
		if _, ok := objects[k]; !ok {
			return nil, &Problem{Path: path, Msg: fmt.Sprintf("refers to %q, which is not a key of the observed data's objects", k)}
		}
		if err := resolve(k); err != nil {
			return nil, err
		}
		return ids[k], nil
	}
	switch {
	case strings.HasSuffix(name, "_ref"):
		return ref(path, v)
	case strings.HasSuffix(name, "_refs"):
		l, ok := v.([]any)
		if !ok {
			return nil, &Problem{Path: path, Msg: "must be a list of references"}
		}
		out := make([]any, len(l))
		for i, e := range l {
			r, err := ref(path+"["+strconv.Itoa(i)+"]", e)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			r, err := rewriteRefs(path+"."+k, k, e, objects, ids, resolve)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			r, err := rewriteRefs(path+"["+strconv.Itoa(i)+"]", "", e, objects, ids, resolve)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// compareKeys orders the keys of observed data's objects as numbers where
// they are ("2" before "10").
func compareKeys(a, b string) int {
	na, ea := strconv.Atoi(a)
	nb, eb := strconv.Atoi(b)
	switch {
	case ea == nil && eb == nil:
		return na - nb
	case ea == nil:
		return -1
	case eb == nil:
		return 1
	}
	return strings.Compare(a, b)
}

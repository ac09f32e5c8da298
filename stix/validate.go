package stix

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/entente/entente/stix/pattern"
)

// Validate checks o against the STIX 2.1 rules that apply to one object on
// its own (references are checked for form and target type, not resolved).
// It returns nil, or an Errors listing every violation in a stable order.
// What Check reports as warnings does not make an object invalid.
//
// Objects of types that STIX 2.1 does not define are custom objects (§11.2):
// their common properties are checked as for an SDO, or as for an SRO or SCO
// when an extension definition declares them new-sro or new-sco.
func Validate(o *Object) error {
	_, err := Check(o)
	return err
}

// Check validates o as Validate does, and also returns warnings: what in
// o departs from a recommendation (a SHOULD) of STIX 2.1, or from the
// form the specification gives properties it defines, without breaking a
// requirement. They are
//   - a custom property named *_ref or *_refs that holds something other
//     than identifiers: §3.1 requires identifiers in the properties the
//     specification defines, not in every custom one;
//   - an extensions key that is neither an extension definition's id nor
//     a predefined extension (§3.2 says SHOULD);
//   - an SCO whose UUIDv5 id is not the one its ID contributing properties
//     give (§2.9 says SHOULD; a receiver cannot know the producer's
//     namespace).
//
// Warnings come in a stable order, in the shape of violations.
func Check(o *Object) (Warnings, error) {
	if o == nil || o.Props == nil {
		return nil, Errors{{Rule: "required", Msg: "no object to validate"}}
	}
	var v validator
	v.object(o.Props)
	sortErrors(Errors(v.warns))
	return v.warns, v.result()
}

// validator collects violations and warnings while it walks an object.
// The path is a stack of elements rendered only when one is reported, so
// that a valid object costs no string building.
type validator struct {
	errs  Errors
	warns Warnings
	path  []pathElem
	// soft > 0 while checking what STIX 2.1 does not constrain (custom
	// properties): what fails there is a warning.
	soft int
}

type pathElem struct {
	key string
	idx int // used when key == ""
}

func (v *validator) result() error {
	if len(v.errs) == 0 {
		return nil
	}
	sortErrors(v.errs)
	return v.errs
}

func (v *validator) push(key string) { v.path = append(v.path, pathElem{key: key}) }
func (v *validator) pushIndex(i int) { v.path = append(v.path, pathElem{idx: i}) }
func (v *validator) pop()            { v.path = v.path[:len(v.path)-1] }

func (v *validator) pathString() string {
	var b strings.Builder
	for i, e := range v.path {
		if e.key == "" {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.idx))
			b.WriteByte(']')
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e.key)
	}
	return b.String()
}

// fail reports a violation at the current path, or a warning while
// softly checking.
func (v *validator) fail(rule, format string, args ...any) {
	e := &Error{Path: v.pathString(), Rule: rule, Msg: fmt.Sprintf(format, args...)}
	if v.soft > 0 {
		v.warns = append(v.warns, e)
		return
	}
	v.errs = append(v.errs, e)
}

// warn reports a warning at the current path.
func (v *validator) warn(rule, format string, args ...any) {
	v.softly(func() { v.fail(rule, format, args...) })
}

// softly runs check with what fails in it reported as warnings.
func (v *validator) softly(check func()) {
	v.soft++
	defer func() { v.soft-- }()
	check()
}

// failAt reports a violation at the child key of the current path.
func (v *validator) failAt(key, rule, format string, args ...any) {
	v.push(key)
	v.fail(rule, format, args...)
	v.pop()
}

// category is the kind of STIX object, which decides its common properties.
type category uint8

const (
	catSDO category = iota + 1
	catSRO
	catSCO
	catMarking
	catLanguage
	catExtensionDef
)

func (c category) String() string {
	switch c {
	case catSDO:
		return "SDO"
	case catSRO:
		return "SRO"
	case catSCO:
		return "SCO"
	case catMarking:
		return "marking-definition"
	case catLanguage:
		return "language-content"
	case catExtensionDef:
		return "extension-definition"
	}
	return "object"
}

// use says whether a common property is required, optional or not
// applicable to a category (STIX 2.1 §3.2, the common properties table).
type use uint8

const (
	na use = iota
	optional
	required
)

// commonUse is the §3.2 table, one column per category, in the order
// SDO, SRO, SCO, marking-definition, language-content, extension-definition.
var commonUse = map[string][6]use{
	"spec_version":        {required, required, optional, required, required, required},
	"created_by_ref":      {optional, optional, na, optional, optional, required},
	"created":             {required, required, na, required, required, required},
	"modified":            {required, required, na, na, required, required},
	"revoked":             {optional, optional, na, na, optional, optional},
	"labels":              {optional, optional, na, na, optional, optional},
	"confidence":          {optional, optional, na, na, optional, na},
	"lang":                {optional, optional, na, na, na, na},
	"external_references": {optional, optional, na, optional, optional, optional},
	"object_marking_refs": {optional, optional, optional, optional, optional, optional},
	"granular_markings":   {optional, optional, optional, optional, optional, optional},
	"defanged":            {na, na, optional, na, na, na},
	"extensions":          {optional, optional, optional, optional, optional, na},
}

// scoVersioning are the properties that SCOs do not define but that a
// producer may still use to version an SCO (§3.6, last paragraph).
var scoVersioning = map[string]bool{"created": true, "modified": true, "revoked": true, "created_by_ref": true}

func (v *validator) object(m map[string]any) {
	typ, ok := m["type"].(string)
	switch {
	case m["type"] == nil:
		v.failAt("type", "required", "property is required")
		return
	case !ok:
		v.failAt("type", "type", "must be a string")
		return
	case !ValidTypeName(typ):
		v.failAt("type", "type-name", "%q is not a valid type name: 3 to 250 characters of a-z, 0-9 and hyphens, starting with a letter", typ)
		return
	case typ == "bundle":
		v.failAt("type", "bundle", "a bundle is not a STIX object (§8); parse it with ParseBundle, or send the objects it holds")
		return
	}
	spec := types[typ]
	cat, known := categoryOf[typ]
	if !known {
		cat = customCategory(m)
	}

	v.identifier(m, "id", typ)
	v.specVersion(m, cat)
	for name, col := range commonUse {
		u := col[cat-1]
		val, present := m[name]
		switch {
		case u == required && !present && name != "spec_version":
			v.failAt(name, "required", "property is required on %s objects", cat)
		case u == na && present && !(cat == catSCO && scoVersioning[name]):
			v.failAt(name, "not-applicable", "%s is not a property of %s objects; remove it", name, cat)
		case present:
			v.common(m, name, val, typ, spec)
		}
	}
	v.versioning(m)

	if spec != nil {
		v.props(m, &spec.objSpec, true)
		if cat == catSCO {
			v.scoID(m, typ)
		}
	} else {
		v.customProps(m)
	}
}

// customCategory reads the category of a custom object from the extension
// definitions it names (§7.3): new-sro and new-sco change the common
// properties; anything else, and the deprecated custom objects of §11.2
// without extensions, have those of an SDO.
func customCategory(m map[string]any) category {
	exts, _ := m["extensions"].(map[string]any)
	var sro, sco bool
	for _, e := range exts {
		em, _ := e.(map[string]any)
		switch em["extension_type"] {
		case "new-sro":
			sro = true
		case "new-sco":
			sco = true
		}
	}
	// An object that claims both is left an SDO, whatever the order of
	// its extensions, so that the result does not depend on map order.
	switch {
	case sco && !sro:
		return catSCO
	case sro && !sco:
		return catSRO
	}
	return catSDO
}

func (v *validator) specVersion(m map[string]any, cat category) {
	sv, present := m["spec_version"]
	if !present {
		if cat != catSCO {
			v.failAt("spec_version", "spec-version", "spec_version is required on %s objects; without it the object is STIX 2.0, and this node stores STIX 2.1 only: convert it to 2.1 and set spec_version to \"2.1\"", cat)
		}
		return
	}
	s, ok := sv.(string)
	switch {
	case !ok:
		v.failAt("spec_version", "type", "must be the string \"2.1\"")
	case s == "2.0":
		v.failAt("spec_version", "spec-version", "the object is STIX 2.0, and this node stores STIX 2.1 only; convert it to 2.1 and set spec_version to \"2.1\"")
	case s != "2.1":
		v.failAt("spec_version", "spec-version", "%q is not a supported STIX version; this node stores STIX 2.1 (spec_version \"2.1\")", s)
	}
}

// identifier checks that m[key] is "<type>--<UUID>" for the given type.
func (v *validator) identifier(m map[string]any, key, typ string) {
	raw, present := m[key]
	if !present {
		v.failAt(key, "required", "property is required")
		return
	}
	s, ok := raw.(string)
	if !ok {
		v.failAt(key, "type", "must be a string of the form %s--<UUID>", typ)
		return
	}
	t, ok := splitIdentifier(s)
	if !ok {
		v.failAt(key, "id-format", "%q is not an identifier: want %s--<RFC 4122 UUID>", s, typ)
		return
	}
	if t != typ {
		v.failAt(key, "id-type", "the identifier's type %q differs from the object's type %q", t, typ)
	}
}

func (v *validator) common(m map[string]any, name string, val any, typ string, spec *typeSpec) {
	v.push(name)
	defer v.pop()
	switch name {
	case "spec_version":
		// Checked by specVersion, which knows whether it may be absent.
	case "created_by_ref":
		v.ref(val, "identity")
	case "created", "modified":
		if s := v.timestamp(val); s != "" && !hasMillis(s) {
			v.fail("timestamp-precision", "%q has less than millisecond precision; %s needs at least three fractional digits (e.g. 2016-01-20T12:31:12.123Z)", s, name)
		}
	case "revoked", "defanged":
		v.boolean(val)
	case "labels":
		v.strings(val)
	case "confidence":
		v.integer(val, 0, 100)
	case "lang":
		if s, ok := v.str(val); ok && !validLangTag(s) {
			v.fail("lang", "%q is not an RFC 5646 language tag (e.g. \"en\", \"de-CH\")", s)
		}
	case "external_references":
		v.list(val, func(e any) { v.externalReference(e) })
	case "object_marking_refs":
		id, _ := m["id"].(string)
		v.list(val, func(e any) {
			if s, ok := v.ref(e, "marking-definition"); ok && s == id {
				v.fail("marking-circular", "a marking definition must not mark itself")
			}
		})
	case "granular_markings":
		v.list(val, func(e any) { v.granularMarking(m, e) })
	case "extensions":
		v.extensions(val, typ, spec)
	}
}

// versioning checks the order of created and modified (§3.6.1).
func (v *validator) versioning(m map[string]any) {
	c, _ := m["created"].(string)
	mod, _ := m["modified"].(string)
	if c == "" || mod == "" {
		return
	}
	ct, err1 := ParseTime(c)
	mt, err2 := ParseTime(mod)
	if err1 == nil && err2 == nil && mt.Before(ct) {
		v.failAt("modified", "modified-before-created", "modified (%s) is earlier than created (%s); it must be the same or later", mod, c)
	}
}

// props checks the type-specific properties of m against spec. Properties
// that neither spec nor, at the top level, the common table defines are
// custom properties (§11.1).
func (v *validator) props(m map[string]any, spec *objSpec, top bool) {
	for name, p := range spec.props {
		if p.req {
			if _, ok := m[name]; !ok {
				v.failAt(name, "required", "property is required")
			}
		}
	}
	for name, val := range m {
		p, ok := spec.props[name]
		if !ok {
			if top && (name == "type" || name == "id" || commonUse[name] != [6]use{}) {
				continue
			}
			v.custom(name, val)
			continue
		}
		v.push(name)
		v.value(val, &p)
		v.pop()
	}
	if spec.check != nil {
		spec.check(v, m)
	}
}

// customProps checks the top-level properties of an object of a type that
// STIX does not define: their names, and the form of any references.
func (v *validator) customProps(m map[string]any) {
	for name, val := range m {
		if name == "type" || name == "id" || commonUse[name] != [6]use{} {
			continue
		}
		v.custom(name, val)
	}
}

// custom checks a property this package does not define: its name (§11.1)
// and that lists are not empty (§2.12). That *_ref and *_refs properties,
// here or nested, hold identifiers is only a warning: §3.1 requires it of
// the properties STIX defines.
func (v *validator) custom(name string, val any) {
	if !validPropertyName(name) {
		v.failAt(name, "property-name", "%q is not a valid property name: 3 to 250 characters of a-z, 0-9 and underscore", name)
	}
	v.push(name)
	defer v.pop()
	if l, ok := val.([]any); ok && len(l) == 0 {
		v.fail("empty-list", "lists must not be empty; omit the property instead")
		return
	}
	v.softly(func() {
		switch {
		case strings.HasSuffix(name, "_refs"):
			v.list(val, func(e any) { v.ref(e) })
		case strings.HasSuffix(name, "_ref"):
			v.ref(val)
		default:
			walkMaps(val, v.refsIn)
		}
	})
}

// value checks one property value against its definition.
func (v *validator) value(val any, p *prop) {
	switch p.kind {
	case kString:
		v.str(val)
	case kStrings:
		v.strings(val)
	case kTime:
		v.timestamp(val)
	case kBool:
		v.boolean(val)
	case kInt:
		v.integer(val, p.min, p.max)
	case kFloat:
		v.float(val, p.min, p.max)
	case kRef:
		v.ref(val, p.types...)
	case kRefs:
		v.list(val, func(e any) { v.ref(e, p.types...) })
	case kEnum:
		v.enum(val, p.enum)
	case kEnums:
		v.list(val, func(e any) { v.enum(e, p.enum) })
	case kDict:
		v.dict(val)
	case kHashes:
		v.hashes(val)
	case kKillChain:
		v.list(val, func(e any) { v.killChainPhase(e) })
	case kBinary:
		if s, ok := v.str(val); ok {
			if _, err := base64.StdEncoding.DecodeString(s); err != nil {
				v.fail("binary", "not valid base64 (RFC 4648 §4, with padding)")
			}
		}
	case kHex:
		if s, ok := v.str(val); ok && !isLowerHex(s) {
			v.fail("hex", "%q is not hexadecimal: an even number of the characters 0-9 and a-f", s)
		}
	case kObject:
		if m, ok := v.dictValue(val); ok {
			v.props(m, p.obj, false)
		}
	case kObjects:
		v.list(val, func(e any) {
			if m, ok := v.dictValue(e); ok {
				v.props(m, p.obj, false)
			}
		})
	case kAny:
	}
}

func (v *validator) str(val any) (string, bool) {
	s, ok := val.(string)
	if !ok {
		v.fail("type", "must be a string")
	}
	return s, ok
}

func (v *validator) strings(val any) {
	v.list(val, func(e any) { v.str(e) })
}

func (v *validator) boolean(val any) {
	if _, ok := val.(bool); !ok {
		v.fail("type", "must be true or false")
	}
}

// list checks that val is a non-empty list (§2.12) and calls each for its
// elements with the path pointing at the element.
func (v *validator) list(val any, each func(any)) {
	l, ok := val.([]any)
	if !ok {
		v.fail("type", "must be a list")
		return
	}
	if len(l) == 0 {
		v.fail("empty-list", "lists must not be empty; omit the property instead")
		return
	}
	for i, e := range l {
		v.pushIndex(i)
		each(e)
		v.pop()
	}
}

func (v *validator) dictValue(val any) (map[string]any, bool) {
	m, ok := val.(map[string]any)
	if !ok {
		v.fail("type", "must be a JSON object")
	}
	return m, ok
}

// dict checks a dictionary (§2.3): non-empty, keys of at most 250 ASCII
// letters, digits, hyphens and underscores.
func (v *validator) dict(val any) (map[string]any, bool) {
	m, ok := v.dictValue(val)
	if !ok {
		return nil, false
	}
	if len(m) == 0 {
		v.fail("empty-dict", "dictionaries must not be empty; omit the property instead")
	}
	for k := range m {
		if !validDictKey(k, 1) {
			v.failAt(k, "dict-key", "dictionary keys are 1 to 250 characters of a-z, A-Z, 0-9, hyphen and underscore")
		}
	}
	return m, true
}

func (v *validator) timestamp(val any) string {
	s, ok := val.(string)
	if !ok {
		v.fail("type", "must be a timestamp string (YYYY-MM-DDTHH:MM:SS[.s+]Z)")
		return ""
	}
	if _, err := ParseTime(s); err != nil {
		v.fail("timestamp", "%q is not a STIX timestamp: want RFC 3339 in UTC with a literal Z, as YYYY-MM-DDTHH:MM:SS[.s+]Z", s)
		return ""
	}
	return s
}

// number reads a JSON number decoded as json.Number (Parse) or float64
// (objects built by hand with New).
func number(val any) (json.Number, bool) {
	switch n := val.(type) {
	case json.Number:
		return n, true
	case float64:
		return json.Number(strconv.FormatFloat(n, 'g', -1, 64)), true
	case int:
		return json.Number(strconv.Itoa(n)), true
	case int64:
		return json.Number(strconv.FormatInt(n, 10)), true
	}
	return "", false
}

// maxInteger is the largest STIX integer, 2^53-1 (§2.10).
const maxInteger = 1<<53 - 1

func (v *validator) integer(val any, lo, hi float64) {
	n, ok := number(val)
	var i int64
	var err error
	if ok {
		i, err = strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			// Integers written as 1e3 or 5.0 are still integers in JSON's
			// number model; STIX follows I-JSON.
			f, ferr := strconv.ParseFloat(string(n), 64)
			if ferr == nil && f == math.Trunc(f) && math.Abs(f) <= maxInteger {
				i, err = int64(f), nil
			}
		}
	}
	if !ok || err != nil {
		v.fail("type", "must be an integer")
		return
	}
	if i > maxInteger || i < -maxInteger {
		v.fail("range", "%d is outside the STIX integer range of ±(2^53-1)", i)
		return
	}
	if lo != hi && (float64(i) < lo || float64(i) > hi) {
		v.fail("range", "%d is outside %s", i, rangeText(lo, hi))
	}
}

func (v *validator) float(val any, lo, hi float64) {
	n, ok := number(val)
	if !ok {
		v.fail("type", "must be a number")
		return
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		v.fail("type", "%s is not a finite number", n)
		return
	}
	if lo != hi && (f < lo || f > hi) {
		v.fail("range", "%s is outside %s", n, rangeText(lo, hi))
	}
}

func rangeText(lo, hi float64) string {
	if hi == math.MaxFloat64 {
		return fmt.Sprintf("the range %g or more", lo)
	}
	return fmt.Sprintf("the range %g to %g", lo, hi)
}

func (v *validator) enum(val any, values []string) {
	s, ok := v.str(val)
	if !ok {
		return
	}
	for _, e := range values {
		if s == e {
			return
		}
	}
	v.fail("enum", "%q is not one of %s (a closed enumeration)", s, strings.Join(values, ", "))
}

// ref checks an identifier-valued property. With types, the identifier
// must name an object of one of them.
func (v *validator) ref(val any, types ...string) (string, bool) {
	s, ok := val.(string)
	if !ok {
		v.fail("type", "must be an identifier string (<type>--<UUID>)")
		return "", false
	}
	t, ok := splitIdentifier(s)
	if !ok {
		v.fail("identifier", "%q is not an identifier: want <type>--<RFC 4122 UUID>", s)
		return "", false
	}
	if len(types) == 0 {
		return s, true
	}
	cat, known := categoryOf[t]
	for _, want := range types {
		switch want {
		case t:
			return s, true
		case anySDO, anySCO, notSROorMeta:
			// The category of a custom type cannot be told from its
			// name, so any custom type is let through.
			if !known ||
				want == anySDO && cat == catSDO ||
				want == anySCO && cat == catSCO ||
				want == notSROorMeta && (cat == catSDO || cat == catSCO) {
				return s, true
			}
		}
	}
	v.fail("ref-type", "%q refers to a %s; it must refer to %s", s, t, typesText(types))
	return s, false
}

// Pseudo types for reference targets.
const (
	anySDO       = "<SDO>"
	anySCO       = "<SCO>"
	notSROorMeta = "<SDO or SCO>"
)

func typesText(types []string) string {
	if len(types) == 1 {
		switch types[0] {
		case anySDO:
			return "an SDO"
		case anySCO:
			return "an SCO"
		case notSROorMeta:
			return "an SDO or SCO"
		}
		return "a " + types[0]
	}
	return "one of " + strings.Join(types, ", ")
}

func (v *validator) externalReference(val any) {
	m, ok := v.dictValue(val)
	if !ok {
		return
	}
	name, present := m["source_name"]
	var src string
	if !present {
		v.failAt("source_name", "required", "property is required")
	} else {
		v.push("source_name")
		src, _ = v.str(name)
		v.pop()
	}
	for _, k := range []string{"description", "url", "external_id"} {
		if s, present := m[k]; present {
			v.push(k)
			v.str(s)
			v.pop()
		}
	}
	if h, present := m["hashes"]; present {
		v.push("hashes")
		v.hashes(h)
		v.pop()
	}
	_, d := m["description"]
	_, u := m["url"]
	id, e := m["external_id"].(string)
	if !d && !u && !e {
		v.fail("external-reference", "an external reference needs at least one of description, url and external_id")
	}
	// §4.1 and §4.18: CAPEC and CVE references carry their ids.
	switch src {
	case "capec":
		if !e {
			v.failAt("external_id", "required", "an external reference to capec must give the CAPEC id, as CAPEC-<number>")
		} else if !isPrefixedNumber(id, "CAPEC-") {
			v.failAt("external_id", "external-id", "%q is not a CAPEC id: want CAPEC-<number>", id)
		}
	case "cve":
		if !e {
			v.failAt("external_id", "required", "an external reference to cve must give the CVE id, as CVE-YYYY-NNNN")
		} else if !isCVE(id) {
			v.failAt("external_id", "external-id", "%q is not a CVE id: want CVE-YYYY-NNNN (four or more digits)", id)
		}
	}
}

func (v *validator) killChainPhase(val any) {
	m, ok := v.dictValue(val)
	if !ok {
		return
	}
	for _, k := range []string{"kill_chain_name", "phase_name"} {
		s, present := m[k]
		if !present {
			v.failAt(k, "required", "property is required")
			continue
		}
		v.push(k)
		v.str(s)
		v.pop()
	}
}

// hashes checks a hashes dictionary (§2.7): keys of 3 to 250 characters,
// and values in the form of the algorithms that hash-algorithm-ov names.
func (v *validator) hashes(val any) {
	m, ok := v.dictValue(val)
	if !ok {
		return
	}
	if len(m) == 0 {
		v.fail("empty-dict", "hashes must hold at least one hash; omit the property instead")
	}
	for k, h := range m {
		v.push(k)
		if !validDictKey(k, 3) {
			v.fail("dict-key", "hash names are 3 to 250 characters of a-z, A-Z, 0-9, hyphen and underscore")
		}
		if s, ok := v.str(h); ok {
			if n, known := hashHexLen[k]; known && (len(s) != n || !isHex(s)) {
				v.fail("hash", "%q is not a %s hash: want %d hexadecimal digits", s, k, n)
			}
		}
		v.pop()
	}
}

// hashHexLen gives the length of the hex-encoded hashes of hash-algorithm-ov
// that have a fixed hexadecimal form.
var hashHexLen = map[string]int{
	"MD5": 32, "SHA-1": 40, "SHA-256": 64, "SHA-512": 128,
	"SHA3-256": 64, "SHA3-512": 128,
}

// granularMarking checks one granular marking (§7.2.3): marking_ref or
// lang but not both, and selectors that resolve within the object.
func (v *validator) granularMarking(obj map[string]any, val any) {
	m, ok := v.dictValue(val)
	if !ok {
		return
	}
	ref, hasRef := m["marking_ref"]
	lang, hasLang := m["lang"]
	switch {
	case hasRef && hasLang:
		v.fail("granular-marking", "a granular marking has marking_ref or lang, not both")
	case !hasRef && !hasLang:
		v.fail("granular-marking", "a granular marking needs marking_ref or lang")
	}
	if hasRef {
		v.push("marking_ref")
		v.ref(ref, "marking-definition")
		v.pop()
	}
	if hasLang {
		v.push("lang")
		if s, ok := v.str(lang); ok && !validLangTag(s) {
			v.fail("lang", "%q is not an RFC 5646 language tag", s)
		}
		v.pop()
	}
	sel, present := m["selectors"]
	if !present {
		v.failAt("selectors", "required", "property is required")
		return
	}
	v.push("selectors")
	v.list(sel, func(e any) {
		if s, ok := v.str(e); ok {
			if err := resolveSelector(obj, s); err != "" {
				v.fail("selector", "%q does not select anything in this object: %s", s, err)
			}
		}
	})
	v.pop()
	for k := range m {
		switch k {
		case "marking_ref", "lang", "selectors":
		default:
			v.failAt(k, "unknown-property", "a granular marking has only selectors, marking_ref and lang")
		}
	}
}

// resolveSelector follows a granular-marking selector (§7.2.3.1) through
// the object: property names separated by dots, and list indexes written
// as [n] in their own segment ("external_references.[0].url"). It returns
// "" when the selector resolves, or what went wrong.
func resolveSelector(obj map[string]any, sel string) string {
	if sel == "" {
		return "it is empty"
	}
	var cur any = obj
	for seg := range strings.SplitSeq(sel, ".") {
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[seg]
			if !ok {
				return fmt.Sprintf("there is no property %q", seg)
			}
			cur = next
		case []any:
			if len(seg) < 3 || seg[0] != '[' || seg[len(seg)-1] != ']' {
				return fmt.Sprintf("%q must be a list index such as [0]", seg)
			}
			i, err := strconv.Atoi(seg[1 : len(seg)-1])
			if err != nil || i < 0 || strconv.Itoa(i) != seg[1:len(seg)-1] {
				return fmt.Sprintf("%q is not a list index", seg)
			}
			if i >= len(c) {
				return fmt.Sprintf("index %d is past the end of a list of %d", i, len(c))
			}
			cur = c[i]
		default:
			return fmt.Sprintf("%q follows a value that is neither an object nor a list", seg)
		}
	}
	return ""
}

// extensionTypes is extension-type-enum (§10.5), a closed enumeration.
var extensionTypes = []string{"new-sdo", "new-sro", "new-sco", "property-extension", "toplevel-property-extension"}

// extensions checks the extensions dictionary (§3.2, §7.3): each key is the
// id of an extension definition, whose value says its extension_type, or
// the name of a predefined extension of this object's type.
func (v *validator) extensions(val any, typ string, spec *typeSpec) {
	m, ok := v.dictValue(val)
	if !ok {
		return
	}
	if len(m) == 0 {
		v.fail("empty-dict", "extensions must hold at least one extension; omit the property instead")
	}
	for key, e := range m {
		v.push(key)
		em, ok := v.dictValue(e)
		switch {
		case !ok:
		case strings.HasPrefix(key, "extension-definition--"):
			v.extensionInstance(key, em, typ, spec)
		case spec != nil && spec.exts[key] != nil:
			// Its custom properties are checked as custom ones.
			v.props(em, spec.exts[key], false)
		case strings.HasPrefix(key, "x-") && ValidTypeName(key):
			// A custom object extension of STIX 2.0 (§11.3, deprecated).
			v.softly(func() { v.refsIn(em) })
		default:
			v.warn("extension-name", "%q is neither the id of an extension definition (extension-definition--<UUID>) nor a predefined extension of %s%s, as STIX 2.1 §3.2 recommends", key, typ, predefinedText(spec))
			v.softly(func() { v.refsIn(em) })
		}
		v.pop()
	}
}

func predefinedText(spec *typeSpec) string {
	if spec == nil || len(spec.exts) == 0 {
		return ""
	}
	names := make([]string, 0, len(spec.exts))
	for n := range spec.exts {
		names = append(names, n)
	}
	sortStrings(names)
	return " (" + strings.Join(names, ", ") + ")"
}

func (v *validator) extensionInstance(key string, em map[string]any, typ string, spec *typeSpec) {
	if _, ok := splitIdentifier(key); !ok {
		v.fail("extension-name", "%q is not an extension-definition identifier: want extension-definition--<UUID>", key)
	}
	et, present := em["extension_type"]
	if !present {
		v.failAt("extension_type", "required", "an extension that an extension definition defines must say its extension_type (%s)", strings.Join(extensionTypes, ", "))
	} else {
		v.push("extension_type")
		v.enum(et, extensionTypes)
		if s, _ := et.(string); spec != nil && strings.HasPrefix(s, "new-") {
			v.fail("extension-type", "%s defines a new object type, but %s is a type STIX 2.1 defines; use property-extension or toplevel-property-extension", s, typ)
		}
		v.pop()
	}
	for name := range em {
		if name != "extension_type" && !validPropertyName(name) {
			v.failAt(name, "property-name", "%q is not a valid property name: 3 to 250 characters of a-z, 0-9 and underscore", name)
		}
	}
	v.softly(func() { v.refsIn(em) })
}

// refsIn checks that every *_ref and *_refs property in m, at any depth,
// holds identifiers.
func (v *validator) refsIn(m map[string]any) {
	for k, val := range m {
		v.push(k)
		switch {
		case strings.HasSuffix(k, "_refs"):
			if l, ok := val.([]any); ok {
				for i, e := range l {
					v.pushIndex(i)
					v.ref(e)
					v.pop()
				}
			} else {
				v.fail("type", "must be a list of identifiers")
			}
		case strings.HasSuffix(k, "_ref"):
			v.ref(val)
		default:
			walkMaps(val, v.refsIn)
		}
		v.pop()
	}
}

// walkMaps calls f for each object directly in val or in a list in val.
func walkMaps(val any, f func(map[string]any)) {
	switch x := val.(type) {
	case map[string]any:
		f(x)
	case []any:
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				f(m)
			}
		}
	}
}

// scoID checks the identifier of an SCO against its ID contributing
// properties (§2.9), which is a recommendation: a UUIDv5 that is not the
// one those properties give is a warning, and so is one where there are
// none to give it. A UUIDv4 is fine. A versioned SCO must not use the
// default namespace (§3.6).
func (v *validator) scoID(m map[string]any, typ string) {
	id, _ := m["id"].(string)
	t, ok := splitIdentifier(id)
	if !ok || t != typ {
		return // already reported
	}
	version := id[len(typ)+2+14]
	if version != '5' {
		return
	}
	want, deterministic, err := scoIDv5(m)
	switch {
	case err != nil:
		v.softly(func() { v.failAt("id", "sco-id", "cannot compute the deterministic id: %v", err) })
	case !deterministic:
		v.softly(func() {
			v.failAt("id", "sco-id", "a UUIDv5 id needs ID contributing properties, and none is present; STIX 2.1 §2.9 recommends a UUIDv4")
		})
	case !strings.EqualFold(want, id):
		v.softly(func() {
			v.failAt("id", "sco-id", "the UUIDv5 id is not the one STIX 2.1 §2.9 derives from the ID contributing properties in its namespace, %s; another namespace may have been used", want)
		})
	case m["modified"] != nil || m["created"] != nil:
		v.failAt("id", "sco-id", "a versioned SCO must not use the default namespace for deterministic ids (§3.6); use a UUIDv4")
	}
}

// isoTime parses a timestamp already checked by timestamp; ok is false if
// the value is absent or invalid.
func isoTime(m map[string]any, key string) (time.Time, bool) {
	s, ok := m[key].(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := ParseTime(s)
	return t, err == nil
}

// order reports when m[later] is earlier than m[earlier], or equal to it
// when strict.
func (v *validator) order(m map[string]any, earlier, later string, strict bool) {
	a, ok1 := isoTime(m, earlier)
	b, ok2 := isoTime(m, later)
	if !ok1 || !ok2 {
		return
	}
	if b.Before(a) || (strict && b.Equal(a)) {
		rel := "the same as or later than"
		if strict {
			rel = "later than"
		}
		v.failAt(later, "order", "%s must be %s %s", later, rel, earlier)
	}
}

// indicatorPattern parses a STIX pattern (§9).
func (v *validator) indicatorPattern(m map[string]any) {
	if m["pattern_type"] != "stix" {
		return
	}
	s, ok := m["pattern"].(string)
	if !ok {
		return
	}
	if _, err := pattern.Parse(s); err != nil {
		v.failAt("pattern", "pattern", "not a valid STIX pattern: %v", err)
	}
}

package stix

import (
	"math"
	"net/netip"
	"strings"
)

// The property definitions below follow the property tables of STIX 2.1
// §4 to §7 and the OASIS JSON schemas (cti-stix2-json-schemas). Open
// vocabularies (§2.14, §10) are plain strings: any value is allowed. Only
// the closed enumerations (§2.4) are checked against their values.

// kind is the STIX data type of a property value.
type kind uint8

const (
	kAny kind = iota
	kString
	kStrings
	kTime
	kBool
	kInt
	kFloat
	kRef
	kRefs
	kEnum
	kEnums
	kDict
	kHashes
	kKillChain
	kBinary
	kHex
	kObject
	kObjects
)

// prop defines one property.
type prop struct {
	kind     kind
	req      bool
	types    []string // kRef, kRefs: the allowed target types; none means any
	enum     []string // kEnum, kEnums: the closed set of values
	min, max float64  // kInt, kFloat: the range, when min != max
	obj      *objSpec // kObject, kObjects
}

// objSpec defines the properties of an object or of a nested structure.
// check holds the rules that relate several properties.
type objSpec struct {
	props map[string]prop
	check func(v *validator, m map[string]any)
}

// typeSpec defines a STIX 2.1 object type.
type typeSpec struct {
	objSpec
	exts map[string]*objSpec // predefined extensions (§6), by name
}

var (
	pString    = prop{kind: kString}
	pStrings   = prop{kind: kStrings}
	pTime      = prop{kind: kTime}
	pBool      = prop{kind: kBool}
	pInt       = prop{kind: kInt}
	pUint      = prop{kind: kInt, min: 0, max: maxInteger}
	pDict      = prop{kind: kDict}
	pHashes    = prop{kind: kHashes}
	pKillChain = prop{kind: kKillChain}
	pBinary    = prop{kind: kBinary}
	pHex       = prop{kind: kHex}
	pAny       = prop{kind: kAny}
	pAnyRef    = prop{kind: kRef}
	pAnyRefs   = prop{kind: kRefs}
)

func req(p prop) prop                     { p.req = true; return p }
func ref(types ...string) prop            { return prop{kind: kRef, types: types} }
func refs(types ...string) prop           { return prop{kind: kRefs, types: types} }
func enum(values ...string) prop          { return prop{kind: kEnum, enum: values} }
func enums(values ...string) prop         { return prop{kind: kEnums, enum: values} }
func intIn(lo, hi float64) prop           { return prop{kind: kInt, min: lo, max: hi} }
func floatIn(lo, hi float64) prop         { return prop{kind: kFloat, min: lo, max: hi} }
func object(props map[string]prop) prop   { return prop{kind: kObject, obj: &objSpec{props: props}} }
func objects(s *objSpec) prop             { return prop{kind: kObjects, obj: s} }
func sdo(props map[string]prop) *typeSpec { return &typeSpec{objSpec: objSpec{props: props}} }

// withCheck attaches a cross-property rule.
func (t *typeSpec) withCheck(f func(*validator, map[string]any)) *typeSpec {
	t.check = f
	return t
}

// categoryOf gives the category of every type that STIX 2.1 defines; types
// holds their properties. They are apart so that reference checks, which
// the type rules call, need not refer to the table that holds those rules
// (an initialization cycle).
var categoryOf = map[string]category{
	"attack-pattern": catSDO, "campaign": catSDO, "course-of-action": catSDO,
	"grouping": catSDO, "identity": catSDO, "incident": catSDO, "indicator": catSDO,
	"infrastructure": catSDO, "intrusion-set": catSDO, "location": catSDO,
	"malware": catSDO, "malware-analysis": catSDO, "note": catSDO,
	"observed-data": catSDO, "opinion": catSDO, "report": catSDO,
	"threat-actor": catSDO, "tool": catSDO, "vulnerability": catSDO,

	"relationship": catSRO, "sighting": catSRO,

	"artifact": catSCO, "autonomous-system": catSCO, "directory": catSCO,
	"domain-name": catSCO, "email-addr": catSCO, "email-message": catSCO,
	"file": catSCO, "ipv4-addr": catSCO, "ipv6-addr": catSCO, "mac-addr": catSCO,
	"mutex": catSCO, "network-traffic": catSCO, "process": catSCO,
	"software": catSCO, "url": catSCO, "user-account": catSCO,
	"windows-registry-key": catSCO, "x509-certificate": catSCO,

	"marking-definition":   catMarking,
	"language-content":     catLanguage,
	"extension-definition": catExtensionDef,
}

// Closed enumerations (§10).
var (
	opinionEnum             = []string{"strongly-disagree", "disagree", "neutral", "agree", "strongly-agree"}
	encryptionAlgorithmEnum = []string{"AES-256-GCM", "ChaCha20-Poly1305", "mime-type-indicated"}
	socketAddressFamilyEnum = []string{"AF_UNSPEC", "AF_INET", "AF_IPX", "AF_APPLETALK", "AF_NETBIOS", "AF_INET6", "AF_IRDA", "AF_BTH"}
	socketTypeEnum          = []string{"SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET"}
	integrityLevelEnum      = []string{"low", "medium", "high", "system"}
	registryDatatypeEnum    = []string{
		"REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD", "REG_DWORD_BIG_ENDIAN",
		"REG_DWORD_LITTLE_ENDIAN", "REG_LINK", "REG_MULTI_SZ", "REG_RESOURCE_LIST",
		"REG_FULL_RESOURCE_DESCRIPTION", "REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD", "REG_INVALID_TYPE",
	}
	serviceStartTypeEnum = []string{"SERVICE_AUTO_START", "SERVICE_BOOT_START", "SERVICE_DEMAND_START", "SERVICE_DISABLED", "SERVICE_SYSTEM_ALERT"}
	serviceTypeEnum      = []string{"SERVICE_KERNEL_DRIVER", "SERVICE_FILE_SYSTEM_DRIVER", "SERVICE_WIN32_OWN_PROCESS", "SERVICE_WIN32_SHARE_PROCESS"}
	serviceStatusEnum    = []string{"SERVICE_CONTINUE_PENDING", "SERVICE_PAUSE_PENDING", "SERVICE_PAUSED", "SERVICE_RUNNING", "SERVICE_START_PENDING", "SERVICE_STOP_PENDING", "SERVICE_STOPPED"}
)

// Reference targets used by several types.
var (
	addrTypes = []string{"ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"}
)

// types defines every STIX 2.1 object type.
var types = map[string]*typeSpec{
	// §4 STIX Domain Objects.
	"attack-pattern": sdo(map[string]prop{
		"name": req(pString), "description": pString, "aliases": pStrings, "kill_chain_phases": pKillChain,
	}),
	"campaign": sdo(map[string]prop{
		"name": req(pString), "description": pString, "aliases": pStrings,
		"first_seen": pTime, "last_seen": pTime, "objective": pString,
	}).withCheck(seenOrder),
	"course-of-action": sdo(map[string]prop{
		"name": req(pString), "description": pString,
	}),
	"grouping": sdo(map[string]prop{
		"name": pString, "description": pString, "context": req(pString), "object_refs": req(pAnyRefs),
	}),
	"identity": sdo(map[string]prop{
		"name": req(pString), "description": pString, "roles": pStrings, "identity_class": pString,
		"sectors": pStrings, "contact_information": pString,
	}),
	"incident": sdo(map[string]prop{
		"name": req(pString), "description": pString, "kill_chain_phases": pKillChain,
	}),
	"indicator": sdo(map[string]prop{
		"name": pString, "description": pString, "indicator_types": pStrings,
		"pattern": req(pString), "pattern_type": req(pString), "pattern_version": pString,
		"valid_from": req(pTime), "valid_until": pTime, "kill_chain_phases": pKillChain,
	}).withCheck(func(v *validator, m map[string]any) {
		v.order(m, "valid_from", "valid_until", true)
		v.indicatorPattern(m)
	}),
	"infrastructure": sdo(map[string]prop{
		"name": req(pString), "description": pString, "infrastructure_types": pStrings, "aliases": pStrings,
		"kill_chain_phases": pKillChain, "first_seen": pTime, "last_seen": pTime,
	}).withCheck(seenOrder),
	"intrusion-set": sdo(map[string]prop{
		"name": req(pString), "description": pString, "aliases": pStrings, "first_seen": pTime, "last_seen": pTime,
		"goals": pStrings, "resource_level": pString, "primary_motivation": pString, "secondary_motivations": pStrings,
	}).withCheck(seenOrder),
	"location": sdo(map[string]prop{
		"name": pString, "description": pString,
		"latitude": floatIn(-90, 90), "longitude": floatIn(-180, 180), "precision": floatIn(0, math.MaxFloat64),
		"region": pString, "country": pString, "administrative_area": pString, "city": pString,
		"street_address": pString, "postal_code": pString,
	}).withCheck(checkLocation),
	"malware": sdo(map[string]prop{
		"name": pString, "description": pString, "malware_types": pStrings, "is_family": req(pBool),
		"aliases": pStrings, "kill_chain_phases": pKillChain, "first_seen": pTime, "last_seen": pTime,
		"operating_system_refs": refs("software"), "architecture_execution_envs": pStrings,
		"implementation_languages": pStrings, "capabilities": pStrings, "sample_refs": refs("file", "artifact"),
	}).withCheck(func(v *validator, m map[string]any) {
		seenOrder(v, m)
		if m["is_family"] == true && m["name"] == nil {
			v.failAt("name", "required", "a malware family (is_family true) must have a name")
		}
	}),
	"malware-analysis": sdo(map[string]prop{
		"product": req(pString), "version": pString, "host_vm_ref": ref("software"),
		"operating_system_ref": ref("software"), "installed_software_refs": refs("software"),
		"configuration_version": pString, "modules": pStrings, "analysis_engine_version": pString,
		"analysis_definition_version": pString, "submitted": pTime, "analysis_started": pTime,
		"analysis_ended": pTime, "result_name": pString, "result": pString,
		"analysis_sco_refs": refs(anySCO), "sample_ref": ref("file", "network-traffic", "artifact"),
	}).withCheck(func(v *validator, m map[string]any) {
		if m["result"] == nil && m["analysis_sco_refs"] == nil {
			v.fail("at-least-one", "a malware analysis needs result or analysis_sco_refs")
		}
		v.order(m, "analysis_started", "analysis_ended", false)
	}),
	"note": sdo(map[string]prop{
		"abstract": pString, "content": req(pString), "authors": pStrings, "object_refs": req(pAnyRefs),
	}),
	"observed-data": sdo(map[string]prop{
		"first_observed": req(pTime), "last_observed": req(pTime),
		"number_observed": req(intIn(1, 999999999)), "objects": pDict, "object_refs": refs(anySCO, "relationship", "sighting"),
	}).withCheck(func(v *validator, m map[string]any) {
		v.order(m, "first_observed", "last_observed", false)
		_, objs := m["objects"]
		_, refs := m["object_refs"]
		switch {
		case objs && refs:
			v.failAt("objects", "mutually-exclusive", "objects (deprecated) must not be present with object_refs; use object_refs")
		case !objs && !refs:
			v.failAt("object_refs", "required", "observed data needs object_refs (or the deprecated objects)")
		}
	}),
	"opinion": sdo(map[string]prop{
		"explanation": pString, "authors": pStrings, "opinion": req(enum(opinionEnum...)), "object_refs": req(pAnyRefs),
	}),
	"report": sdo(map[string]prop{
		"name": req(pString), "description": pString, "report_types": pStrings,
		"published": req(pTime), "object_refs": req(pAnyRefs),
	}),
	"threat-actor": sdo(map[string]prop{
		"name": req(pString), "description": pString, "threat_actor_types": pStrings, "aliases": pStrings,
		"first_seen": pTime, "last_seen": pTime, "roles": pStrings, "goals": pStrings,
		"sophistication": pString, "resource_level": pString, "primary_motivation": pString,
		"secondary_motivations": pStrings, "personal_motivations": pStrings,
	}).withCheck(seenOrder),
	"tool": sdo(map[string]prop{
		"name": req(pString), "description": pString, "tool_types": pStrings, "aliases": pStrings,
		"kill_chain_phases": pKillChain, "tool_version": pString,
	}),
	"vulnerability": sdo(map[string]prop{
		"name": req(pString), "description": pString,
	}),

	// §5 STIX Relationship Objects.
	"relationship": {objSpec: objSpec{props: map[string]prop{
		"relationship_type": req(pString), "description": pString,
		"source_ref": req(ref(notSROorMeta)), "target_ref": req(ref(notSROorMeta)),
		"start_time": pTime, "stop_time": pTime,
	}, check: func(v *validator, m map[string]any) {
		if s, ok := m["relationship_type"].(string); ok && !ValidTypeName(s) {
			v.failAt("relationship_type", "relationship-type", "%q is not a valid relationship type: 3 to 250 characters of a-z, 0-9 and hyphens", s)
		}
		v.order(m, "start_time", "stop_time", true)
	}}},
	"sighting": {objSpec: objSpec{props: map[string]prop{
		"description": pString, "first_seen": pTime, "last_seen": pTime, "count": intIn(0, 999999999),
		"sighting_of_ref": req(ref(anySDO)), "observed_data_refs": refs("observed-data"),
		"where_sighted_refs": refs("identity", "location"), "summary": pBool,
	}, check: seenOrder}},

	// §6 STIX Cyber-observable Objects.
	"artifact": sco(map[string]prop{
		"mime_type": pString, "payload_bin": pBinary, "url": pString, "hashes": pHashes,
		"encryption_algorithm": enum(encryptionAlgorithmEnum...), "decryption_key": pString,
	}, checkArtifact),
	"autonomous-system": sco(map[string]prop{
		"number": req(pUint), "name": pString, "rir": pString,
	}, nil),
	"directory": sco(map[string]prop{
		"path": req(pString), "path_enc": pString, "ctime": pTime, "mtime": pTime, "atime": pTime,
		"contains_refs": refs("file", "directory"),
	}, nil),
	"domain-name": sco(map[string]prop{
		"value": req(pString), "resolves_to_refs": refs("ipv4-addr", "ipv6-addr", "domain-name"),
	}, nil),
	"email-addr": sco(map[string]prop{
		"value": req(pString), "display_name": pString, "belongs_to_ref": ref("user-account"),
	}, nil),
	"email-message": sco(map[string]prop{
		"is_multipart": req(pBool), "date": pTime, "content_type": pString,
		"from_ref": ref("email-addr"), "sender_ref": ref("email-addr"), "to_refs": refs("email-addr"),
		"cc_refs": refs("email-addr"), "bcc_refs": refs("email-addr"), "message_id": pString,
		"subject": pString, "received_lines": pStrings, "additional_header_fields": pDict,
		"body": pString, "body_multipart": objects(mimePart), "raw_email_ref": ref("artifact"),
	}, checkEmailMessage),
	"file": sco(map[string]prop{
		"hashes": pHashes, "size": pUint, "name": pString, "name_enc": pString,
		"magic_number_hex": pHex, "mime_type": pString, "ctime": pTime, "mtime": pTime, "atime": pTime,
		"parent_directory_ref": ref("directory"), "contains_refs": refs(anySCO), "content_ref": ref("artifact"),
	}, func(v *validator, m map[string]any) {
		if m["hashes"] == nil && m["name"] == nil {
			v.fail("at-least-one", "a file needs hashes or name")
		}
	}).withExtensions(fileExtensions),
	"ipv4-addr": sco(map[string]prop{
		"value": req(pString), "resolves_to_refs": refs("mac-addr"), "belongs_to_refs": refs("autonomous-system"),
	}, addrCheck(false)),
	"ipv6-addr": sco(map[string]prop{
		"value": req(pString), "resolves_to_refs": refs("mac-addr"), "belongs_to_refs": refs("autonomous-system"),
	}, addrCheck(true)),
	"mac-addr": sco(map[string]prop{
		"value": req(pString),
	}, func(v *validator, m map[string]any) {
		if s, ok := m["value"].(string); ok && !isMAC48(s) {
			v.failAt("value", "mac-addr", "%q is not a MAC-48/EUI-48 address in lowercase, colon-separated form (e.g. d2:fb:49:24:37:18)", s)
		}
	}),
	"mutex": sco(map[string]prop{
		"name": req(pString),
	}, nil),
	"network-traffic": sco(map[string]prop{
		"start": pTime, "end": pTime, "is_active": pBool,
		"src_ref": ref(addrTypes...), "dst_ref": ref(addrTypes...),
		"src_port": intIn(0, 65535), "dst_port": intIn(0, 65535), "protocols": req(pStrings),
		"src_byte_count": pUint, "dst_byte_count": pUint, "src_packets": pUint, "dst_packets": pUint,
		"ipfix": pDict, "src_payload_ref": ref("artifact"), "dst_payload_ref": ref("artifact"),
		"encapsulates_refs": refs("network-traffic"), "encapsulated_by_ref": ref("network-traffic"),
	}, checkNetworkTraffic).withExtensions(networkTrafficExtensions),
	"process": sco(map[string]prop{
		"is_hidden": pBool, "pid": pInt, "created_time": pTime, "cwd": pString, "command_line": pString,
		"environment_variables": pDict, "opened_connection_refs": refs("network-traffic"),
		"creator_user_ref": ref("user-account"), "image_ref": ref("file"), "parent_ref": ref("process"),
		"child_refs": refs("process"),
	}, atLeastOneProperty("process", true)).withExtensions(processExtensions),
	"software": sco(map[string]prop{
		"name": req(pString), "cpe": pString, "swid": pString, "languages": pStrings,
		"vendor": pString, "version": pString,
	}, nil),
	"url": sco(map[string]prop{
		"value": req(pString),
	}, nil),
	"user-account": sco(map[string]prop{
		"user_id": pString, "credential": pString, "account_login": pString, "account_type": pString,
		"display_name": pString, "is_service_account": pBool, "is_privileged": pBool,
		"can_escalate_privs": pBool, "is_disabled": pBool, "account_created": pTime,
		"account_expires": pTime, "credential_last_changed": pTime, "account_first_login": pTime,
		"account_last_login": pTime,
	}, atLeastOneProperty("user account", false)).withExtensions(map[string]*objSpec{
		"unix-account-ext": {props: map[string]prop{
			"gid": pInt, "groups": pStrings, "home_dir": pString, "shell": pString,
		}},
	}),
	"windows-registry-key": sco(map[string]prop{
		"key": pString, "values": objects(&objSpec{props: map[string]prop{
			"name": pString, "data": pString, "data_type": enum(registryDatatypeEnum...),
		}}),
		"modified_time": pTime, "creator_user_ref": ref("user-account"), "number_of_subkeys": pUint,
	}, atLeastOneProperty("windows registry key", false)),
	"x509-certificate": sco(map[string]prop{
		"is_self_signed": pBool, "hashes": pHashes, "version": pString, "serial_number": pString,
		"signature_algorithm": pString, "issuer": pString, "validity_not_before": pTime,
		"validity_not_after": pTime, "subject": pString, "subject_public_key_algorithm": pString,
		"subject_public_key_modulus": pString, "subject_public_key_exponent": pUint,
		"x509_v3_extensions": object(map[string]prop{
			"basic_constraints": pString, "name_constraints": pString, "policy_constraints": pString,
			"key_usage": pString, "extended_key_usage": pString, "subject_key_identifier": pString,
			"authority_key_identifier": pString, "subject_alternative_name": pString,
			"issuer_alternative_name": pString, "subject_directory_attributes": pString,
			"crl_distribution_points": pString, "inhibit_any_policy": pString,
			"private_key_usage_period_not_before": pTime, "private_key_usage_period_not_after": pTime,
			"certificate_policies": pString, "policy_mappings": pString,
		}),
	}, func(v *validator, m map[string]any) {
		atLeastOneProperty("X.509 certificate", false)(v, m)
		v.order(m, "validity_not_before", "validity_not_after", false)
	}),

	// §7 STIX Meta Objects.
	"marking-definition": {objSpec: objSpec{props: map[string]prop{
		"name": pString, "definition_type": pString, "definition": pAny,
	}, check: checkMarkingDefinition}},
	"language-content": {objSpec: objSpec{props: map[string]prop{
		"object_ref": req(pAnyRef), "object_modified": pTime, "contents": req(pAny),
	}, check: checkLanguageContent}},
	"extension-definition": {objSpec: objSpec{props: map[string]prop{
		"name": req(pString), "description": pString, "schema": req(pString), "version": req(pString),
		"extension_types": req(enums(extensionTypes...)), "extension_properties": pStrings,
	}, check: func(v *validator, m map[string]any) {
		l, _ := m["extension_types"].([]any)
		for _, t := range l {
			if t == "toplevel-property-extension" && m["extension_properties"] == nil {
				v.failAt("extension_properties", "required", "an extension definition of type toplevel-property-extension must list its extension_properties")
			}
		}
	}}},
}

func sco(props map[string]prop, check func(*validator, map[string]any)) *typeSpec {
	return &typeSpec{objSpec: objSpec{props: props, check: check}}
}

func (t *typeSpec) withExtensions(exts map[string]*objSpec) *typeSpec {
	t.exts = exts
	return t
}

func seenOrder(v *validator, m map[string]any) { v.order(m, "first_seen", "last_seen", false) }

// checkLocation applies §4.10.2: a location needs a region, a country, or
// both latitude and longitude; precision needs both.
func checkLocation(v *validator, m map[string]any) {
	_, lat := m["latitude"]
	_, lon := m["longitude"]
	_, region := m["region"]
	_, country := m["country"]
	if lat != lon {
		v.fail("location", "latitude and longitude must be given together")
	}
	if _, prec := m["precision"]; prec && !(lat && lon) {
		v.failAt("precision", "location", "precision needs latitude and longitude")
	}
	if !region && !country && !(lat && lon) {
		v.fail("at-least-one", "a location needs region, country, or latitude and longitude")
	}
}

// checkArtifact applies §6.1: payload_bin or url but not both, hashes with
// url, and no decryption_key without encryption_algorithm.
func checkArtifact(v *validator, m map[string]any) {
	_, bin := m["payload_bin"]
	_, url := m["url"]
	if bin && url {
		v.fail("mutually-exclusive", "an artifact has payload_bin or url, not both")
	}
	if url && m["hashes"] == nil {
		v.failAt("hashes", "required", "an artifact with a url must give the hashes of its content")
	}
	if m["decryption_key"] != nil && m["encryption_algorithm"] == nil {
		v.failAt("decryption_key", "dependency", "decryption_key needs encryption_algorithm")
	}
}

// mimePart is mime-part-type (§6.6.2).
var mimePart = &objSpec{props: map[string]prop{
	"body": pString, "body_raw_ref": ref("artifact", "file"), "content_type": pString, "content_disposition": pString,
}, check: func(v *validator, m map[string]any) {
	_, body := m["body"]
	_, raw := m["body_raw_ref"]
	switch {
	case body && raw:
		v.fail("mutually-exclusive", "a MIME part has body or body_raw_ref, not both")
	case !body && !raw:
		v.fail("at-least-one", "a MIME part needs body or body_raw_ref")
	}
}}

func checkEmailMessage(v *validator, m map[string]any) {
	multi, ok := m["is_multipart"].(bool)
	if !ok {
		return
	}
	if multi && m["body"] != nil {
		v.failAt("body", "multipart", "a multipart message (is_multipart true) puts its body in body_multipart")
	}
	if !multi && m["body_multipart"] != nil {
		v.failAt("body_multipart", "multipart", "body_multipart needs is_multipart true")
	}
}

func addrCheck(v6 bool) func(*validator, map[string]any) {
	return func(v *validator, m map[string]any) {
		s, ok := m["value"].(string)
		if !ok {
			return
		}
		var a netip.Addr
		var err error
		if strings.Contains(s, "/") {
			var p netip.Prefix
			p, err = netip.ParsePrefix(s)
			a = p.Addr()
		} else {
			a, err = netip.ParseAddr(s)
		}
		switch {
		case !v6 && (err != nil || !a.Is4()):
			v.failAt("value", "ip-addr", "%q is not an IPv4 address or CIDR block (e.g. 198.51.100.3 or 198.51.100.0/24)", s)
		case v6 && (err != nil || !a.Is6() || a.Is4In6() && !strings.Contains(s, ":")):
			v.failAt("value", "ip-addr", "%q is not an IPv6 address or CIDR block (e.g. 2001:db8::1 or 2001:db8::/32)", s)
		}
	}
}

func isMAC48(s string) bool {
	if len(s) != 17 {
		return false
	}
	for i := 0; i < 17; i++ {
		c := s[i]
		if i%3 == 2 {
			if c != ':' {
				return false
			}
		} else if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// checkNetworkTraffic applies §6.12: a source or a destination, no end
// while active, and end not before start.
func checkNetworkTraffic(v *validator, m map[string]any) {
	if m["src_ref"] == nil && m["dst_ref"] == nil {
		v.fail("at-least-one", "network traffic needs src_ref or dst_ref")
	}
	if m["is_active"] == true && m["end"] != nil {
		v.failAt("end", "dependency", "active traffic (is_active true) has no end")
	}
	v.order(m, "start", "end", false)
}

// atLeastOneProperty applies the rule of process, user-account,
// windows-registry-key and x509-certificate that the object carries at
// least one of its own properties (or, for process, an extension).
func atLeastOneProperty(what string, extensionsCount bool) func(*validator, map[string]any) {
	return func(v *validator, m map[string]any) {
		for k := range m {
			switch k {
			case "type", "id", "spec_version", "object_marking_refs", "granular_markings", "defanged",
				"created", "modified", "created_by_ref", "revoked":
			case "extensions":
				if extensionsCount {
					return
				}
			default:
				return
			}
		}
		v.fail("at-least-one", "a %s must have at least one of its own properties", what)
	}
}

// Predefined extensions of file (§6.7.2 to §6.7.6).
var fileExtensions = map[string]*objSpec{
	"archive-ext": {props: map[string]prop{
		"contains_refs": req(refs("file", "directory")), "comment": pString,
	}},
	"ntfs-ext": {props: map[string]prop{
		"sid": pString, "alternate_data_streams": objects(&objSpec{props: map[string]prop{
			"name": req(pString), "hashes": pHashes, "size": pUint,
		}}),
	}},
	"pdf-ext": {props: map[string]prop{
		"version": pString, "is_optimized": pBool, "document_info_dict": pDict, "pdfid0": pString, "pdfid1": pString,
	}},
	"raster-image-ext": {props: map[string]prop{
		"image_height": pInt, "image_width": pInt, "bits_per_pixel": pInt, "exif_tags": pDict,
	}},
	"windows-pebinary-ext": {props: map[string]prop{
		"pe_type": req(pString), "imphash": pString, "machine_hex": pHex, "number_of_sections": pUint,
		"time_date_stamp": pTime, "pointer_to_symbol_table_hex": pHex, "number_of_symbols": pUint,
		"size_of_optional_header": pUint, "characteristics_hex": pHex, "file_header_hashes": pHashes,
		"optional_header": object(map[string]prop{
			"magic_hex": pHex, "major_linker_version": pInt, "minor_linker_version": pInt,
			"size_of_code": pUint, "size_of_initialized_data": pUint, "size_of_uninitialized_data": pUint,
			"address_of_entry_point": pInt, "base_of_code": pInt, "base_of_data": pInt, "image_base": pInt,
			"section_alignment": pInt, "file_alignment": pInt, "major_os_version": pInt,
			"minor_os_version": pInt, "major_image_version": pInt, "minor_image_version": pInt,
			"major_subsystem_version": pInt, "minor_subsystem_version": pInt, "win32_version_value_hex": pHex,
			"size_of_image": pUint, "size_of_headers": pUint, "checksum_hex": pHex, "subsystem_hex": pHex,
			"dll_characteristics_hex": pHex, "size_of_stack_reserve": pUint, "size_of_stack_commit": pUint,
			"size_of_heap_reserve": pUint, "size_of_heap_commit": pUint, "loader_flags_hex": pHex,
			"number_of_rva_and_sizes": pInt, "hashes": pHashes,
		}),
		"sections": objects(&objSpec{props: map[string]prop{
			"name": req(pString), "size": pUint, "entropy": pAny, "hashes": pHashes,
		}}),
	}},
}

// Predefined extensions of network-traffic (§6.12.2 to §6.12.5).
var networkTrafficExtensions = map[string]*objSpec{
	"http-request-ext": {props: map[string]prop{
		"request_method": req(pString), "request_value": req(pString), "request_version": pString,
		"request_header": pDict, "message_body_length": pUint, "message_body_data_ref": ref("artifact"),
	}},
	"icmp-ext": {props: map[string]prop{
		"icmp_type_hex": req(pHex), "icmp_code_hex": req(pHex),
	}},
	"socket-ext": {props: map[string]prop{
		"address_family": req(enum(socketAddressFamilyEnum...)), "is_blocking": pBool, "is_listening": pBool,
		"options": pDict, "socket_type": enum(socketTypeEnum...), "socket_descriptor": pUint, "socket_handle": pInt,
	}},
	"tcp-ext": {props: map[string]prop{
		"src_flags_hex": pHex, "dst_flags_hex": pHex,
	}},
}

// Predefined extensions of process (§6.13.2, §6.13.3).
var processExtensions = map[string]*objSpec{
	"windows-process-ext": {props: map[string]prop{
		"aslr_enabled": pBool, "dep_enabled": pBool, "priority": pString, "owner_sid": pString,
		"window_title": pString, "startup_info": pDict, "integrity_level": enum(integrityLevelEnum...),
	}},
	"windows-service-ext": {props: map[string]prop{
		"service_name": pString, "descriptions": pStrings, "display_name": pString, "group_name": pString,
		"start_type": enum(serviceStartTypeEnum...), "service_dll_refs": refs("file"),
		"service_type": enum(serviceTypeEnum...), "service_status": enum(serviceStatusEnum...),
	}},
}

// checkMarkingDefinition applies §7.2.1: the deprecated definition_type and
// definition are required together unless extensions are used; statement
// markings hold a statement; TLP markings are exactly the published ones.
func checkMarkingDefinition(v *validator, m map[string]any) {
	dt, hasType := m["definition_type"]
	def, hasDef := m["definition"]
	_, hasExt := m["extensions"]
	if hasType != hasDef {
		v.fail("marking-definition", "definition_type and definition go together")
	} else if !hasType && !hasExt {
		v.fail("marking-definition", "a marking definition needs extensions, or definition_type and definition")
	}
	if hasDef {
		v.push("definition")
		if dm, ok := v.dict(def); ok && dt == "statement" {
			if s, present := dm["statement"]; !present {
				v.failAt("statement", "required", "a statement marking must have a statement")
			} else {
				v.push("statement")
				v.str(s)
				v.pop()
			}
		}
		v.pop()
	}
	v.tlpMarking(m)
}

// checkLanguageContent applies §7.1: contents maps language tags to
// dictionaries of translated properties.
func checkLanguageContent(v *validator, m map[string]any) {
	c, ok := m["contents"]
	if !ok {
		return
	}
	v.push("contents")
	defer v.pop()
	cm, ok := v.dict(c)
	if !ok {
		return
	}
	for lang, tr := range cm {
		v.push(lang)
		if !validLangTag(lang) {
			v.fail("lang", "%q is not an RFC 5646 language tag", lang)
		}
		v.dict(tr)
		v.pop()
	}
}

package agreement

import "strings"

// PAP is a Permissible Actions Protocol level: what a recipient may do with
// the data (MISP taxonomy "PAP", version 3). The zero value, PAPNone, means
// an object carries no PAP marking. Levels are ordered from least to most
// restrictive, so a ceiling check is a comparison.
//
// PAP has no OASIS representation in STIX 2.1. Entente follows OpenCTI's
// convention: a marking-definition with definition_type "PAP" whose id is a
// UUIDv5 of its definition (see PAPOf).
type PAP uint8

// PAP levels, least restrictive first.
const (
	PAPNone PAP = iota
	PAPClear
	PAPGreen
	PAPAmber
	PAPRed
)

var papNames = [...]string{"", "PAP:CLEAR", "PAP:GREEN", "PAP:AMBER", "PAP:RED"}

// String returns the label as written in MISP's taxonomy ("PAP:AMBER"), or
// "" for PAPNone.
func (p PAP) String() string {
	if int(p) < len(papNames) {
		return papNames[p]
	}
	return ""
}

// ParsePAP reads a label such as "PAP:GREEN" or "green"; the legacy "white"
// means PAP:CLEAR.
func ParsePAP(s string) (PAP, bool) {
	s = strings.ToLower(s)
	s = strings.TrimPrefix(s, "pap:")
	switch s {
	case "clear", "white":
		return PAPClear, true
	case "green":
		return PAPGreen, true
	case "amber":
		return PAPAmber, true
	case "red":
		return PAPRed, true
	}
	return PAPNone, false
}

// Marking-definition ids of the PAP markings in OpenCTI's convention:
// "marking-definition--" + UUIDv5(namespace 00abedb4-aa42-466c-9c01-fed23315a9b7,
// RFC 8785 JSON of {"definition":"PAP:GREEN","definition_type":"PAP"}).
const (
	PAPClearID = "marking-definition--4cdff7eb-acb8-543f-8573-829eb9fe8b34"
	PAPGreenID = "marking-definition--89484dde-e3d2-547f-a6c6-d14824429eb1"
	PAPAmberID = "marking-definition--a6f20d4d-0360-59b6-ba22-3b48707828b1"
	PAPRedID   = "marking-definition--4e4e3b84-de45-53df-9d9b-b21207699fd8"
)

// PAPOf reports the PAP level that a marking-definition id stands for.
func PAPOf(markingID string) (PAP, bool) {
	switch markingID {
	case PAPClearID:
		return PAPClear, true
	case PAPGreenID:
		return PAPGreen, true
	case PAPAmberID:
		return PAPAmber, true
	case PAPRedID:
		return PAPRed, true
	}
	return PAPNone, false
}

package stix

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Errors is the list of violations that Validate and Bundle.Validate return.
// It is never empty. errors.As finds both the list and each *Error in it.
type Errors []*Error

// Error lists the violations, separated by semicolons.
func (es Errors) Error() string {
	switch len(es) {
	case 0:
		return "stix: no errors"
	case 1:
		return "stix: " + es[0].Error()
	}
	var b strings.Builder
	b.WriteString("stix: ")
	b.WriteString(strconv.Itoa(len(es)))
	b.WriteString(" violations: ")
	for i, e := range es {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap gives errors.Is and errors.As access to each violation.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// Warnings lists what Check found in an object that departs from STIX
// 2.1's recommendations without making the object invalid, in the shape
// of violations.
type Warnings []*Error

// String lists the warnings, separated by semicolons: "" for none, else
// "warning: ..." or "2 warnings: ...; ...".
func (ws Warnings) String() string {
	if len(ws) == 0 {
		return ""
	}
	var b strings.Builder
	if len(ws) == 1 {
		b.WriteString("warning: ")
	} else {
		b.WriteString(strconv.Itoa(len(ws)))
		b.WriteString(" warnings: ")
	}
	for i, w := range ws {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(w.Error())
	}
	return b.String()
}

// sortErrors orders violations by path, then rule, so that a report does
// not depend on map iteration order.
func sortErrors(es Errors) {
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Msg, b.Msg),
		)
	})
}

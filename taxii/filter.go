package taxii

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/entente/entente/stix"
)

// endpoint names a TAXII endpoint that takes query parameters, with the
// parameters the spec defines for it (TAXII 2.1 §5.3–§5.8).
type endpoint struct {
	name    string // stable, goes into next tokens
	paging  bool   // added_after, limit and next
	matches []string
}

var (
	manifestEndpoint = endpoint{"manifest", true, []string{"id", "type", "version", "spec_version"}}
	objectsEndpoint  = endpoint{"objects", true, []string{"id", "type", "version", "spec_version"}}
	// §5.6's prose calls match[version] the only match parameter, but its
	// parameter table also lists match[spec_version]; both are honoured.
	objectEndpoint   = endpoint{"object", true, []string{"version", "spec_version"}}
	deleteEndpoint   = endpoint{"delete", false, []string{"version", "spec_version"}}
	versionsEndpoint = endpoint{"versions", true, []string{"spec_version"}}
)

// query is a parsed TAXII query before its next token is checked: the
// Filter the Backend sees, plus the raw token.
type query struct {
	Filter
	next string
}

// parseQuery parses and validates the query parameters of a request to e.
// Parameters the endpoint does not define, and match fields it does not
// know, are ignored as TAXII 2.1 §3.5 allows; malformed values of the
// parameters it does define are errors wrapping ErrBadRequest that name the
// parameter and say what is expected. Limit is left 0 when absent.
func parseQuery(e endpoint, values url.Values) (*query, error) {
	q := new(query)
	// In order, so that of several bad parameters the same one is named.
	for _, name := range slices.Sorted(maps.Keys(values)) {
		vs := values[name]
		field, isMatch := matchField(name)
		switch {
		case isMatch && slices.Contains(e.matches, field):
		case !isMatch && e.paging && (name == "added_after" || name == "limit" || name == "next"):
		default:
			continue
		}
		if len(vs) != 1 {
			return nil, badParam(name, "is given %d times; give it once, with values separated by commas", len(vs))
		}
		v := vs[0]
		var err error
		switch name {
		case "added_after":
			q.AddedAfter, err = parseTimestamp(v, 6)
			if err != nil {
				return nil, badParam(name, "must be a TAXII timestamp such as 2021-06-10T16:00:00.123456Z: %v", err)
			}
		case "limit":
			q.Limit, err = parseLimit(v)
			if err != nil {
				return nil, badParam(name, "%v", err)
			}
		case "next":
			// Empty is taken as absent: some clients send next= on the
			// first page.
			q.next = v
		default:
			if err := q.parseMatch(field, v); err != nil {
				return nil, badParam(name, "%v", err)
			}
		}
	}
	return q, nil
}

func badParam(name, format string, args ...any) error {
	return fmt.Errorf("%w: query parameter %s %s", ErrBadRequest, name, fmt.Sprintf(format, args...))
}

// matchField returns "type" for "match[type]".
func matchField(name string) (string, bool) {
	field, ok := strings.CutPrefix(name, "match[")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(field, "]")
}

// MaxMatchValues is the most values one match parameter may hold
// (match[type]=a,b,c holds three). TAXII 2.1 §3.5 sets no bound; this one
// bounds the work of a request, and a query beyond it is a 400 that asks
// the client to split it. It is well above the 42 types STIX 2.1 defines.
const MaxMatchValues = 100

func (q *query) parseMatch(field, v string) error {
	if n := strings.Count(v, ",") + 1; n > MaxMatchValues {
		return fmt.Errorf("holds %d values; this server takes at most %d per match parameter, so split the query into several", n, MaxMatchValues)
	}
	values, err := splitValues(v)
	if err != nil {
		return err
	}
	switch field {
	case "id":
		for _, id := range values {
			if !stix.ValidID(id) {
				return fmt.Errorf("holds %q, which is not a STIX id (want type--UUID, as in indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f)", id)
			}
		}
		q.IDs = values
	case "type":
		for _, t := range values {
			if !stix.ValidTypeName(t) {
				return fmt.Errorf("holds %q, which is not a STIX type name (3 to 250 characters: lower-case letters, digits and hyphens, starting with a letter)", t)
			}
		}
		q.Types = values
	case "spec_version":
		for _, sv := range values {
			if !isSpecVersion(sv) {
				return fmt.Errorf("holds %q, which is not a STIX specification version (want a number such as 2.1)", sv)
			}
		}
		q.SpecVersions = values
	case "version":
		return q.Versions.parse(values)
	}
	return nil
}

// parse fills m from match[version]'s values: first, last, all or STIX
// timestamps, where all excludes every other value (TAXII 2.1 §3.5).
func (m *VersionMatch) parse(values []string) error {
	for _, v := range values {
		switch v {
		case "all":
			m.All = true
		case "first":
			m.First = true
		case "last":
			m.Last = true
		default:
			t, err := parseTimestamp(v, 9)
			if err != nil {
				return fmt.Errorf("holds %q, which is neither first, last, all nor a STIX timestamp such as 2021-06-10T16:00:00.000Z: %v", v, err)
			}
			m.Exact = append(m.Exact, t)
		}
	}
	if m.All && len(values) > 1 {
		return errors.New("combines all with other values; all already selects every version")
	}
	slices.SortFunc(m.Exact, time.Time.Compare)
	m.Exact = slices.CompactFunc(m.Exact, time.Time.Equal)
	return nil
}

// splitValues splits a comma-separated list of ORed values (TAXII 2.1
// §3.5), dropping duplicates and putting the rest in order, so that equal
// queries normalize equally.
func splitValues(v string) ([]string, error) {
	values := strings.Split(v, ",")
	for i, s := range values {
		if s == "" {
			if len(values) == 1 {
				return nil, errors.New("is empty; give at least one value")
			}
			return nil, fmt.Errorf("has an empty value at position %d; separate values by single commas, without spaces", i+1)
		}
	}
	slices.Sort(values)
	return slices.Compact(values), nil
}

// maxLimit bounds limit before the server's own cap applies, so that any
// all-digit value is accepted and clamped rather than overflowing.
const maxLimit = 1 << 30

func parseLimit(v string) (int, error) {
	n, err := strconv.ParseUint(v, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return maxLimit, nil
	case err != nil:
		return 0, fmt.Errorf("is %q; want a whole number greater than 0", v)
	case n == 0:
		return 0, errors.New("is 0; want a whole number greater than 0")
	}
	return int(min(n, maxLimit)), nil
}

// parseTimestamp parses an RFC 3339 timestamp in UTC with a literal Z and
// at most maxFrac fractional digits: 6 for TAXII timestamps, which name
// microseconds, and 9 for STIX ones, whose precision is open but which Go
// can only represent to the nanosecond.
func parseTimestamp(s string, maxFrac int) (time.Time, error) {
	const base = len("2006-01-02T15:04:05")
	if len(s) < base+1 || s[len(s)-1] != 'Z' {
		return time.Time{}, errors.New("not in the form YYYY-MM-DDTHH:MM:SS[.ssssss]Z")
	}
	for i := range base {
		c := s[i]
		var ok bool
		switch i {
		case 4, 7:
			ok = c == '-'
		case 10:
			ok = c == 'T'
		case 13, 16:
			ok = c == ':'
		default:
			ok = '0' <= c && c <= '9'
		}
		if !ok {
			return time.Time{}, errors.New("not in the form YYYY-MM-DDTHH:MM:SS[.ssssss]Z")
		}
	}
	if frac := s[base : len(s)-1]; frac != "" {
		digits, ok := strings.CutPrefix(frac, ".")
		if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" {
			return time.Time{}, errors.New("the fraction of a second must be a dot followed by digits")
		}
		if len(digits) > maxFrac {
			return time.Time{}, fmt.Errorf("at most %d digits after the second are allowed", maxFrac)
		}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errors.New("not a valid date and time")
	}
	return t, nil
}

// FormatTimestamp formats t as a TAXII timestamp: UTC, exactly microsecond
// precision, as TAXII 2.1 defines its timestamp type.
func FormatTimestamp(t time.Time) string {
	return t.UTC().Format(timestampLayout)
}

const timestampLayout = "2006-01-02T15:04:05.000000Z"

// isSpecVersion reports whether s looks like a STIX spec_version: digits,
// a dot, digits.
func isSpecVersion(s string) bool {
	major, minor, ok := strings.Cut(s, ".")
	return ok && len(s) <= 16 && isDigits(major) && isDigits(minor)
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// normalize writes f's filters in a canonical text form, for next tokens:
// two queries that select the same objects normalize equally.
func (f *Filter) normalize(b *strings.Builder) {
	writeTime := func(t time.Time) {
		b.WriteString(t.UTC().Format(time.RFC3339Nano))
	}
	b.WriteString("added_after=")
	if !f.AddedAfter.IsZero() {
		writeTime(f.AddedAfter)
	}
	for _, l := range []struct {
		name   string
		values []string
	}{{"id", f.IDs}, {"type", f.Types}, {"spec_version", f.SpecVersions}} {
		b.WriteString("\n")
		b.WriteString(l.name)
		b.WriteString("=")
		for i, v := range l.values {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(v)
		}
	}
	v := f.Versions
	b.WriteString("\nversion=")
	for _, flag := range []bool{v.All, v.First, v.Last} {
		b.WriteString(strconv.FormatBool(flag))
		b.WriteByte(',')
	}
	for _, t := range v.Exact {
		writeTime(t)
		b.WriteByte(',')
	}
	b.WriteString("\nmanifest=")
	b.WriteString(strconv.FormatBool(f.Manifest))
}

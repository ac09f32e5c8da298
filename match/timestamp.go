package match

import (
	"time"
)

// setTime sets the record's time from a timestamp string; see
// parseTimestamp. A timestamp without an offset is read as UTC and marked,
// so that a [Stream] with a Location can read it in that zone instead.
func (r *Record) setTime(b []byte) {
	r.Time, r.zoneless = parseTimestamp(b)
}

// inZone reads a zoneless time's clock reading in loc.
func inZone(t time.Time, loc *time.Location) time.Time {
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	return time.Date(y, mo, d, h, mi, sec, t.Nanosecond(), loc).UTC()
}

// parseTimestamp reads the timestamps logs write: RFC 3339
// ("2026-11-26T08:30:00.123456Z", "+01:00"), Suricata's variant with a
// colon-less offset ("2026-11-26T08:30:00.123456+0000"), and either without
// an offset ("2025-11-28T21:49:11.017869"), which it reads as UTC and
// reports as zoneless. It returns the zero time for anything else. It
// avoids time.Parse, which costs more than scanning the rest of a typical
// line.
func parseTimestamp(b []byte) (t time.Time, zoneless bool) {
	const base = len("2006-01-02T15:04:05")
	if len(b) < base || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range b[i : i+n] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec := num(11, 2), num(14, 2), num(17, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 60 {
		return time.Time{}, false
	}
	rest := b[base:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		i, scale := 1, 100_000_000
		for ; i < len(rest) && '0' <= rest[i] && rest[i] <= '9'; i++ {
			nsec += int(rest[i]-'0') * scale
			scale /= 10
		}
		if i == 1 {
			return time.Time{}, false
		}
		rest = rest[i:]
	}
	offset := 0
	switch {
	case len(rest) == 0:
		zoneless = true
	case len(rest) == 1 && rest[0] == 'Z':
	case len(rest) == 5 && (rest[0] == '+' || rest[0] == '-'):
		offset = offsetOf(rest, 1, 3)
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		offset = offsetOf(rest, 1, 4)
	default:
		return time.Time{}, false
	}
	if offset == -1 {
		return time.Time{}, false
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day {
		return time.Time{}, false // 31 February and the like
	}
	return t.Add(-time.Duration(offset) * time.Second), zoneless
}

// offsetOf reads ±hh and mm at the given positions of a zone offset,
// returning it in seconds east of UTC, or -1 if malformed.
func offsetOf(b []byte, h, m int) int {
	d := func(i int) int {
		if b[i] < '0' || b[i] > '9' || b[i+1] < '0' || b[i+1] > '9' {
			return -1
		}
		return int(b[i]-'0')*10 + int(b[i+1]-'0')
	}
	hh, mm := d(h), d(m)
	if hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return -1
	}
	off := hh*3600 + mm*60
	if b[0] == '-' {
		off = -off
	}
	return off
}

// parseEpoch reads Zeek's timestamps: seconds since 1970 with a fraction
// ("1764145800.123456"). It returns the zero time for anything else.
func parseEpoch(b []byte) time.Time {
	var sec, nsec int64
	i := 0
	for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		sec = sec*10 + int64(b[i]-'0')
		if sec > 1<<40 {
			return time.Time{}
		}
	}
	if i == 0 {
		return time.Time{}
	}
	if i < len(b) && b[i] == '.' {
		i++
		scale := int64(100_000_000)
		for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
			nsec += int64(b[i]-'0') * scale
			scale /= 10
		}
	}
	if i != len(b) {
		return time.Time{}
	}
	return time.Unix(sec, nsec).UTC()
}

package match

import (
	"bytes"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner walks one JSON text without building any value: readers visit
// the members they need and skip everything else. It checks the structure
// it walks (quotes, brackets, commas, colons and literals), so a truncated
// or garbled line is reported rather than half-read.
type scanner struct {
	b     []byte
	i     int
	buf   *[]byte // where unescaped strings go; see str
	depth int     // nesting of the object or array being read
}

// maxDepth bounds nesting, so that hostile input cannot exhaust the stack;
// real logs nest a handful of levels.
const maxDepth = 64

// syntaxError reports the first byte the scanner could not accept.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("offset %d: %s", e.off, e.msg) }

func (s *scanner) fail(msg string) error { return &syntaxError{off: s.i, msg: msg} }

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// object calls member for each member of the object at the current
// position; member must consume the value (with str, skip, object, ...).
func (s *scanner) object(member func(key []byte) error) error {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return s.fail("expected an object")
	}
	if s.depth++; s.depth > maxDepth {
		return s.fail("objects and arrays nested too deeply")
	}
	defer func() { s.depth-- }()
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.ws()
		key, err := s.rawString()
		if err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.fail("expected ':' after an object key")
		}
		s.i++
		s.ws()
		if err := member(key); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("unterminated object")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.fail("expected ',' or '}' in an object")
		}
	}
}

// array calls elem for each element of the array at the current position.
func (s *scanner) array(elem func() error) error {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '[' {
		return s.fail("expected an array")
	}
	if s.depth++; s.depth > maxDepth {
		return s.fail("objects and arrays nested too deeply")
	}
	defer func() { s.depth-- }()
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return nil
	}
	for {
		s.ws()
		if err := elem(); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("unterminated array")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.fail("expected ',' or ']' in an array")
		}
	}
}

// rawString consumes a string and returns its bytes between the quotes,
// escapes untouched.
func (s *scanner) rawString() ([]byte, error) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, s.fail("expected a string")
	}
	start := s.i + 1
	j := start
	for {
		k := bytes.IndexByte(s.b[j:], '"')
		if k < 0 {
			s.i = len(s.b)
			return nil, s.fail("unterminated string")
		}
		j += k
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for j-1-n >= start && s.b[j-1-n] == '\\' {
			n++
		}
		if n%2 == 0 {
			break
		}
		j++
	}
	s.i = j + 1
	return s.b[start:j], nil
}

// str consumes a string value and returns it unescaped. Strings without
// escapes, the common case, are returned in place; others are decoded into
// *s.buf. null reads as absent (nil, false).
func (s *scanner) str() ([]byte, bool, error) {
	if s.i < len(s.b) && s.b[s.i] == 'n' {
		return nil, false, s.literal("null")
	}
	raw, err := s.rawString()
	if err != nil {
		return nil, false, err
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw, true, nil
	}
	start := len(*s.buf)
	out, ok := unescape(*s.buf, raw)
	if !ok {
		return nil, false, s.fail("invalid escape in a string")
	}
	*s.buf = out
	return out[start:len(out):len(out)], true, nil
}

// unescape appends the decoded form of a JSON string body to dst.
func unescape(dst, raw []byte) ([]byte, bool) {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		if i+1 >= len(raw) {
			return dst, false
		}
		i++
		switch raw[i] {
		case '"', '\\', '/':
			dst = append(dst, raw[i])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, n, ok := hex4(raw[i+1:])
			if !ok {
				return dst, false
			}
			i += n
			if utf16.IsSurrogate(r) {
				r2, n2, ok := rune(utf8.RuneError), 0, false
				if len(raw) > i+2 && raw[i+1] == '\\' && raw[i+2] == 'u' {
					r2, n2, ok = hex4(raw[i+3:])
				}
				if ok {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						i += 2 + n2
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default:
			return dst, false
		}
		i++
	}
	return dst, true
}

func hex4(b []byte) (rune, int, bool) {
	if len(b) < 4 {
		return 0, 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, 4, true
}

// number consumes a JSON number and returns its text.
func (s *scanner) number() ([]byte, error) {
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := 0
	for s.i < len(s.b) {
		c := s.b[s.i]
		if '0' <= c && c <= '9' {
			digits++
		} else if c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-' {
			break
		}
		s.i++
	}
	if digits == 0 {
		return nil, s.fail("expected a value")
	}
	return s.b[start:s.i], nil
}

// integer consumes a non-negative integer, returning it in canonical
// decimal form; a string holding one (Zeek quotes some counts) is accepted
// too. Other values read as absent.
func (s *scanner) integer() ([]byte, bool, error) {
	var v []byte
	var err error
	if s.i < len(s.b) && (s.b[s.i] == '"' || s.b[s.i] == 'n') {
		var ok bool
		if v, ok, err = s.str(); err != nil || !ok {
			return nil, false, err
		}
	} else if v, err = s.number(); err != nil {
		return nil, false, err
	}
	v, ok := canonicalInt(v)
	return v, ok, nil
}

// canonicalInt checks that v is a decimal integer that fits an int64 and
// drops its leading zeros, which JSON numbers may not have.
func canonicalInt(v []byte) ([]byte, bool) {
	if len(v) == 0 || len(v) > 18 {
		return nil, false // empty, or possibly beyond an int64
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return nil, false // negative or fractional: not a count or port
		}
	}
	for len(v) > 1 && v[0] == '0' {
		v = v[1:]
	}
	return v, true
}

func (s *scanner) literal(lit string) error {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return s.fail("invalid literal")
	}
	s.i += len(lit)
	return nil
}

// skip consumes any value.
func (s *scanner) skip() error {
	if s.i >= len(s.b) {
		return s.fail("expected a value")
	}
	switch c := s.b[s.i]; c {
	case '"':
		_, err := s.rawString()
		return err
	case '{':
		return s.object(func([]byte) error { return s.skip() })
	case '[':
		return s.array(s.skip)
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		_, err := s.number()
		return err
	}
}

// end checks that nothing but white space follows the value just read.
func (s *scanner) end() error {
	s.ws()
	if s.i != len(s.b) {
		return s.fail("trailing data after the JSON value")
	}
	return nil
}

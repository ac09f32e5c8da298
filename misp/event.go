package misp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is a MISP event as the MISP core format writes it. Fields that MISP
// writes as decimal strings ("timestamp": "1603642920") are Text, which reads
// numbers too; booleans are Bool, which reads MISP's "0"/"1" as well.
type Event struct {
	UUID             string      `json:"uuid"`
	Info             string      `json:"info"`
	Date             string      `json:"date,omitempty"`
	Timestamp        Text        `json:"timestamp,omitempty"`
	PublishTimestamp Text        `json:"publish_timestamp,omitempty"`
	Published        Bool        `json:"published"`
	ThreatLevelID    Text        `json:"threat_level_id,omitempty"`
	Analysis         Text        `json:"analysis,omitempty"`
	Distribution     Text        `json:"distribution,omitempty"`
	Orgc             *Org        `json:"Orgc,omitempty"`
	Tags             []Tag       `json:"Tag,omitempty"`
	Galaxies         []Galaxy    `json:"Galaxy,omitempty"`
	Attributes       []Attribute `json:"Attribute,omitempty"`
	Objects          []Object    `json:"Object,omitempty"`
}

// Org is the organisation that created an event.
type Org struct {
	UUID string `json:"uuid"`
	Name string `json:"name"`
}

// Attribute is one MISP attribute: a typed value.
type Attribute struct {
	UUID           string   `json:"uuid"`
	Type           string   `json:"type"`
	Category       string   `json:"category,omitempty"`
	Value          string   `json:"value"`
	ToIDs          Bool     `json:"to_ids"`
	Comment        string   `json:"comment,omitempty"`
	Timestamp      Text     `json:"timestamp,omitempty"`
	Distribution   Text     `json:"distribution,omitempty"`
	FirstSeen      string   `json:"first_seen,omitempty"`
	LastSeen       string   `json:"last_seen,omitempty"`
	Deleted        Bool     `json:"deleted,omitempty"`
	ObjectRelation string   `json:"object_relation,omitempty"`
	Tags           []Tag    `json:"Tag,omitempty"`
	Galaxies       []Galaxy `json:"Galaxy,omitempty"`
}

// Object is a MISP object: attributes grouped after a template.
type Object struct {
	UUID         string      `json:"uuid"`
	Name         string      `json:"name"`
	MetaCategory string      `json:"meta-category,omitempty"`
	TemplateUUID string      `json:"template_uuid,omitempty"`
	Comment      string      `json:"comment,omitempty"`
	Timestamp    Text        `json:"timestamp,omitempty"`
	Distribution Text        `json:"distribution,omitempty"`
	Deleted      Bool        `json:"deleted,omitempty"`
	Attributes   []Attribute `json:"Attribute,omitempty"`
}

// Tag is a MISP tag, such as "tlp:amber" or a machine tag.
type Tag struct {
	Name   string `json:"name"`
	Colour string `json:"colour,omitempty"`
}

// Galaxy is a MISP galaxy with the clusters of it that an event or
// attribute carries.
type Galaxy struct {
	UUID        string    `json:"uuid,omitempty"`
	Name        string    `json:"name"`
	Type        string    `json:"type"`
	Description string    `json:"description,omitempty"`
	Namespace   string    `json:"namespace,omitempty"`
	Clusters    []Cluster `json:"GalaxyCluster"`
}

// Cluster is one galaxy cluster: a named threat actor, malware, technique.
type Cluster struct {
	UUID        string         `json:"uuid"`
	Type        string         `json:"type,omitempty"`
	Value       string         `json:"value"`
	TagName     string         `json:"tag_name,omitempty"`
	Description string         `json:"description,omitempty"`
	Meta        map[string]any `json:"meta,omitempty"`
}

// Text is a MISP field that MISP writes as a string but some producers
// write as a number; both read as the text of the value.
type Text string

// UnmarshalJSON reads a string, a number or null.
func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(s)
	case string(b) == "null":
		*t = ""
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return errors.New("want a string or a number")
		}
		*t = Text(n)
	}
	return nil
}

// Bool is a MISP flag: true, false, "1", "0", 1, 0, "true", "false" or null.
type Bool bool

// UnmarshalJSON reads the forms MISP instances have written.
func (f *Bool) UnmarshalJSON(b []byte) error {
	switch strings.Trim(string(bytes.TrimSpace(b)), `"`) {
	case "true", "1", "True":
		*f = true
	case "false", "0", "False", "null", "":
		*f = false
	default:
		return fmt.Errorf("want true or false, not %s", b)
	}
	return nil
}

// DecodeError is a defect in a MISP document: Path names the field
// ("Event.Attribute[3].timestamp") and Msg what is wrong with it.
type DecodeError struct {
	Path string
	Msg  string
}

func (e *DecodeError) Error() string {
	if e.Path == "" {
		return "misp: " + e.Msg
	}
	return "misp: " + e.Path + ": " + e.Msg
}

// DecodeEvents reads a MISP event document: a feed's event file or an
// event's JSON export ({"Event": {...}}), a list of them, a REST search
// answer ({"response": [{"Event": {...}}, ...]}), or a bare event object.
// Each event is checked as [Event.Check] says.
func DecodeEvents(data []byte) ([]Event, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, &DecodeError{Msg: "empty document; want a MISP event in JSON"}
	}
	if !utf8.Valid(data) {
		// encoding/json would replace the bytes, changing values.
		return nil, &DecodeError{Msg: fmt.Sprintf("invalid UTF-8 at byte %d; MISP writes UTF-8", invalidAt(data))}
	}
	var wrapped []struct {
		Event *json.RawMessage `json:"Event"`
	}
	switch data[0] {
	case '[':
		if err := json.Unmarshal(data, &wrapped); err != nil {
			return nil, jsonError("", err)
		}
	case '{':
		var top struct {
			Event    *json.RawMessage `json:"Event"`
			Response *json.RawMessage `json:"response"`
		}
		if err := json.Unmarshal(data, &top); err != nil {
			return nil, jsonError("", err)
		}
		switch {
		case top.Event != nil:
			wrapped = append(wrapped, struct {
				Event *json.RawMessage `json:"Event"`
			}{top.Event})
		case top.Response != nil:
			if err := json.Unmarshal(*top.Response, &wrapped); err != nil {
				return nil, jsonError("response", err)
			}
		default:
			raw := json.RawMessage(data)
			wrapped = append(wrapped, struct {
				Event *json.RawMessage `json:"Event"`
			}{&raw})
		}
	default:
		return nil, &DecodeError{Msg: "not a JSON object or array; want a MISP event"}
	}
	events := make([]Event, 0, len(wrapped))
	for i, w := range wrapped {
		path := "Event"
		if data[0] == '[' || len(wrapped) > 1 {
			path = fmt.Sprintf("[%d].Event", i)
		}
		if w.Event == nil {
			return nil, &DecodeError{Path: path, Msg: "missing; want {\"Event\": {...}}"}
		}
		var e Event
		if err := json.Unmarshal(*w.Event, &e); err != nil {
			return nil, jsonError(path, err)
		}
		if err := e.check(path); err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return events, nil
}

// DecodeEvent reads a document holding exactly one event.
func DecodeEvent(data []byte) (*Event, error) {
	es, err := DecodeEvents(data)
	if err != nil {
		return nil, err
	}
	if len(es) != 1 {
		return nil, &DecodeError{Msg: fmt.Sprintf("the document holds %d events; want one", len(es))}
	}
	return &es[0], nil
}

func jsonError(path string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		p := te.Field
		if path != "" && p != "" {
			p = path + "." + p
		} else if p == "" {
			p = path
		}
		return &DecodeError{Path: p, Msg: fmt.Sprintf("a JSON %s where MISP writes a %s (byte %d)", te.Value, kindOf(te.Type.String()), te.Offset)}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &DecodeError{Path: path, Msg: fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, err)}
	}
	return &DecodeError{Path: path, Msg: err.Error()}
}

func kindOf(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "list"
	case goType == "string":
		return "string"
	case strings.HasPrefix(goType, "map"), strings.HasPrefix(goType, "misp."), strings.HasPrefix(goType, "*"):
		return "object"
	}
	return goType
}

// check verifies what the mapping relies on, naming the first field that
// is wrong: uuids present, timestamps decimal, dates as MISP writes them.
func (e *Event) check(path string) error {
	if e.UUID == "" {
		return &DecodeError{Path: path + ".uuid", Msg: "missing; every MISP event has a uuid"}
	}
	if err := checkUnix(path+".timestamp", e.Timestamp); err != nil {
		return err
	}
	if err := checkUnix(path+".publish_timestamp", e.PublishTimestamp); err != nil {
		return err
	}
	if e.Date != "" {
		if _, err := time.Parse(time.DateOnly, e.Date); err != nil {
			return &DecodeError{Path: path + ".date", Msg: fmt.Sprintf("%q is not a date; MISP writes YYYY-MM-DD", e.Date)}
		}
	}
	if err := checkLevel(path+".distribution", e.Distribution); err != nil {
		return err
	}
	for i := range e.Attributes {
		if err := e.Attributes[i].check(fmt.Sprintf("%s.Attribute[%d]", path, i)); err != nil {
			return err
		}
	}
	for i := range e.Objects {
		o := &e.Objects[i]
		op := fmt.Sprintf("%s.Object[%d]", path, i)
		if o.UUID == "" {
			return &DecodeError{Path: op + ".uuid", Msg: "missing; every MISP object has a uuid"}
		}
		if err := checkUnix(op+".timestamp", o.Timestamp); err != nil {
			return err
		}
		if err := checkLevel(op+".distribution", o.Distribution); err != nil {
			return err
		}
		for j := range o.Attributes {
			if err := o.Attributes[j].check(fmt.Sprintf("%s.Attribute[%d]", op, j)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (a *Attribute) check(path string) error {
	if a.UUID == "" {
		return &DecodeError{Path: path + ".uuid", Msg: "missing; every MISP attribute has a uuid"}
	}
	if a.Type == "" {
		return &DecodeError{Path: path + ".type", Msg: "missing; every MISP attribute has a type"}
	}
	if err := checkUnix(path+".timestamp", a.Timestamp); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"first_seen", a.FirstSeen}, {"last_seen", a.LastSeen}} {
		if f.v == "" {
			continue
		}
		if _, err := parseSeen(f.v); err != nil {
			return &DecodeError{Path: path + "." + f.name, Msg: fmt.Sprintf("%q is not a date and time; MISP writes 2020-10-25T16:22:00.000000+00:00", f.v)}
		}
	}
	return checkLevel(path+".distribution", a.Distribution)
}

func checkUnix(path string, t Text) error {
	if t == "" {
		return nil
	}
	if _, err := strconv.ParseInt(string(t), 10, 64); err != nil {
		return &DecodeError{Path: path, Msg: fmt.Sprintf("%q is not a Unix time in seconds", string(t))}
	}
	return nil
}

func checkLevel(path string, t Text) error {
	if t == "" {
		return nil
	}
	if n, err := strconv.Atoi(string(t)); err != nil || n < 0 || n > 5 {
		return &DecodeError{Path: path, Msg: fmt.Sprintf("%q is not a MISP distribution level (0 to 5)", string(t))}
	}
	return nil
}

// unix returns t as a time; "" and invalid text (which check refused) give
// the zero time.
func (t Text) unix() time.Time {
	n, err := strconv.ParseInt(string(t), 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// parseSeen reads MISP's first_seen and last_seen, RFC 3339 with up to
// microseconds.
func parseSeen(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

func invalidAt(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

package store

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// A status's per-object lists (TAXII 2.1 §4.3.1) are stored (by every
// store, in its details column) in a compact form: a large envelope reports thousands of objects,
// most with one of a few messages, and a status is kept for two days.
//
//	details = 0x01 DEFLATE(body)
//	body    = uvarint(len(messages)) string*  list list list
//	list    = uvarint(n) (string:id string:version uvarint:message)*
//	string  = uvarint(len) bytes
//
// The lists are successes, failures and pendings; each detail names its
// message by its place in messages, so that a message shared by many
// objects is stored once. SQLite rows written before this form hold JSON
// ({"successes":[...],...}), which is still read.
const detailsCompact = 0x01

// maxDetailsBytes bounds what decoding a details column may inflate to.
const maxDetailsBytes = 256 << 20

// EncodeStatusDetails encodes a status's per-object lists (Successes,
// Failures, Pendings) in the compact form above, for a store to keep.
func EncodeStatusDetails(st Status) ([]byte, error) {
	var (
		body     []byte
		messages []string
		index    = map[string]uint64{}
	)
	for _, list := range [][]StatusDetail{st.Successes, st.Failures, st.Pendings} {
		for _, d := range list {
			if _, ok := index[d.Message]; !ok {
				index[d.Message] = uint64(len(messages))
				messages = append(messages, d.Message)
			}
		}
	}
	body = binary.AppendUvarint(body, uint64(len(messages)))
	for _, m := range messages {
		body = appendString(body, m)
	}
	for _, list := range [][]StatusDetail{st.Successes, st.Failures, st.Pendings} {
		body = binary.AppendUvarint(body, uint64(len(list)))
		for _, d := range list {
			body = appendString(body, d.ID)
			body = appendString(body, d.Version)
			body = binary.AppendUvarint(body, index[d.Message])
		}
	}
	var out bytes.Buffer
	out.WriteByte(detailsCompact)
	// A flate.Writer carries about a megabyte of tables: reuse them.
	zw := compressors.Get().(*flate.Writer)
	defer compressors.Put(zw)
	zw.Reset(&out)
	if _, err := zw.Write(body); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	zw.Reset(nil)
	return out.Bytes(), nil
}

var compressors = sync.Pool{New: func() any {
	zw, _ := flate.NewWriter(nil, flate.BestSpeed) // fails only for a bad level
	return zw
}}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

var errDetails = errors.New("malformed status details")

// DecodeStatusDetails decodes what EncodeStatusDetails made, or the older
// JSON form, into st's lists.
func DecodeStatusDetails(data []byte, st *Status) error {
	if len(data) > 0 && data[0] == '{' {
		return decodeJSONDetails(data, st)
	}
	if len(data) == 0 || data[0] != detailsCompact {
		return errDetails
	}
	r := bufio.NewReader(io.LimitReader(flate.NewReader(bytes.NewReader(data[1:])), maxDetailsBytes))
	count := func() (int, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil || n > maxDetailsBytes {
			return 0, errDetails
		}
		return int(n), nil
	}
	str := func() (string, error) {
		n, err := count()
		if err != nil {
			return "", err
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return "", errDetails
		}
		return string(b), nil
	}
	n, err := count()
	if err != nil {
		return err
	}
	var messages []string
	for range n {
		m, err := str()
		if err != nil {
			return err
		}
		messages = append(messages, m)
	}
	for _, list := range []*[]StatusDetail{&st.Successes, &st.Failures, &st.Pendings} {
		n, err := count()
		if err != nil {
			return err
		}
		var ds []StatusDetail
		for range n {
			var d StatusDetail
			if d.ID, err = str(); err != nil {
				return err
			}
			if d.Version, err = str(); err != nil {
				return err
			}
			m, err := count()
			if err != nil || m >= len(messages) {
				return errDetails
			}
			d.Message = messages[m]
			ds = append(ds, d)
		}
		*list = ds
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return errDetails
	}
	return nil
}

// statusDetails is how rows written before the compact form hold a
// status's per-object lists.
type statusDetails struct {
	Successes []StatusDetail `json:"successes,omitempty"`
	Failures  []StatusDetail `json:"failures,omitempty"`
	Pendings  []StatusDetail `json:"pendings,omitempty"`
}

func decodeJSONDetails(data []byte, st *Status) error {
	var d statusDetails
	if err := json.Unmarshal(data, &d); err != nil {
		return fmt.Errorf("%w: %v", errDetails, err)
	}
	st.Successes, st.Failures, st.Pendings = d.Successes, d.Failures, d.Pendings
	return nil
}

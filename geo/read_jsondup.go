package geo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// A JSON object that names one key twice is rejected wherever the key is, nested
// objects included: encoding/json keeps the last value without a word, other tools
// keep the first, so which "lat" (or which geometry) the sender meant is a guess.
// Keys are compared once unescaped, as JSON defines them ("lat" and "l\u0061t" are
// one key); keys that differ only in case are a separate check (jsonFields.fill),
// since only the project's own columns are case-insensitive.

// dupMapFrom is the number of keys of one object past which the keys seen are kept
// in a map rather than compared one by one, so that an object of many keys costs
// linear time.
const dupMapFrom = 16

// duplicateKey returns the path of keys to the first key that appears twice in one
// object of data, a JSON value the decoder has accepted, the repeated key last; nil
// when every object's keys are distinct. Array elements add nothing to the path.
func duplicateKey(data []byte) []string {
	s := dupScanner{data: data}
	s.ws()
	return s.value()
}

// dupScanner walks JSON text that is known to be well formed. It never reads past
// the end of its data whatever the input, so that text it did not expect ends the
// walk (returning no duplicate) rather than a panic.
type dupScanner struct {
	data []byte
	i    int
}

func (s *dupScanner) ws() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// dupObject is an object being walked: the keys seen so far and the key whose
// value is being walked.
type dupObject struct {
	keys [][]byte
	set  map[string]struct{}
	key  []byte
}

// value walks one value from s.i, returning a duplicate's path if it holds one.
// Nesting is walked with an explicit stack, so that deep input costs no recursion.
func (s *dupScanner) value() []string {
	var stack []*dupObject // nil entries are arrays
	for s.i < len(s.data) {
		switch c := s.data[s.i]; c {
		case '{':
			s.i++
			s.ws()
			if s.i < len(s.data) && s.data[s.i] == '}' {
				s.i++
				break
			}
			stack = append(stack, &dupObject{})
			if path, ok := s.member(stack); !ok || path != nil {
				return path
			}
			continue
		case '[':
			s.i++
			s.ws()
			if s.i < len(s.data) && s.data[s.i] == ']' {
				s.i++
				break
			}
			stack = append(stack, nil)
			continue
		case '"':
			if _, ok := s.str(); !ok {
				return nil
			}
		default:
			for s.i < len(s.data) && !isValueEnd(s.data[s.i]) {
				s.i++
			}
		}
		// A value ended: close what ends with it, then go on to the next member or
		// element.
		for {
			if len(stack) == 0 {
				return nil
			}
			s.ws()
			if s.i >= len(s.data) {
				return nil
			}
			c := s.data[s.i]
			s.i++
			if c == ',' {
				s.ws()
				if stack[len(stack)-1] != nil {
					if path, ok := s.member(stack); !ok || path != nil {
						return path
					}
				}
				break
			}
			if c != '}' && c != ']' {
				return nil
			}
			stack = stack[:len(stack)-1]
		}
	}
	return nil
}

func isValueEnd(c byte) bool {
	switch c {
	case ',', ']', '}', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// member reads the key and colon of the next member of the object on top of stack
// and records the key, returning the path to it when the object already has it; ok
// is false when the text is not what a well-formed object holds there.
func (s *dupScanner) member(stack []*dupObject) (path []string, ok bool) {
	key, ok := s.str()
	if !ok {
		return nil, false
	}
	s.ws()
	if s.i >= len(s.data) || s.data[s.i] != ':' {
		return nil, false
	}
	s.i++
	s.ws()
	top := stack[len(stack)-1]
	top.key = key
	if top.seen(key) {
		for _, o := range stack {
			if o != nil {
				path = append(path, string(o.key))
			}
		}
		return path, true
	}
	return nil, true
}

// seen reports whether the object has key already, adding it if not.
func (o *dupObject) seen(key []byte) bool {
	if o.set != nil {
		if _, dup := o.set[string(key)]; dup {
			return true
		}
		o.set[string(key)] = struct{}{}
		return false
	}
	for _, k := range o.keys {
		if bytes.Equal(k, key) {
			return true
		}
	}
	o.keys = append(o.keys, key)
	if len(o.keys) > dupMapFrom {
		o.set = make(map[string]struct{}, 2*len(o.keys))
		for _, k := range o.keys {
			o.set[string(k)] = struct{}{}
		}
		o.keys = nil
	}
	return false
}

// str reads the string at s.i and returns its value: the raw bytes between the
// quotes when there is no escape, else the unescaped text.
func (s *dupScanner) str() ([]byte, bool) {
	if s.i >= len(s.data) || s.data[s.i] != '"' {
		return nil, false
	}
	start := s.i
	escaped := false
	for j := s.i + 1; j < len(s.data); j++ {
		switch s.data[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			s.i = j + 1
			raw := s.data[start:s.i]
			if !escaped {
				return raw[1 : len(raw)-1], true
			}
			var text string
			if json.Unmarshal(raw, &text) != nil {
				return nil, false
			}
			return []byte(text), true
		}
	}
	return nil, false
}

// duplicateKeyError is the rejection of a record whose key path repeats. A key of
// the record itself (of a GeoJSON feature's properties, when feature is set) is
// named as written, its field being the project column it maps to, if any; a key
// deeper down is named by its path ("geometry.coordinates").
func (jf jsonFields) duplicateKeyError(raw *RawIncident, path []string, feature bool) *RowError {
	name := strings.Join(path, ".")
	field := name
	own := path
	if feature && len(path) == 2 && path[0] == "properties" {
		own = path[1:]
	}
	if len(own) == 1 {
		name, field = own[0], own[0]
		if col := jf.byKey[strings.ToLower(strings.TrimSpace(own[0]))]; col != "" {
			field = col
		}
	}
	return &RowError{Line: raw.Line, Index: raw.Index, Field: field, Reason: fmt.Sprintf("field %q appears twice", name)}
}

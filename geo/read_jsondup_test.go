package geo

import (
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDuplicateKey(t *testing.T) {
	tests := []struct {
		json string
		want []string
	}{
		{`{"a":1,"b":2}`, nil},
		{`{"a":1,"a":2}`, []string{"a"}},
		{`{"a":1,"A":2}`, nil}, // case is the readers' own check
		{`{"lat":1,"l\u0061t":2}`, []string{"l\u0061t"}},
		{`{"a\"b":1,"a\"b":2}`, []string{`a"b`}},
		{`{"a":{"b":1,"c":{"d":[1,{"e":1,"e":2}]}}}`, []string{"a", "c", "d", "e"}},
		{`{"a":{"b":1},"c":{"b":1}}`, nil}, // the same key in two objects is fine
		{`[{"a":1},{"a":1}]`, nil},
		{`[{"a":1},{"b":1,"b":2}]`, []string{"b"}},
		{` { "x" : "}" , "y" : "\\" , "x" : null } `, []string{"x"}},
		{`{"a":[],"b":{},"c":"","d":true,"e":-1.5e3,"a":0}`, []string{"a"}},
		{`"text"`, nil},
		{`{}`, nil},
	}
	for _, tt := range tests {
		if got := duplicateKey([]byte(tt.json)); !slices.Equal(got, tt.want) {
			t.Errorf("duplicateKey(%s) = %q, want %q", tt.json, got, tt.want)
		}
	}
	// Many keys pass from the list to the map without losing one.
	var b strings.Builder
	b.WriteString("{")
	for i := range 100 {
		b.WriteString(`"k` + string(rune('A'+i%26)) + string(rune('a'+i/26)) + `":1,`)
	}
	b.WriteString(`"kA` + "a" + `":2}`)
	if got := duplicateKey([]byte(b.String())); !slices.Equal(got, []string{"kAa"}) {
		t.Errorf("100 keys then the first again: got %q", got)
	}
}

// refDuplicateKey finds a repeated key with encoding/json's tokenizer, for the fuzz
// target to compare with; ok is false when data is not one JSON value.
func refDuplicateKey(data []byte) (path []string, ok bool) {
	if !json.Valid(data) {
		return nil, false
	}
	type frame struct {
		obj     bool
		wantKey bool
		keys    map[string]bool
		key     string
	}
	var stack []*frame
	dec := json.NewDecoder(strings.NewReader(string(data)))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil, true
		} else if err != nil {
			return nil, false // nesting past the decoder's depth
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if k, isKey := tok.(string); isKey && top != nil && top.obj && top.wantKey {
			top.key, top.wantKey = k, false
			if top.keys[k] {
				for _, f := range stack {
					if f.obj {
						path = append(path, f.key)
					}
				}
				return path, true
			}
			top.keys[k] = true
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, wantKey: true, keys: map[string]bool{}})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].wantKey = true
		}
	}
}

// FuzzDuplicateKey checks the scanner against encoding/json's tokenizer on every
// valid JSON value in UTF-8, and that it never panics on any input.
func FuzzDuplicateKey(f *testing.F) {
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Add([]byte(`{"a":{"b":[{"c":1,"c\u0000":2,"c":3}]}}`))
	f.Add([]byte(`[{"x":"\"}","y":{"x":1}},{"x":[]}]`))
	f.Add([]byte(`{"lat":1,"l\u0061t":2,"\ud83d\ude00":3,"\ud83d\ude00":4}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got := duplicateKey(data)
		want, ok := refDuplicateKey(data)
		// The readers refuse invalid UTF-8 before they look for repeats; the
		// tokenizer would turn it into U+FFFD, the scanner compares the bytes.
		if ok && utf8.Valid(data) && !slices.Equal(got, want) {
			t.Fatalf("duplicateKey(%q) = %q, want %q", data, got, want)
		}
	})
}

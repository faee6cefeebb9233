package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Limits bound what one input may make a reader hold or do. The line, field and
// record caps bound memory whatever the input; the decompressed cap bounds the time
// a small compressed file can take. A zero value takes its default.
type Limits struct {
	Line         int   // bytes of one physical line (CSV and NDJSON); DefaultMaxLine when 0
	Field        int   // bytes of one field's value; DefaultMaxField when 0
	Record       int   // bytes of one record (a CSV record over several lines, a JSON object); DefaultMaxRecord when 0
	Decompressed int64 // bytes a gzip input may decompress to; DefaultMaxDecompressed when 0
}

// Default limits. A record of the project's layout is well under 4 KiB and no field
// the validator accepts is longer than a few thousand characters, so 64 KiB for a
// field and 1 MiB for a line or a record leave room for any honest file while
// keeping a reader's memory to a few MiB. A police force's decade of incidents is a
// few GB uncompressed, so 8 GiB of decompressed input passes any real file and stops
// a gzip bomb (10 GB of zeros is 10 MB gzipped) after a bounded time.
const (
	DefaultMaxLine         = 1 << 20
	DefaultMaxField        = 64 << 10
	DefaultMaxRecord       = 1 << 20
	DefaultMaxDecompressed = 8 << 30
)

// withDefaults returns l with every zero cap set to its default.
func (l Limits) withDefaults() Limits {
	if l.Line <= 0 {
		l.Line = DefaultMaxLine
	}
	if l.Field <= 0 {
		l.Field = DefaultMaxField
	}
	if l.Record <= 0 {
		l.Record = DefaultMaxRecord
	}
	if l.Decompressed <= 0 {
		l.Decompressed = DefaultMaxDecompressed
	}
	return l
}

// byteSize gives n bytes in the largest binary unit that divides it, or in bytes.
func byteSize(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

func lineCapReason(max int) string {
	return fmt.Sprintf("a line longer than %s (the line cap)", byteSize(int64(max)))
}

func recordCapReason(max int) string {
	return fmt.Sprintf("a record longer than %s (the record cap)", byteSize(int64(max)))
}

func fieldCapReason(max int) string {
	return fmt.Sprintf("longer than %s (the field cap)", byteSize(int64(max)))
}

// checkField states what is wrong with one field's raw value, "" when nothing: a
// value over the field cap, invalid UTF-8 or a NUL byte.
func checkField(s string, max int) string {
	switch {
	case len(s) > max:
		return fieldCapReason(max)
	case !utf8.ValidString(s):
		return "not valid UTF-8 (" + invalidUTF8At(s) + ")"
	case strings.IndexByte(s, 0) >= 0:
		return "contains a NUL byte"
	}
	return ""
}

// invalidUTF8At describes the first invalid UTF-8 byte of s and where it is.
func invalidUTF8At(s string) string {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return fmt.Sprintf("byte 0x%02X at byte %d", s[i], i+1)
		}
		i += n
	}
	return "no invalid byte"
}

// decompressedCapError ends an input that decompresses to more than its cap.
type decompressedCapError struct{ max int64 }

func (e decompressedCapError) Error() string {
	return fmt.Sprintf("the input decompresses to more than %s (the decompressed cap)", byteSize(e.max))
}

// capReader returns an error once more than max bytes have been read through it.
type capReader struct {
	r    io.Reader
	left int64
	max  int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, Errorf(EINVALID, "%s", decompressedCapError{c.max}.Error())
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1] // one byte more tells an input of exactly max from a longer one
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n + int(c.left), Errorf(EINVALID, "%s", decompressedCapError{c.max}.Error())
	}
	return n, err
}

// errRecordCap is returned by a budgetReader when a JSON value outgrows the record cap.
var errRecordCap = errors.New("record cap")

// budgetReader lets a JSON decoder read at most a record's worth of bytes past the
// start of the value it is decoding, so that one huge value (a string of gigabytes in
// a small gzip file) is stopped at the record cap instead of being buffered whole.
type budgetReader struct {
	r     io.Reader
	read  int64 // bytes read so far
	limit int64 // read may not pass this offset
}

func (b *budgetReader) Read(p []byte) (int, error) {
	left := b.limit - b.read
	if left <= 0 {
		return 0, errRecordCap
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	return n, err
}

// invalidUTF8Field names the field of a JSON record whose raw bytes hold the first
// invalid UTF-8: the project column its key maps to, or else the key itself. The
// JSON decoder would silently replace the bytes with U+FFFD, so two distinct
// references could collapse into one; the raw bytes are checked before decoding.
func invalidUTF8Field(data []byte, jf jsonFields) (field, reason string) {
	bad := 0
	for bad < len(data) {
		r, n := utf8.DecodeRune(data[bad:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		bad += n
	}
	reason = fmt.Sprintf("not valid UTF-8 (byte 0x%02X)", data[min(bad, len(data)-1)])
	type frame struct {
		obj     bool
		wantKey bool
		key     string
	}
	var stack []frame
	dec := json.NewDecoder(bytes.NewReader(data))
	name := func() string {
		for i := len(stack) - 1; i >= 0; i-- {
			if stack[i].obj && stack[i].key != "" {
				k := stack[i].key
				if f := jf.byKey[strings.ToLower(strings.TrimSpace(k))]; f != "" {
					return f
				}
				return strings.ReplaceAll(k, "\uFFFD", "?")
			}
		}
		return ""
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return name(), reason
		}
		top := len(stack) - 1
		isKey := top >= 0 && stack[top].obj && stack[top].wantKey
		if isKey {
			stack[top].key, _ = tok.(string)
			stack[top].wantKey = false
		}
		if dec.InputOffset() > int64(bad) {
			return name(), reason
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{obj: true, wantKey: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:top]
			if top > 0 && stack[top-1].obj {
				stack[top-1].wantKey = true
			}
		default:
			if !isKey && top >= 0 && stack[top].obj {
				stack[top].wantKey = true
			}
		}
	}
}

package geo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jsonFields maps the keys of a JSON object to project columns.
type jsonFields struct {
	byKey    map[string]string
	maxField int
}

func newJSONFields(mapping map[string]string, lim Limits) jsonFields {
	return jsonFields{byKey: columnsByName(mapping), maxField: lim.withDefaults().Field}
}

// record decodes one JSON record's raw bytes (a "record" or a GeoJSON "feature"),
// rejecting invalid UTF-8 before the decoder can replace it and a key named twice
// in any of its objects (see duplicateKey).
func (jf jsonFields) record(raw *RawIncident, data []byte, what string) (map[string]any, *RowError) {
	if !utf8.Valid(data) {
		field, reason := invalidUTF8Field(data, jf)
		return nil, &RowError{Line: raw.Line, Index: raw.Index, Field: field, Reason: reason}
	}
	obj, err := decodeObject(data)
	if err != nil {
		return nil, &RowError{Line: raw.Line, Index: raw.Index, Reason: what + " " + err.Error()}
	}
	if path := duplicateKey(data); path != nil {
		return nil, jf.duplicateKeyError(raw, path, what == "feature")
	}
	return obj, nil
}

// fill copies the values of a JSON object into raw. Strings, numbers and booleans
// are kept as text, arrays of them joined with ';' (strands may be an array). Keys
// are taken in sorted order, so that the error reported for a record with several
// bad values is always the same, and two keys for one field (differing in case, say)
// are an error rather than a toss-up.
func (jf jsonFields) fill(raw *RawIncident, obj map[string]any) *RowError {
	type keyField struct{ key, field string }
	var buf [16]keyField // room for every column without allocating
	matched := buf[:0]
	for k := range obj {
		if field := jf.byKey[strings.ToLower(strings.TrimSpace(k))]; field != "" {
			matched = append(matched, keyField{k, field})
		}
	}
	slices.SortFunc(matched, func(a, b keyField) int { return strings.Compare(a.key, b.key) })
	for i, m := range matched {
		for _, prev := range matched[:i] {
			if prev.field == m.field {
				return &RowError{Line: raw.Line, Index: raw.Index, Field: m.field, Reason: fmt.Sprintf("given twice, as %q and %q", prev.key, m.key)}
			}
		}
		s, err := jsonText(obj[m.key])
		if err != nil {
			return &RowError{Line: raw.Line, Index: raw.Index, Field: m.field, Reason: err.Error()}
		}
		if msg := checkField(s, jf.maxField); msg != "" {
			return &RowError{Line: raw.Line, Index: raw.Index, Field: m.field, Reason: msg}
		}
		*raw.field(m.field) = s
	}
	return nil
}

func jsonText(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			if _, ok := e.([]any); ok {
				return "", errors.New("is a nested array")
			}
			if _, ok := e.(map[string]any); ok {
				return "", errors.New("is an array of objects; want text")
			}
			s, _ := jsonText(e)
			parts = append(parts, s)
		}
		return strings.Join(parts, ";"), nil
	case map[string]any:
		return "", errors.New("is an object; want text or a number")
	}
	return "", fmt.Errorf("has an unexpected JSON type %T", v)
}

func decodeObject(data []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var obj map[string]any
	if err := d.Decode(&obj); err != nil {
		return nil, jsonReason(err)
	}
	if obj == nil {
		return nil, errors.New("is null; want a JSON object")
	}
	if d.More() {
		return nil, errors.New("has more than one JSON value")
	}
	return obj, nil
}

func jsonReason(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Errorf("is a JSON %s; want an object", te.Value)
	case errors.As(err, &se):
		return fmt.Errorf("malformed JSON: %v", se)
	}
	return fmt.Errorf("malformed JSON: %v", err)
}

// ndjsonReader reads one JSON object a line; blank lines are passed over.
type ndjsonReader struct {
	r      *bufio.Reader
	fields jsonFields
	line   int
	index  int
	max    int // the line cap
}

func newNDJSONReader(r *bufio.Reader, mapping map[string]string, lim Limits) *ndjsonReader {
	lim = lim.withDefaults()
	return &ndjsonReader{r: r, fields: newJSONFields(mapping, lim), max: min(lim.Line, lim.Record)}
}

func (nr *ndjsonReader) Next() (*RawIncident, error) {
	for {
		data, tooLong, err := readLine(nr.r, nr.max)
		if err == io.EOF && len(data) == 0 && !tooLong {
			return nil, io.EOF
		} else if err != nil && err != io.EOF {
			var ge *Error
			if errors.As(err, &ge) {
				return nil, Errorf(ge.Code, "line %d: %s", nr.line+1, ge.Message)
			}
			return nil, fmt.Errorf("geo: reading NDJSON: %w", err)
		}
		nr.line++
		data = bytes.TrimSpace(data)
		if len(data) == 0 && !tooLong {
			continue
		}
		index := nr.index
		nr.index++
		if tooLong {
			return nil, &RowError{Line: nr.line, Index: index, Reason: lineCapReason(nr.max)}
		}
		raw := &RawIncident{Line: nr.line, Index: index}
		obj, rerr := nr.fields.record(raw, data, "record")
		if rerr != nil {
			rerr.Text = string(data)
			return nil, rerr
		}
		if rerr := nr.fields.fill(raw, obj); rerr != nil {
			return nil, rerr
		}
		return raw, nil
	}
}

// readLine reads one line without its line ending. A line longer than max is read to
// its end and dropped, and tooLong is set.
func readLine(r *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	var buf []byte
	for first := true; ; first = false {
		chunk, err := r.ReadSlice('\n')
		if first && err != bufio.ErrBufferFull && len(bytes.TrimRight(chunk, "\r\n")) == 0 {
			return nil, false, err // a blank line costs no allocation
		}
		if !tooLong {
			if len(buf)+len(chunk) > max+2 {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return bytes.TrimRight(buf, "\r\n"), tooLong, err
	}
}

// lineTracker counts the lines of what a JSON decoder has consumed, keeping only the
// newlines the decoder has read ahead but not yet passed.
type lineTracker struct {
	r    io.Reader
	read int64
	nl   []int64
	line int
}

func (t *lineTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	for i, b := range p[:n] {
		if b == '\n' {
			t.nl = append(t.nl, t.read+int64(i))
		}
	}
	t.read += int64(n)
	return n, err
}

// lineAt returns the 1-based line of a byte offset; offsets must not decrease.
func (t *lineTracker) lineAt(off int64) int {
	i := 0
	for i < len(t.nl) && t.nl[i] < off {
		i++
	}
	t.line += i
	t.nl = t.nl[i:]
	return t.line + 1
}

// streamDecoder walks one large JSON document value by value. A value larger than
// the record cap ends the input: the decoder cannot resume inside it, and it is never
// read whole.
type streamDecoder struct {
	dec    *json.Decoder
	lines  *lineTracker
	budget *budgetReader
	max    int // the record cap
}

// recordSlack is how far past the record cap a JSON decoder may read ahead.
const recordSlack = 64 << 10

func newStreamDecoder(r io.Reader, lim Limits) *streamDecoder {
	lim = lim.withDefaults()
	lt := &lineTracker{r: r}
	b := &budgetReader{r: lt, limit: int64(lim.Record) + recordSlack}
	dec := json.NewDecoder(b)
	dec.UseNumber()
	return &streamDecoder{dec: dec, lines: lt, budget: b, max: lim.Record}
}

// arm allows the decoder a record's worth of bytes from where it stands.
func (sd *streamDecoder) arm() {
	sd.budget.limit = sd.dec.InputOffset() + int64(sd.max) + recordSlack
}

// fatal wraps a decoding error that ends the input, with the line of the value the
// decoder stopped in.
func (sd *streamDecoder) fatal(err error) error {
	line := sd.lines.lineAt(sd.valueOffset())
	if errors.Is(err, errRecordCap) {
		return Errorf(EINVALID, "line %d: %s", line, recordCapReason(sd.max))
	}
	var ge *Error
	if errors.As(err, &ge) {
		return Errorf(ge.Code, "line %d: %s", line, ge.Message)
	}
	return Errorf(EINVALID, "line %d: %v", line, jsonReason(err))
}

// valueOffset returns the offset of the next value: the decoder's own offset stays
// at the end of the previous value, before the comma and the line break that lead
// to this one, so a value that fails would be blamed on the line before it.
func (sd *streamDecoder) valueOffset() int64 {
	off := sd.dec.InputOffset()
	br, ok := sd.dec.Buffered().(io.ByteReader)
	for ok {
		c, err := br.ReadByte()
		if err != nil || (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != ',') {
			break
		}
		off++
	}
	return off
}

// delim reads the next token and checks it is the delimiter want.
func (sd *streamDecoder) delim(want json.Delim, what string) error {
	sd.arm()
	tok, err := sd.dec.Token()
	if err != nil {
		return sd.fatal(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return Errorf(EINVALID, "line %d: want %s, found %v", sd.lines.lineAt(sd.dec.InputOffset()), what, tok)
	}
	return nil
}

// value reads the next value whole and returns it with the line it starts on.
func (sd *streamDecoder) value() (json.RawMessage, int, error) {
	sd.arm()
	var raw json.RawMessage
	if err := sd.dec.Decode(&raw); err != nil {
		return nil, 0, sd.fatal(err)
	}
	start := sd.dec.InputOffset() - int64(len(raw))
	if len(raw) > sd.max {
		return nil, sd.lines.lineAt(start), nil
	}
	return raw, sd.lines.lineAt(start), nil
}

// jsonArrayReader reads a JSON array of objects, one at a time.
type jsonArrayReader struct {
	sd     *streamDecoder
	fields jsonFields
	index  int
	done   bool
}

func newJSONArrayReader(r io.Reader, mapping map[string]string, lim Limits) (*jsonArrayReader, error) {
	sd := newStreamDecoder(r, lim)
	if err := sd.delim('[', "a JSON array of incidents"); err != nil {
		return nil, err
	}
	return &jsonArrayReader{sd: sd, fields: newJSONFields(mapping, lim)}, nil
}

func (jr *jsonArrayReader) Next() (*RawIncident, error) {
	if jr.done {
		return nil, io.EOF
	}
	if !jr.sd.dec.More() {
		jr.done = true
		if err := jr.sd.delim(']', "the end of the array"); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	data, line, err := jr.sd.value()
	if err != nil {
		jr.done = true
		return nil, err
	}
	index := jr.index
	jr.index++
	if data == nil {
		return nil, &RowError{Line: line, Index: index, Reason: recordCapReason(jr.sd.max)}
	}
	raw := &RawIncident{Line: line, Index: index}
	obj, rerr := jr.fields.record(raw, data, "record")
	if rerr != nil {
		rerr.Text = string(data)
		return nil, rerr
	}
	if rerr := jr.fields.fill(raw, obj); rerr != nil {
		return nil, rerr
	}
	return raw, nil
}

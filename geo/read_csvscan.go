package geo

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// csvScanner reads CSV records (RFC 4180: fields quoted with '"', a quote inside
// doubled, line breaks inside quotes kept as "\n", blank lines passed over) within
// the caps of a Limits: a physical line longer than the line cap is skipped and
// reported, a record longer than the record cap or a field longer than the field cap
// is reported, and memory stays within a few records whatever the input.
//
// A quote left open does not swallow the rest of the file: when a record that runs
// over several lines turns out malformed (it ends in the middle of a quote, has the
// wrong number of fields, or grows past the record cap), and one of its later lines
// parses on its own as a whole record of the header's width, the record is reported
// as an unterminated quote on its first line and reading resumes at that later line.
type csvScanner struct {
	br      *bufio.Reader
	lim     Limits
	line    int        // physical lines read from br
	pending []physLine // lines read but given back, to be read again first
	width   int        // fields a record should have; 0 while reading the header
	names   []string   // header names, to name a field in errors
}

// physLine is one physical line without its line ending.
type physLine struct {
	data    []byte
	num     int
	tooLong bool
}

// csvRecord is one record read: its fields, its first line and its raw text.
type csvRecord struct {
	fields []string
	line   int
	raw    []byte
}

func newCSVScanner(r io.Reader, lim Limits) *csvScanner {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &csvScanner{br: br, lim: lim.withDefaults()}
}

func (s *csvScanner) nextLine() (physLine, error) {
	if len(s.pending) > 0 {
		l := s.pending[0]
		s.pending = s.pending[1:]
		return l, nil
	}
	data, tooLong, err := readLine(s.br, s.lim.Line)
	if err == io.EOF && len(data) == 0 && !tooLong {
		return physLine{}, io.EOF
	} else if err != nil && err != io.EOF {
		var ge *Error
		if errors.As(err, &ge) {
			return physLine{}, Errorf(ge.Code, "line %d: %s", s.line+1, ge.Message)
		}
		return physLine{}, err
	}
	s.line++
	return physLine{data: data, num: s.line, tooLong: tooLong}, nil
}

// fieldName names field i for an error: the header's name for it, or its position.
func (s *csvScanner) fieldName(i int) string {
	if i < len(s.names) {
		return s.names[i]
	}
	return fmt.Sprintf("field %d", i+1)
}

// csvParse is the state of parsing one record over one or more lines. The bytes of
// every field go to one buffer and become strings once the record is complete, a
// single allocation for all its fields.
type csvParse struct {
	fields  []string // set when feed returns true: the fields complete so far
	cur     []byte   // the bytes of the record's fields so far
	ends    []int    // where each complete field ends in cur
	inQuote bool
	quoted  int // index of the field whose quote is open
	err     string
	errAt   int // index of the field the error is in
}

// endField marks the end of a field in cur.
func (p *csvParse) endField() { p.ends = append(p.ends, len(p.cur)) }

// complete turns the complete fields into strings and returns true.
func (p *csvParse) complete() bool {
	all := string(p.cur)
	p.fields = make([]string, len(p.ends))
	start := 0
	for i, e := range p.ends {
		p.fields[i], start = all[start:e], e
	}
	return true
}

// feed parses one more line of the record; it returns true when the record is
// complete (or malformed), false when a quote is still open at the end of the line.
func (p *csvParse) feed(line []byte) bool {
	i := 0
	if p.inQuote {
		p.cur = append(p.cur, '\n')
		goto quoted
	}
field:
	if i < len(line) && line[i] == '"' {
		p.inQuote, p.quoted = true, len(p.ends)
		i++
		goto quoted
	}
	{
		// An unquoted field runs to the next comma or the end of the line.
		rest := line[i:]
		j := bytes.IndexByte(rest, ',')
		seg := rest
		if j >= 0 {
			seg = rest[:j]
		}
		if bytes.IndexByte(seg, '"') >= 0 {
			p.err, p.errAt = `malformed CSV: bare " in non-quoted field`, len(p.ends)
			return p.complete()
		}
		p.cur = append(p.cur, seg...)
		p.endField()
		if j < 0 {
			return p.complete()
		}
		i += j + 1
		goto field
	}
quoted:
	for i < len(line) {
		k := bytes.IndexByte(line[i:], '"')
		if k < 0 {
			p.cur = append(p.cur, line[i:]...)
			return false
		}
		p.cur = append(p.cur, line[i:i+k]...)
		i += k // at the quote
		switch {
		case i+1 < len(line) && line[i+1] == '"':
			p.cur = append(p.cur, '"')
			i += 2
		case i+1 == len(line):
			p.inQuote = false
			p.endField()
			return p.complete()
		case line[i+1] == ',':
			p.inQuote = false
			p.endField()
			i += 2
			goto field
		default:
			p.err, p.errAt = `malformed CSV: extraneous or missing " in quoted field`, len(p.ends)
			p.inQuote = false
			return p.complete()
		}
	}
	return false
}

// looksLikeRecord tells whether line parses on its own as a whole record of the
// header's width.
func (s *csvScanner) looksLikeRecord(l physLine) bool {
	if l.tooLong || len(l.data) == 0 || s.width == 0 {
		return false
	}
	var p csvParse
	return p.feed(l.data) && p.err == "" && len(p.fields) == s.width
}

// read returns the next record, a *RowError for a record that could not be read
// (the scanner has moved past it), io.EOF, or another error that ends the input.
func (s *csvScanner) read() (*csvRecord, error) {
	var first physLine
	for {
		l, err := s.nextLine()
		if err != nil {
			return nil, err
		}
		if l.tooLong {
			return nil, &RowError{Line: l.num, Reason: lineCapReason(s.lim.Line)}
		}
		if len(l.data) > 0 {
			first = l
			break
		}
	}
	lines := []physLine{first}
	size := len(first.data)
	// A record of one line needs no more room than the line.
	p := csvParse{cur: make([]byte, 0, len(first.data)), ends: make([]int, 0, max(s.width, 1))}
	done := p.feed(first.data)
	failure := ""
	if size > s.lim.Record {
		done, failure = true, recordCapReason(s.lim.Record)
	}
	for !done {
		l, err := s.nextLine()
		if err == io.EOF {
			failure = "malformed CSV: unterminated quote: the quoted field never closes"
			break
		} else if err != nil {
			return nil, err
		}
		lines = append(lines, l)
		if l.tooLong {
			failure = lineCapReason(s.lim.Line)
			break
		}
		size += len(l.data) + 1
		if size > s.lim.Record {
			failure = recordCapReason(s.lim.Record)
			break
		}
		done = p.feed(l.data)
	}
	switch {
	case failure != "":
	case p.err != "":
		failure = p.err
	case s.width > 0 && len(p.fields) != s.width:
		failure = fmt.Sprintf("has %d fields, the header has %d", len(p.fields), s.width)
	}
	if failure == "" {
		for i, f := range p.fields {
			if msg := checkField(f, s.lim.Field); msg != "" {
				return nil, &RowError{Line: first.num, Field: s.fieldName(i), Reason: msg, Text: rawText(lines, s.lim.Record)}
			}
		}
		return &csvRecord{fields: p.fields, line: first.num}, nil
	}
	// A malformed record over several lines: resume at the first later line that is
	// a record of its own, if there is one.
	if len(lines) > 1 {
		for i := 1; i < len(lines); i++ {
			if s.looksLikeRecord(lines[i]) {
				s.pending = append(append([]physLine(nil), lines[i:]...), s.pending...)
				field := ""
				if p.quoted < s.width || s.width == 0 {
					field = s.fieldName(p.quoted)
				}
				return nil, &RowError{Line: first.num, Field: field, Text: rawText(lines[:i], s.lim.Record),
					Reason: fmt.Sprintf("malformed CSV: unterminated quote: the quoted field runs on to line %d, which is a record of its own", lines[i].num)}
			}
		}
	}
	e := &RowError{Line: first.num, Reason: failure, Text: rawText(lines, s.lim.Record)}
	switch {
	case p.err != "" && failure == p.err:
		e.Field = s.fieldName(p.errAt)
	case lines[len(lines)-1].tooLong:
		e.Line = lines[len(lines)-1].num // the long line, not the record's first
	}
	return nil, e
}

// rawText joins lines back into the text they came from, cut at max bytes; a line
// over the line cap, which was not kept, is left out.
func rawText(lines []physLine, max int) string {
	var b bytes.Buffer
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.Write(l.data)
		if b.Len() > max {
			return string(b.Bytes()[:max])
		}
	}
	return b.String()
}

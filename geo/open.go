package geo

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Formats the readers understand. FormatAuto sniffs the content.
const (
	FormatAuto     = "auto"
	FormatCSV      = "csv"       // the project's own CSV layout (see Columns)
	FormatPoliceUK = "police-uk" // a police.uk street-level crime CSV
	FormatGeoJSON  = "geojson"   // a FeatureCollection of Point features
	FormatNDJSON   = "ndjson"    // one JSON object a line
	FormatJSON     = "json"      // a JSON array of objects
)

// ReaderFormats lists the formats NewReader accepts.
var ReaderFormats = []string{FormatAuto, FormatCSV, FormatPoliceUK, FormatGeoJSON, FormatNDJSON, FormatJSON}

// ReaderOptions configures NewReader.
type ReaderOptions struct {
	Format string // one of ReaderFormats; "" is FormatAuto

	// Mapping names, for a project column (see Columns), the column or key that holds
	// it in the input, so that a partner's own export loads without editing it.
	// Matching is case-insensitive and ignores surrounding space.
	Mapping map[string]string

	// CrimeTypes keeps only police.uk rows of these crime types (all when empty);
	// the others are counted as skipped.
	CrimeTypes []string

	// Limits caps a line, a field, a record and the decompressed size; zero caps
	// take the defaults (DefaultMaxLine and the others).
	Limits Limits
}

// Skipper is implemented by readers that pass over records on purpose (a crime type
// filter, say); Skipped returns how many so far.
type Skipper interface{ Skipped() int }

// Warner is implemented by readers that have something to say about the input as a
// whole, such as columns they do not use.
type Warner interface{ Warnings() []string }

// NewReader returns a streaming Reader for r. Gzip input (by its magic number) is
// decompressed and a UTF-8 byte order mark dropped, whatever the format. With
// FormatAuto, a JSON document is told apart by its first characters and a police.uk
// file by its header.
func NewReader(r io.Reader, o ReaderOptions) (Reader, error) {
	if o.Format == "" {
		o.Format = FormatAuto
	}
	if !slices.Contains(ReaderFormats, o.Format) {
		return nil, Errorf(EINVALID, "unknown format %q: want one of %s", o.Format, strings.Join(ReaderFormats, ", "))
	}
	mapping, err := normaliseMapping(o.Mapping)
	if err != nil {
		return nil, err
	}
	lim := o.Limits.withDefaults()
	br, err := decompress(r, lim.Decompressed)
	if err != nil {
		return nil, err
	}
	format := o.Format
	if format == FormatAuto {
		format, err = sniff(br)
		if err != nil {
			return nil, err
		}
	}
	// Each constructor returns a typed pointer; a nil one must not become a non-nil
	// Reader, so the error is checked here.
	var rd Reader
	switch format {
	case FormatCSV:
		rd, err = nilIfErr(newCSVReader(br, mapping, lim))
	case FormatPoliceUK:
		rd, err = nilIfErr(newPoliceUKReader(br, o.CrimeTypes, lim))
	case FormatGeoJSON:
		rd, err = nilIfErr(newGeoJSONReader(br, mapping, lim))
	case FormatNDJSON:
		rd = newNDJSONReader(br, mapping, lim)
	case FormatJSON:
		rd, err = nilIfErr(newJSONArrayReader(br, mapping, lim))
	default:
		panic("unreachable")
	}
	return rd, err
}

// nilIfErr returns r as a Reader, or a nil Reader when err is set.
func nilIfErr[R Reader](r R, err error) (Reader, error) {
	if err != nil {
		return nil, err
	}
	return r, nil
}

// ReaderFormat returns the format of a reader NewReader made, "" for any other.
func ReaderFormat(r Reader) string {
	switch r.(type) {
	case *csvReader:
		return FormatCSV
	case *policeUKReader:
		return FormatPoliceUK
	case *geojsonReader:
		return FormatGeoJSON
	case *ndjsonReader:
		return FormatNDJSON
	case *jsonArrayReader:
		return FormatJSON
	}
	return ""
}

// FormatFromName guesses a format from a file name, FormatAuto when it cannot.
func FormatFromName(name string) string {
	name = strings.TrimSuffix(strings.ToLower(name), ".gz")
	switch {
	case strings.HasSuffix(name, ".geojson"):
		return FormatGeoJSON
	case strings.HasSuffix(name, ".ndjson"), strings.HasSuffix(name, ".jsonl"):
		return FormatNDJSON
	case strings.HasSuffix(name, "-street.csv"):
		return FormatPoliceUK
	}
	return FormatAuto
}

func normaliseMapping(m map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(m))
	fields := slices.Sorted(maps.Keys(m)) // so that the error for a bad mapping is always the same
	byCol := map[string]string{}
	for _, field := range fields {
		col := m[field]
		f := strings.ToLower(strings.TrimSpace(field))
		if !slices.Contains(Columns, f) {
			return nil, Errorf(EINVALID, "mapping names %q, which is not a field (want one of %s)", field, strings.Join(Columns, ", "))
		}
		if strings.TrimSpace(col) == "" {
			return nil, Errorf(EINVALID, "mapping for %q names no column", field)
		}
		c := strings.ToLower(strings.TrimSpace(col))
		if prev, dup := byCol[c]; dup && prev != f {
			return nil, Errorf(EINVALID, "mapping names column %q for both %s and %s", col, prev, f)
		}
		if _, dup := out[f]; dup {
			return nil, Errorf(EINVALID, "mapping names field %s twice", f)
		}
		byCol[c] = f
		out[f] = c
	}
	return out, nil
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// decompress returns a buffered reader over r's content: gunzipped when r starts with
// the gzip magic number, and without a leading UTF-8 byte order mark. Gunzipped input
// ends with an EINVALID error past maxOut bytes (no cap when maxOut <= 0).
func decompress(r io.Reader, maxOut int64) (*bufio.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, Errorf(EINVALID, "reading gzip: %v", err)
		}
		var out io.Reader = gzipErrReader{zr}
		if maxOut > 0 {
			out = &capReader{r: out, left: maxOut, max: maxOut}
		}
		br = bufio.NewReaderSize(out, 64<<10)
	}
	if head, _ := br.Peek(3); bytes.Equal(head, bom) {
		br.Discard(3)
	}
	return br, nil
}

// sniff tells the format from the start of the content.
func sniff(br *bufio.Reader) (string, error) {
	head, err := br.Peek(4096)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return "", fmt.Errorf("geo: reading input: %w", err)
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return FormatCSV, nil
	case trimmed[0] == '[':
		return FormatJSON, nil
	case trimmed[0] == '{':
		// NDJSON is one whole object a line; an object that goes on past its first
		// line, or a one-line FeatureCollection, is a GeoJSON document.
		firstLine, _, _ := bytes.Cut(trimmed, []byte("\n"))
		if !bytes.HasSuffix(bytes.TrimSpace(firstLine), []byte("}")) || bytes.Contains(firstLine, []byte(`"FeatureCollection"`)) {
			return FormatGeoJSON, nil
		}
		return FormatNDJSON, nil
	}
	firstLine, _, _ := bytes.Cut(head, []byte("\n"))
	if bytes.HasPrefix(bytes.TrimSpace(firstLine), []byte("Crime ID,Month,")) {
		return FormatPoliceUK, nil
	}
	return FormatCSV, nil
}

// gzipErrReader reports damaged or truncated gzip data as invalid input: it is the
// file's fault, and the user needs to see why it failed. Errors of the underlying
// reader pass through unchanged.
type gzipErrReader struct{ r io.Reader }

func (g gzipErrReader) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		var ce flate.CorruptInputError
		if err == io.ErrUnexpectedEOF || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.As(err, &ce) {
			err = Errorf(EINVALID, "reading gzip: %v", err)
		}
	}
	return n, err
}

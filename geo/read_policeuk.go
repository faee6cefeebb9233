package geo

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// policeUKReader reads a police.uk street-level CSV. police.uk carries no hate flag,
// so kind and strands come from the validator's defaults; its locations are snapped
// to anonymised map points, so their precision defaults to street.
//
// Anti-social behaviour rows have no Crime ID. Their reference is derived from the
// row's content and how many identical rows came before it in the file, so that
// loading the same file again derives the same references and stores nothing twice.
type policeUKReader struct {
	r       *csvScanner
	col     map[string]int
	width   int
	index   int
	types   map[string]bool
	skipped int
	seen    map[[16]byte]int
}

func newPoliceUKReader(in io.Reader, crimeTypes []string, lim Limits) (*policeUKReader, error) {
	r := newCSVScanner(in, lim)
	header, err := readHeader(r)
	if err == io.EOF {
		return nil, Errorf(EINVALID, "line 1: the file is empty: want a police.uk street-level header")
	} else if err != nil {
		return nil, err
	}
	pr := &policeUKReader{r: r, col: map[string]int{}, width: len(header), seen: map[[16]byte]int{}}
	for i, h := range header {
		pr.col[strings.TrimSpace(h)] = i
	}
	for _, c := range []string{"Crime ID", "Month", "Longitude", "Latitude", "Crime type"} {
		if _, ok := pr.col[c]; !ok {
			return nil, Errorf(EINVALID, "line 1: not a police.uk street-level file: no %q column", c)
		}
	}
	if len(crimeTypes) > 0 {
		pr.types = map[string]bool{}
		for _, t := range crimeTypes {
			pr.types[strings.ToLower(strings.TrimSpace(t))] = true
		}
	}
	return pr, nil
}

func (pr *policeUKReader) Skipped() int { return pr.skipped }

func (pr *policeUKReader) Next() (*RawIncident, error) {
	for {
		r, err := pr.r.read()
		if err == io.EOF {
			return nil, io.EOF
		}
		index := pr.index
		pr.index++
		var rowErr *RowError
		if errors.As(err, &rowErr) {
			rowErr.Index = index
			return nil, rowErr
		} else if err != nil {
			return nil, fmt.Errorf("geo: reading police.uk CSV: %w", err)
		}
		rec, line := r.fields, r.line
		get := func(c string) string {
			if i, ok := pr.col[c]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if pr.types != nil && !pr.types[strings.ToLower(get("Crime type"))] {
			pr.skipped++
			continue
		}
		ref := get("Crime ID")
		if ref == "" {
			ref = pr.deriveRef(rec)
		}
		return &RawIncident{
			Line: line, Index: index,
			SourceRef: ref,
			Occurred:  get("Month"),
			Lat:       get("Latitude"),
			Lon:       get("Longitude"),
			Offence:   get("Crime type"),
		}, nil
	}
}

// deriveRef returns "row-" and 32 hex digits of a hash over the row's fields and the
// number of identical rows before it.
func (pr *policeUKReader) deriveRef(rec []string) string {
	h := sha256.New()
	for _, f := range rec {
		h.Write([]byte(strings.TrimSpace(f)))
		h.Write([]byte{0x1f})
	}
	var content [16]byte
	copy(content[:], h.Sum(nil))
	n := pr.seen[content]
	pr.seen[content] = n + 1
	h.Write([]byte(strconv.Itoa(n)))
	return "row-" + hex.EncodeToString(h.Sum(nil)[:16])
}

package web

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/tensionmap/tensionmap/geo"
)

// TestIntakeReaderCapIsTheBodyLimit: the reader of an intake body refuses to
// decompress past the route's limit on raw bytes, the same cap as the spool's,
// naming it; a body that decompresses to exactly the limit is read whole.
func TestIntakeReaderCapIsTheBodyLimit(t *testing.T) {
	const limit = 64 << 10
	record := `{"source":"police","source_ref":"R","kind":"crime","strands":"race","occurred":"2025-05-01"}` + "\n"
	gz := func(n int) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		// Records, then spaces up to n bytes in all (blank lines are passed over).
		body := strings.Repeat(record, 10)
		body += strings.Repeat(" ", n-len(body)-1) + "\n"
		zw.Write([]byte(body))
		zw.Close()
		return b.Bytes()
	}
	read := func(data []byte) (int, error) {
		rd, err := geo.NewReader(bytes.NewReader(data), intakeReaderOptions(geo.FormatNDJSON, limit))
		if err != nil {
			return 0, err
		}
		n := 0
		for {
			_, err := rd.Next()
			if err == io.EOF {
				return n, nil
			}
			var re *geo.RowError
			if errors.As(err, &re) {
				continue
			}
			if err != nil {
				return n, err
			}
			n++
		}
	}
	if n, err := read(gz(limit)); err != nil || n != 10 {
		t.Errorf("a body of exactly %d bytes decompressed: %d records, %v; want 10 and no error", limit, n, err)
	}
	_, err := read(gz(limit + 1))
	if geo.ErrorCode(err) != geo.EINVALID || !strings.Contains(geo.ErrorMessage(err), "decompresses to more than 64 KiB") {
		t.Errorf("a body one byte past the limit decompressed: %v; want the decompressed cap of 64 KiB named", err)
	}
}

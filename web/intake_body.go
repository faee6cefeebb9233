package web

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/tensionmap/tensionmap/geo"
)

// spoolInMemory is how much of an intake body is kept in memory; the rest goes to a
// temporary file, so that a few large uploads at once do not hold their size in
// memory each.
const spoolInMemory = 1 << 20

// sniffBytes bounds how far into an intake body without a Content-Type the format
// is looked for.
const sniffBytes = 4 << 10

// tooLargeError is a request body past its route's limit, raw or once decompressed.
type tooLargeError struct {
	limit        int64
	decompressed bool
}

func (e *tooLargeError) Error() string {
	if e.decompressed {
		return fmt.Sprintf("the request body decompresses to more than %s, the limit of this route", byteSize(e.limit))
	}
	return fmt.Sprintf("the request body is larger than %s, the limit of this route", byteSize(e.limit))
}

// byteSize writes a size in the unit that says it exactly: "32 MiB", "64 KiB", "1000 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// cappedReader reads at most limit bytes from r and fails with a *tooLargeError once
// more would follow: it counts decompressed bytes as they are produced, so a small
// gzip body cannot expand past the limit in memory or on disk.
type cappedReader struct {
	r     io.Reader
	limit int64
	n     int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.n > c.limit {
		return 0, &tooLargeError{limit: c.limit, decompressed: true}
	}
	// Ask for one byte past the limit, so that a body of exactly the limit passes
	// and one byte more is caught.
	if rest := c.limit + 1 - c.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		return 0, &tooLargeError{limit: c.limit, decompressed: true}
	}
	return n, err
}

// spool holds an intake body read whole, in memory up to spoolInMemory and in a
// temporary file beyond.
type spool struct {
	mem  bytes.Buffer
	file *os.File
	size int64
}

// spoolBody reads body whole before any database work: gunzipped when it starts with
// the gzip magic number or comes with Content-Encoding: gzip, each of the raw and the
// decompressed bytes capped at limit (the raw cap is the route's MaxBytesReader). It
// returns EINVALID for a damaged gzip stream or gzip inside gzip, and a
// *tooLargeError or *http.MaxBytesError past the cap.
func spoolBody(body io.Reader, gzipped bool, limit int64) (*spool, error) {
	br := bufio.NewReaderSize(body, 64<<10)
	var src io.Reader = br
	if magic, _ := br.Peek(2); gzipped || isGzip(magic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			if sizeErr := asSizeError(err); sizeErr != nil {
				return nil, sizeErr
			}
			return nil, geo.Errorf(geo.EINVALID, "the body is not valid gzip: %v", err)
		}
		src = &cappedReader{r: zr, limit: limit}
	}
	sp := &spool{}
	if err := sp.fill(src); err != nil {
		sp.Close()
		if sizeErr := asSizeError(err); sizeErr != nil {
			return nil, sizeErr
		}
		var ce flate.CorruptInputError
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.As(err, &ce) {
			return nil, geo.Errorf(geo.EINVALID, "the body is not valid gzip: %v", err)
		}
		return nil, geo.Errorf(geo.EINVALID, "reading the request body: %v", err)
	}
	if head := sp.head(2); isGzip(head) {
		sp.Close()
		return nil, geo.Errorf(geo.EINVALID, "the body is gzip inside gzip: compress it once")
	}
	return sp, nil
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// asSizeError returns err's size error, raw or decompressed, or nil.
func asSizeError(err error) error {
	var raw *http.MaxBytesError
	if errors.As(err, &raw) {
		return &tooLargeError{limit: raw.Limit}
	}
	var dec *tooLargeError
	if errors.As(err, &dec) {
		return dec
	}
	return nil
}

func (sp *spool) fill(src io.Reader) error {
	n, err := io.CopyN(&sp.mem, src, spoolInMemory)
	sp.size = n
	if err == io.EOF {
		return nil
	} else if err != nil {
		return err
	}
	f, err := os.CreateTemp("", "tensionmap-intake-*")
	if err != nil {
		return fmt.Errorf("web: spooling an intake body: %w", err)
	}
	sp.file = f
	m, err := io.Copy(f, src)
	sp.size += m
	if err != nil {
		return err
	}
	_, err = f.Seek(0, io.SeekStart)
	return err
}

// head returns up to n bytes from the start of the body.
func (sp *spool) head(n int) []byte {
	b := sp.mem.Bytes()
	return b[:min(n, len(b))]
}

// Reader returns the body from its start; read it once.
func (sp *spool) Reader() io.Reader {
	mem := bytes.NewReader(sp.mem.Bytes())
	if sp.file == nil {
		return mem
	}
	return io.MultiReader(mem, sp.file)
}

// Close removes the temporary file, if any.
func (sp *spool) Close() {
	if sp.file != nil {
		sp.file.Close()
		os.Remove(sp.file.Name())
		sp.file = nil
	}
}

// sniffIntakeFormat tells a JSON array from NDJSON by the first character of a body
// that came without a Content-Type, looking no further than sniffBytes: anything
// else (CSV, say) is refused without reading on.
func sniffIntakeFormat(head []byte) (string, error) {
	head = bytes.TrimPrefix(head[:min(len(head), sniffBytes)], []byte{0xEF, 0xBB, 0xBF})
	trimmed := strings.TrimLeft(string(head), " \t\r\n")
	switch {
	case strings.HasPrefix(trimmed, "["):
		return geo.FormatJSON, nil
	case strings.HasPrefix(trimmed, "{"):
		return geo.FormatNDJSON, nil
	}
	return "", geo.Errorf(geo.EINVALID, "the body is not a JSON array or NDJSON of incidents")
}

// intakeReaderOptions are the reader options of an intake body: its decompressed
// cap is the route's limit on raw bytes, as is the spool's, so that no path through
// the intake lets a body grow past the limit it was accepted under. (The spool has
// gunzipped the body once and refused gzip inside gzip, so the reader's cap is a
// second guard that a change to the spool cannot quietly lift.)
func intakeReaderOptions(format string, limit int64) geo.ReaderOptions {
	return geo.ReaderOptions{Format: format, Limits: geo.Limits{Decompressed: limit}}
}

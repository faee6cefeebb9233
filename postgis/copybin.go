package postgis

import (
	"bytes"
	"encoding/binary"
	"math"
	"time"
)

// copyEncoder writes rows in PostgreSQL's binary COPY format, for the ingest's hot
// path: it is several times cheaper than encoding each value through pgx's type map.
type copyEncoder struct {
	buf bytes.Buffer
	b8  [8]byte
}

// encoderPool keeps encoders for reuse: a batch's COPY data runs to megabytes, and
// growing a new buffer for each batch costs more than encoding it. Unlike a
// sync.Pool, it keeps them across garbage collections, which an ingest runs often.
type encoderPool chan *copyEncoder

func (p encoderPool) get() *copyEncoder {
	select {
	case e := <-p:
		return e
	default:
		return new(copyEncoder)
	}
}

// put returns an encoder whose data is no longer used.
func (p encoderPool) put(e *copyEncoder) {
	if e.buf.Cap() > 64<<20 {
		return
	}
	select {
	case p <- e:
	default:
	}
}

var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func (e *copyEncoder) reset() {
	e.buf.Reset()
	e.buf.WriteString("PGCOPY\n\xff\r\n\x00")
	e.u32(0) // flags
	e.u32(0) // header extension length
}

func (e *copyEncoder) finish() []byte {
	e.u16(0xffff) // -1: end of data
	return e.buf.Bytes()
}

func (e *copyEncoder) u16(v uint16) {
	binary.BigEndian.PutUint16(e.b8[:2], v)
	e.buf.Write(e.b8[:2])
}

func (e *copyEncoder) u32(v uint32) {
	binary.BigEndian.PutUint32(e.b8[:4], v)
	e.buf.Write(e.b8[:4])
}

func (e *copyEncoder) u64(v uint64) {
	binary.BigEndian.PutUint64(e.b8[:8], v)
	e.buf.Write(e.b8[:8])
}

func (e *copyEncoder) row(fields int) { e.u16(uint16(fields)) }
func (e *copyEncoder) null()          { e.u32(0xffffffff) }

func (e *copyEncoder) int16(v int16) { e.u32(2); e.u16(uint16(v)) }
func (e *copyEncoder) int32(v int32) { e.u32(4); e.u32(uint32(v)) }
func (e *copyEncoder) int64(v int64) { e.u32(8); e.u64(uint64(v)) }

func (e *copyEncoder) float64(v float64) { e.u32(8); e.u64(math.Float64bits(v)) }

func (e *copyEncoder) text(s string) {
	e.u32(uint32(len(s)))
	e.buf.WriteString(s)
}

func (e *copyEncoder) textOrNull(s string) {
	if s == "" {
		e.null()
		return
	}
	e.text(s)
}

// date writes a calendar day (t at midnight UTC).
func (e *copyEncoder) date(t time.Time) {
	e.int32(int32(t.Sub(pgEpoch).Hours() / 24))
}

func (e *copyEncoder) timestamptzOrNull(t time.Time) {
	if t.IsZero() {
		e.null()
		return
	}
	e.int64(t.Sub(pgEpoch).Microseconds())
}

// int32Array writes a one-dimensional integer[] without nulls.
func (e *copyEncoder) int32Array(vs []int32) {
	const int4OID = 23
	if len(vs) == 0 {
		e.u32(12)
		e.u32(0) // dimensions
		e.u32(0) // has nulls
		e.u32(int4OID)
		return
	}
	e.u32(uint32(20 + 8*len(vs)))
	e.u32(1)
	e.u32(0)
	e.u32(int4OID)
	e.u32(uint32(len(vs))) // dimension length
	e.u32(1)               // lower bound
	for _, v := range vs {
		e.u32(4)
		e.u32(uint32(v))
	}
}

// int64ArrayOrNull writes a one-dimensional bigint[] without nulls, or NULL when vs is empty.
func (e *copyEncoder) int64ArrayOrNull(vs []uint64) {
	const int8OID = 20
	if len(vs) == 0 {
		e.null()
		return
	}
	e.u32(uint32(20 + 12*len(vs)))
	e.u32(1)
	e.u32(0)
	e.u32(int8OID)
	e.u32(uint32(len(vs)))
	e.u32(1)
	for _, v := range vs {
		e.u32(8)
		e.u64(v)
	}
}

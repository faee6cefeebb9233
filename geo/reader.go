package geo

// Reader reads raw incidents one at a time from a stream, never holding the whole
// input in memory.
//
// Next returns the next record, or io.EOF at the end. A *RowError means that one
// record could not be read (a malformed line, say): the reader has moved past it and
// Next may be called again. Any other error is fatal and ends the input.
type Reader interface {
	Next() (*RawIncident, error)
}

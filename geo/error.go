package geo

import (
	"errors"
	"fmt"
)

// Error codes shared by every package of the service. The web package maps each
// code to an HTTP status in one table.
const (
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	EUNAVAILABLE  = "unavailable"
)

// Error is the service's one error type: a machine-readable code and a message
// that is safe to show to the user.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any
// other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of the first *Error in err's chain,
// and "internal error" for any other error, whose text may hold details users must not see.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// RowError reports one input record that was rejected: where it is in the input,
// which field is wrong and why. Line is 1-based; Index is the 0-based position of the
// record among the records of its input (for JSON arrays and GeoJSON features).
type RowError struct {
	Line   int
	Index  int
	Field  string
	Reason string
	// Text is the raw text of a record that could not be read as fields (an
	// unterminated quote, say), cut at the record cap; "" when there is none.
	Text string
}

func (e *RowError) Error() string {
	switch {
	case e.Line > 0 && e.Field != "":
		return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Reason)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	case e.Field != "":
		return fmt.Sprintf("record %d: %s: %s", e.Index, e.Field, e.Reason)
	default:
		return fmt.Sprintf("record %d: %s", e.Index, e.Reason)
	}
}

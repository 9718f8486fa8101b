// Package market holds csmarket's domain: its types, the rules that must hold,
// and the interfaces the store and cache implement. It imports only the
// standard library, so the rules can be read and tested without any engine.
package market

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes. The api package maps each to one HTTP status in one table.
const (
	EINVALID      = "invalid"             // bad input: 400, with field errors
	EUNAUTHORIZED = "unauthorized"        // no or bad credentials: 401
	EFORBIDDEN    = "forbidden"           // known caller, not allowed: 403
	ENOTFOUND     = "not_found"           // no such object, or not the caller's to see: 404
	ECONFLICT     = "conflict"            // duplicate or a state that forbids the change: 409
	EPRECONDITION = "precondition_failed" // stale If-Match: 412
	ETOOLARGE     = "too_large"           // request body over the limit: 413
	ERATELIMITED  = "rate_limited"        // 429
	EUNAVAILABLE  = "unavailable"         // a dependency is down: 503
	EINTERNAL     = "internal"            // anything else: 500, "Internal error."
)

// FieldError names one field of the input and what is wrong with it. Field
// is a JSON path in the request as the client wrote it ("page_size",
// "organisation.identifiers[0].id").
type FieldError struct {
	Field   string
	Message string
}

// Error is the one error type csmarket's packages return to callers. Message
// is safe to show to the client; an internal error never carries detail.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, strings.Join(parts, "; "))
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err's *Error, EINTERNAL for any other error
// and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err: its *Error's message,
// or "Internal error." for anything else.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorFields returns the field errors of err's *Error, if any.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// Problems collects field errors while input is checked, so that a client is
// told everything wrong with its request at once.
type Problems []FieldError

// Add records that field is wrong.
func (p *Problems) Add(field, format string, args ...any) {
	*p = append(*p, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns nil when nothing was recorded, else an EINVALID *Error that
// carries every field error.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	msg := "The request is invalid."
	if len(p) == 1 {
		msg = "Invalid " + p[0].Field + ": " + p[0].Message
	}
	return &Error{Code: EINVALID, Message: msg, Fields: []FieldError(p)}
}

// Invalid returns an EINVALID error naming one field.
func Invalid(field, format string, args ...any) error {
	var p Problems
	p.Add(field, format, args...)
	return p.Err()
}

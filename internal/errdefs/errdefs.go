// Package errdefs holds the error classes that cross package boundaries.
// An error belongs to one class; callers test it with errors.Is against the
// class sentinels (or the Is helpers), never by message. The Docker API layer
// maps each class to one HTTP status, in one place.
package errdefs

import (
	"errors"
	"fmt"
)

// The classes.
var (
	ErrNotFound         = errors.New("not found")
	ErrInvalidParameter = errors.New("invalid parameter")
	ErrConflict         = errors.New("conflict")
	ErrNotModified      = errors.New("not modified")
	ErrNotImplemented   = errors.New("not implemented")
	ErrUnavailable      = errors.New("unavailable")
	ErrForbidden        = errors.New("forbidden")
	ErrUnauthorized     = errors.New("unauthorized")
)

// classed is an error whose message is its own (as Docker prints it) and
// whose class is one of the sentinels.
type classed struct {
	msg   string
	class error
	cause error
}

func (e *classed) Error() string { return e.msg }

func (e *classed) Is(target error) bool { return target == e.class }

func (e *classed) Unwrap() error { return e.cause }

func newf(class error, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &classed{msg: err.Error(), class: class, cause: errors.Unwrap(err)}
}

// NotFound makes an error of the not-found class with a Docker-style message,
// e.g. NotFound("No such container: %s", id).
func NotFound(format string, args ...any) error { return newf(ErrNotFound, format, args...) }

// InvalidParameter makes a bad-request error.
func InvalidParameter(format string, args ...any) error {
	return newf(ErrInvalidParameter, format, args...)
}

// Conflict makes a conflict error (name in use, container running, ...).
func Conflict(format string, args ...any) error { return newf(ErrConflict, format, args...) }

// NotModified reports a request that changed nothing (start of a running
// container, stop of a stopped one).
func NotModified(format string, args ...any) error { return newf(ErrNotModified, format, args...) }

// NotImplemented reports a capability a backend lacks; the message names the
// backend and the missing operation.
func NotImplemented(format string, args ...any) error {
	return newf(ErrNotImplemented, format, args...)
}

// Unavailable reports a dependency that cannot be reached now.
func Unavailable(format string, args ...any) error { return newf(ErrUnavailable, format, args...) }

// Forbidden reports an operation that is refused.
func Forbidden(format string, args ...any) error { return newf(ErrForbidden, format, args...) }

// Unauthorized reports missing or wrong credentials.
func Unauthorized(format string, args ...any) error { return newf(ErrUnauthorized, format, args...) }

// IsNotFound reports whether err is of the not-found class.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsConflict reports whether err is of the conflict class.
func IsConflict(err error) bool { return errors.Is(err, ErrConflict) }

// IsInvalidParameter reports whether err is of the invalid-parameter class.
func IsInvalidParameter(err error) bool { return errors.Is(err, ErrInvalidParameter) }

// IsNotImplemented reports whether err is of the not-implemented class.
func IsNotImplemented(err error) bool { return errors.Is(err, ErrNotImplemented) }

// IsNotModified reports whether err is of the not-modified class.
func IsNotModified(err error) bool { return errors.Is(err, ErrNotModified) }

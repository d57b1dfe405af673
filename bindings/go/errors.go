package scpool

import (
	"fmt"
	"syscall"
)

// Code is a scpool error code (the C ABI's scpool_error).
type Code int

// The codes, with the values of the C ABI.
const (
	CodeInvalidArgument Code = 1
	CodeUnsupported     Code = 2
	CodeOpen            Code = 3
	CodeSetup           Code = 4
	CodeContainerBroken Code = 5
	CodeAcquireTimeout  Code = 6
	CodePoolClosed      Code = 7
	CodeIO              Code = 8
	CodeInternal        Code = 9
	// CodeCancelled: the C library's SCPOOL_ERROR_CANCELLED. Acquire reports a
	// cancelled wait as CodeAcquireTimeout with ctx.Err() as its cause.
	CodeCancelled Code = 10
)

var codeNames = map[Code]string{
	CodeInvalidArgument: "INVALID_ARGUMENT",
	CodeUnsupported:     "UNSUPPORTED",
	CodeOpen:            "OPEN",
	CodeSetup:           "SETUP",
	CodeContainerBroken: "CONTAINER_BROKEN",
	CodeAcquireTimeout:  "ACQUIRE_TIMEOUT",
	CodePoolClosed:      "POOL_CLOSED",
	CodeIO:              "IO",
	CodeInternal:        "INTERNAL",
	CodeCancelled:       "CANCELLED",
}

func (c Code) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("Code(%d)", int(c))
}

// Error is every error this package returns. Compare with the sentinels through
// errors.Is (errors.Is(err, scpool.ErrAcquireTimeout)); when the library reported
// an errno (CodeOpen, CodeIO) errors.Is also matches it, e.g. fs.ErrNotExist.
type Error struct {
	Code    Code
	Message string
	// Errno behind CodeOpen and CodeIO errors; 0 otherwise.
	Errno syscall.Errno

	cause error // e.g. context.DeadlineExceeded for an acquire cut short by ctx
}

func (e *Error) Error() string {
	s := "scpool: " + e.Code.String()
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Errno != 0 && e.cause == nil {
		s += fmt.Sprintf(" (errno %d)", int(e.Errno))
	}
	return s
}

// Is matches a sentinel of the same code; a sentinel with a message (ErrReleased)
// matches only errors with that message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.Code != e.Code {
		return false
	}
	return t.Message == "" || t.Message == e.Message
}

// Unwrap gives the cause (a context error) or the errno.
func (e *Error) Unwrap() error {
	if e.cause != nil {
		return e.cause
	}
	if e.Errno != 0 {
		return e.Errno
	}
	return nil
}

// Sentinels for errors.Is.
var (
	ErrInvalidArgument = &Error{Code: CodeInvalidArgument}
	ErrUnsupported     = &Error{Code: CodeUnsupported}
	ErrOpen            = &Error{Code: CodeOpen}
	ErrSetup           = &Error{Code: CodeSetup}
	ErrContainerBroken = &Error{Code: CodeContainerBroken}
	ErrAcquireTimeout  = &Error{Code: CodeAcquireTimeout}
	ErrPoolClosed      = &Error{Code: CodePoolClosed}
	ErrIO              = &Error{Code: CodeIO}
	ErrInternal        = &Error{Code: CodeInternal}

	// ErrReleased: the Container was used after Release or Discard. It is also an
	// ErrInvalidArgument.
	ErrReleased = &Error{Code: CodeInvalidArgument, Message: "container already released"}
)

func invalidf(format string, args ...any) error {
	return &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

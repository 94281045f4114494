package netron

import (
	"fmt"
)

// Code is the closed set of Netron error codes. The numbering is gRPC's, the
// names are snake_case (connect-go style). Every code has a Netron wire code
// (the HTTP-like number of a TitanError, NETRON-WIRE.md §10.3); since
// several codes share one wire number, the code's name travels too, in a
// TitanError field TypeScript peers ignore, so every code round-trips
// between Go peers.
type Code uint32

// The codes. Their meanings follow gRPC's.
const (
	CodeCanceled           Code = 1  // the caller cancelled
	CodeUnknown            Code = 2  // an error without a code
	CodeInvalidArgument    Code = 3  // bad arguments, whatever the state
	CodeDeadlineExceeded   Code = 4  // the deadline passed before the call finished
	CodeNotFound           Code = 5  // a service, method, task or entity does not exist
	CodeAlreadyExists      Code = 6  // what was to be created exists
	CodePermissionDenied   Code = 7  // the caller is known but may not do this
	CodeResourceExhausted  Code = 8  // a quota, rate limit or cap was hit
	CodeFailedPrecondition Code = 9  // the system is not in a state that allows this
	CodeAborted            Code = 10 // a concurrency conflict; retry at a higher level
	CodeOutOfRange         Code = 11 // past the valid range
	CodeUnimplemented      Code = 12 // not supported
	CodeInternal           Code = 13 // a bug: an invariant broke
	CodeUnavailable        Code = 14 // transient: the peer is gone or draining; retry
	CodeDataLoss           Code = 15 // unrecoverable data loss
	CodeUnauthenticated    Code = 16 // no valid credentials
)

// Codes lists every code, in numeric order.
var Codes = []Code{
	CodeCanceled, CodeUnknown, CodeInvalidArgument, CodeDeadlineExceeded, CodeNotFound,
	CodeAlreadyExists, CodePermissionDenied, CodeResourceExhausted, CodeFailedPrecondition,
	CodeAborted, CodeOutOfRange, CodeUnimplemented, CodeInternal, CodeUnavailable,
	CodeDataLoss, CodeUnauthenticated,
}

var codeNames = map[Code]string{
	CodeCanceled:           "canceled",
	CodeUnknown:            "unknown",
	CodeInvalidArgument:    "invalid_argument",
	CodeDeadlineExceeded:   "deadline_exceeded",
	CodeNotFound:           "not_found",
	CodeAlreadyExists:      "already_exists",
	CodePermissionDenied:   "permission_denied",
	CodeResourceExhausted:  "resource_exhausted",
	CodeFailedPrecondition: "failed_precondition",
	CodeAborted:            "aborted",
	CodeOutOfRange:         "out_of_range",
	CodeUnimplemented:      "unimplemented",
	CodeInternal:           "internal",
	CodeUnavailable:        "unavailable",
	CodeDataLoss:           "data_loss",
	CodeUnauthenticated:    "unauthenticated",
}

// wireCodes maps each code to the TitanError code sent on the wire
// (NETRON-WIRE.md §10.3). canceled has no counterpart in the TypeScript
// table; it uses 499 ("client closed request"), which TypeScript decoders
// accept and classify as a client error.
var wireCodes = map[Code]int{
	CodeCanceled:           499,
	CodeUnknown:            601,
	CodeInvalidArgument:    400,
	CodeDeadlineExceeded:   408,
	CodeNotFound:           404,
	CodeAlreadyExists:      409,
	CodePermissionDenied:   403,
	CodeResourceExhausted:  429,
	CodeFailedPrecondition: 412,
	CodeAborted:            409,
	CodeOutOfRange:         400,
	CodeUnimplemented:      501,
	CodeInternal:           500,
	CodeUnavailable:        503,
	CodeDataLoss:           500,
	CodeUnauthenticated:    401,
}

// String returns the code's snake_case name, or "code_N" for a number
// outside the set.
func (c Code) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("code_%d", uint32(c))
}

// MarshalText writes the code's name.
func (c Code) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a code name as written by MarshalText.
func (c *Code) UnmarshalText(b []byte) error {
	code, ok := CodeOfName(string(b))
	if !ok {
		return fmt.Errorf("netron: unknown error code %q", b)
	}
	*c = code
	return nil
}

// CodeOfName returns the code with the given snake_case name.
func CodeOfName(name string) (Code, bool) {
	for c, n := range codeNames {
		if n == name {
			return c, true
		}
	}
	return 0, false
}

// WireCode returns the TitanError code (HTTP-like number) sent for c.
func (c Code) WireCode() int {
	if w, ok := wireCodes[c]; ok {
		return w
	}
	return 601
}

// CodeOfWire returns the code for a TitanError wire code received from a
// peer that did not send a code name (a TypeScript peer): the gRPC
// correspondence of the original (400 and 422 invalid_argument, 401
// unauthenticated, 403 permission_denied, 404 not_found, 408 and 504
// deadline_exceeded, 409 already_exists, 412 failed_precondition, 429
// resource_exhausted, 501 unimplemented, 503 unavailable, 601 unknown,
// 499 canceled); any other number is internal for 5xx and 6xx and unknown
// otherwise.
func CodeOfWire(wire int) Code {
	switch wire {
	case 400, 422:
		return CodeInvalidArgument
	case 401:
		return CodeUnauthenticated
	case 403:
		return CodePermissionDenied
	case 404:
		return CodeNotFound
	case 408, 504:
		return CodeDeadlineExceeded
	case 409:
		return CodeAlreadyExists
	case 412:
		return CodeFailedPrecondition
	case 429:
		return CodeResourceExhausted
	case 499:
		return CodeCanceled
	case 501:
		return CodeUnimplemented
	case 503:
		return CodeUnavailable
	case 601:
		return CodeUnknown
	}
	if wire >= 500 {
		return CodeInternal
	}
	return CodeUnknown
}

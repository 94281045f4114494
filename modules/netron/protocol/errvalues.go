package protocol

// ErrorClass is the class id of a standard JavaScript error (ext 126).
type ErrorClass uint16

// Standard error classes and their wire ids. Any other constructor is sent as
// ClassError with its own Name.
const (
	ClassError          ErrorClass = 1
	ClassSyntaxError    ErrorClass = 2
	ClassTypeError      ErrorClass = 3
	ClassReferenceError ErrorClass = 4
	ClassRangeError     ErrorClass = 5
	ClassEvalError      ErrorClass = 6
	ClassURIError       ErrorClass = 7
)

var errorClassNames = [...]string{"", "Error", "SyntaxError", "TypeError", "ReferenceError", "RangeError", "EvalError", "URIError"}

// String returns the JavaScript constructor name, or "Error" for unknown ids.
func (c ErrorClass) String() string {
	if c >= 1 && int(c) < len(errorClassNames) {
		return errorClassNames[c]
	}
	return "Error"
}

// ErrorClassOf returns the class whose constructor is called name, or
// ClassError when there is none.
func ErrorClassOf(name string) ErrorClass {
	for i := 1; i < len(errorClassNames); i++ {
		if errorClassNames[i] == name {
			return ErrorClass(i)
		}
	}
	return ClassError
}

// JSError is a standard JavaScript Error (ext 126). Stack is empty when the
// error has none (the wire value undefined); Fields are the error's own extra
// properties in wire order. A class id of 0 is sent as ClassError.
type JSError struct {
	Class   ErrorClass
	Name    string
	Message string
	Stack   string
	Fields  Object
}

// Error returns "Name: Message" like JavaScript's Error.prototype.toString.
func (e *JSError) Error() string {
	switch {
	case e.Name == "":
		return e.Message
	case e.Message == "":
		return e.Name
	}
	return e.Name + ": " + e.Message
}

// ErrorCause is a plain (non-TitanError) cause of a [TitanError], sent as the
// map {"__errorType":"Error","name":…,"message":…,"stack":…}. An empty Stack is
// sent as undefined.
type ErrorCause struct {
	Name    string
	Message string
	Stack   string
}

// Error returns "Name: Message".
func (e *ErrorCause) Error() string {
	if e.Name == "" {
		return e.Message
	}
	return e.Name + ": " + e.Message
}

// ExtraGoCode is the key in [TitanError.Extras] that carries the Go error code
// name between Go peers (several Go codes share one numeric wire code). The
// TypeScript decoder copies extras onto the error object and otherwise ignores
// them, and HTTP error bodies do not include them.
const ExtraGoCode = "goCode"

// ExtraNotRun is the key in [TitanError.Extras] by which a Go peer says
// that the call the error answers was refused before its method ran (the
// server was stopping), so the caller may send it to another instance.
const ExtraNotRun = "notRun"

// TitanError is the Netron structured error (ext 110, NETRON-WIRE.md §10).
//
// On the wire: empty RequestID, CorrelationID, SpanID and TraceID are sent as
// undefined; an empty Stack as null; nil Details and Context as an empty map
// {}; a nil Cause as null, a *TitanError cause as a nested ext 110, an
// *ErrorCause (or any other Go error) as the plain-error map, and any other
// value as itself; nil Extras as null. Timestamp is milliseconds since the
// Unix epoch (a JS number; fractions are dropped on decode).
type TitanError struct {
	Name          string
	Code          int
	Message       string
	Details       any
	Context       any
	Timestamp     int64
	RequestID     string
	CorrelationID string
	SpanID        string
	TraceID       string
	Stack         string
	Cause         any
	Extras        Object
}

// Error returns the message.
func (e *TitanError) Error() string { return e.Message }

// Unwrap returns the cause when it is an error.
func (e *TitanError) Unwrap() error {
	if err, ok := e.Cause.(error); ok {
		return err
	}
	return nil
}

// Category returns the category TypeScript derives from the code: "success",
// "auth", "validation", "rate_limit", "client", "server" or "custom".
func (e *TitanError) Category() string {
	c := e.Code
	switch {
	case c == 401 || c == 403 || c == 407:
		return "auth"
	case c == 422:
		return "validation"
	case c == 429:
		return "rate_limit"
	case c >= 200 && c < 300:
		return "success"
	case c >= 400 && c < 500:
		return "client"
	case c >= 500 && c < 600:
		return "server"
	case c >= 600:
		return "custom"
	}
	return "server"
}

// HTTPStatus returns the code when it is a valid HTTP status (100–599) and
// 500 otherwise.
func (e *TitanError) HTTPStatus() int {
	if e.Code >= 100 && e.Code < 600 {
		return e.Code
	}
	return 500
}

// GoCode returns the Go error code name carried in Extras under
// [ExtraGoCode], or "" when there is none.
func (e *TitanError) GoCode() string {
	v, _ := e.Extras.Get(ExtraGoCode)
	s, _ := v.(string)
	return s
}

// SetGoCode stores the Go error code name in Extras under [ExtraGoCode].
func (e *TitanError) SetGoCode(name string) { e.Extras.Set(ExtraGoCode, name) }

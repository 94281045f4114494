package schema

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// reason says in plain words why a value failed one keyword: what was
// wanted first, then what was found ("want an integer, got a string",
// "want at least 1, got 0"). Keywords without a rewording keep the
// validator's English.
func reason(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = Article(w)
		}
		return "want " + strings.Join(want, " or ") + ", got " + Article(k.Got)
	case *kind.Format:
		r := "want " + formatNoun(k.Want) + ", got " + echo(fmt.Sprint(k.Got))
		if k.Err != nil {
			r += " (" + k.Err.Error() + ")"
		}
		return r
	case *kind.Minimum:
		return "want at least " + ratString(k.Want) + ", got " + ratString(k.Got)
	case *kind.Maximum:
		return "want at most " + ratString(k.Want) + ", got " + ratString(k.Got)
	case *kind.ExclusiveMinimum:
		return "want more than " + ratString(k.Want) + ", got " + ratString(k.Got)
	case *kind.ExclusiveMaximum:
		return "want less than " + ratString(k.Want) + ", got " + ratString(k.Got)
	case *kind.MinLength:
		return fmt.Sprintf("want at least %s, got %d", count(k.Want, "character"), k.Got)
	case *kind.MaxLength:
		return fmt.Sprintf("want at most %s, got %d", count(k.Want, "character"), k.Got)
	case *kind.MinItems:
		return fmt.Sprintf("want at least %s, got %d", count(k.Want, "item"), k.Got)
	case *kind.MaxItems:
		return fmt.Sprintf("want at most %s, got %d", count(k.Want, "item"), k.Got)
	case *kind.FalseSchema:
		return "not allowed here"
	case *kind.Enum:
		return "want " + oneOf(k.Want) + ", got " + jsonText(k.Got)
	case *kind.Pattern:
		if k.Want == DurationPattern {
			return "want a duration such as 500ms, 5s or 1h30m, got " + echo(k.Got)
		}
	}
	return k.LocalizedString(printer)
}

// oneOf lists the values an enum allows: `"a"`, `"a" or "b"`, `one of
// "a", "b" or "c"`.
func oneOf(values []any) string {
	texts := make([]string, len(values))
	for i, v := range values {
		texts[i] = jsonText(v)
	}
	switch len(texts) {
	case 0:
		return "nothing"
	case 1:
		return texts[0]
	case 2:
		return texts[0] + " or " + texts[1]
	}
	return "one of " + strings.Join(texts[:len(texts)-1], ", ") + " or " + texts[len(texts)-1]
}

// jsonText writes a JSON value as a user would type it: a string quoted
// (and cut, see echo), anything else as JSON.
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return echo(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if short, cut := shorten(string(b)); cut {
		return short + "…"
	}
	return string(b)
}

// count says "1 item", "2 items".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// Article puts "a" or "an" before a JSON type name ("an integer", "a
// string"); "null" stays bare.
func Article(typ string) string {
	switch {
	case typ == "null" || typ == "":
		return typ
	case strings.ContainsRune("aeiou", rune(typ[0])):
		return "an " + typ
	}
	return "a " + typ
}

// formatNoun names what a "format" wants.
func formatNoun(format string) string {
	switch format {
	case "email", "idn-email":
		return "an email address"
	case "uuid":
		return "a UUID"
	case "date-time":
		return "a date-time (RFC 3339, such as 2006-01-02T15:04:05Z)"
	case "date":
		return "a date (such as 2006-01-02)"
	case "time":
		return "a time (such as 15:04:05Z)"
	case "uri", "iri":
		return "an absolute URI"
	case "uri-reference", "iri-reference":
		return "a URI reference"
	case "ipv4":
		return "an IPv4 address"
	case "ipv6":
		return "an IPv6 address"
	case "hostname", "idn-hostname":
		return "a hostname"
	case "duration":
		return "an ISO 8601 duration (such as P1DT2H)"
	}
	return "format " + strconv.Quote(format)
}

// echoLimit is the most bytes of a value a reason repeats (see echo).
const echoLimit = 64

// echo quotes a value a reason repeats back, cut to echoLimit bytes (at a
// character boundary, marked with "…"), so that a huge value does not make
// a huge message.
func echo(s string) string {
	if short, cut := shorten(s); cut {
		return strconv.Quote(short) + "…"
	}
	return strconv.Quote(s)
}

// shorten cuts s to echoLimit bytes at a character boundary, and reports
// whether it did.
func shorten(s string) (string, bool) {
	if len(s) <= echoLimit {
		return s, false
	}
	cut := echoLimit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], true
}

// ratString formats a number of a keyword without a trailing ".0" or an
// exponent for everyday values.
func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	s := r.FloatString(6)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

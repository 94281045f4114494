package netron

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"github.com/Masterminds/semver/v3"
)

var serviceName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// ValidateServiceName reports whether name can name a service: letters,
// digits, '_' and '-' only. Dots are refused because the original wire's
// definition-id rule and NATS subjects both forbid them.
func ValidateServiceName(name string) error {
	if !serviceName.MatchString(name) {
		return fmt.Errorf("netron: service name %s: use only letters, digits, '_' and '-'", echo(name))
	}
	return nil
}

// ValidateVersion reports whether v is a service version: semantic
// versioning 2.0 without build metadata ("1.2.3", "2.0.0-rc.1").
func ValidateVersion(v string) error {
	sv, err := semver.StrictNewVersion(v)
	if err != nil {
		return fmt.Errorf("netron: service version %s: not a semantic version (like 1.2.3): %v", echo(v), err)
	}
	if sv.Metadata() != "" {
		return fmt.Errorf("netron: service version %s: build metadata (+%s) is not allowed", echo(v), sv.Metadata())
	}
	return nil
}

// QualifiedName returns "name@version".
func QualifiedName(name, version string) string {
	if version == "" {
		return name
	}
	return name + "@" + version
}

// Target is a parsed service address: "name@1.2.3" (exact), "name@^1.2"
// (a semver range) or "name" (the highest version).
type Target struct {
	// Name is the service name.
	Name string
	// Version is the exact version, or "" for a range or a bare name.
	Version string
	// Range is the version constraint of a range target, or nil.
	Range *semver.Constraints
	// RangeText is the range as written.
	RangeText string
}

// ParseTarget parses "name", "name@version" or "name@range" (any range
// Masterminds/semver understands: "^1.2", "~1.2.3", ">=1, <2", "1.x").
func ParseTarget(s string) (Target, error) {
	name, ver, hasVer := strings.Cut(s, "@")
	if err := ValidateServiceName(name); err != nil {
		return Target{}, fmt.Errorf("netron: target %s: %w", echo(s), err)
	}
	t := Target{Name: name}
	if !hasVer {
		return t, nil
	}
	if ver == "" {
		return Target{}, fmt.Errorf("netron: target %s: empty version after '@'", echo(s))
	}
	if ValidateVersion(ver) == nil {
		t.Version = ver
		return t, nil
	}
	if strings.Contains(ver, "+") {
		return Target{}, fmt.Errorf("netron: target %s: versions have no build metadata (+...)", echo(s))
	}
	c, err := semver.NewConstraint(ver)
	if err != nil {
		return Target{}, fmt.Errorf("netron: target %s: %s is neither a version nor a range: %v", echo(s), echo(ver), err)
	}
	t.Range, t.RangeText = c, ver
	return t, nil
}

// Exact reports whether the target names one version.
func (t Target) Exact() bool { return t.Version != "" }

// String returns the target as it would be written.
func (t Target) String() string {
	switch {
	case t.Version != "":
		return t.Name + "@" + t.Version
	case t.Range != nil:
		return t.Name + "@" + t.RangeText
	}
	return t.Name
}

// Matches reports whether a service version satisfies the target.
func (t Target) Matches(version string) bool {
	switch {
	case t.Version != "":
		return t.Version == version
	case t.Range != nil:
		v, err := semver.NewVersion(version)
		return err == nil && t.Range.Check(v)
	}
	return true
}

// newerVersion reports whether version a has higher precedence than b.
func newerVersion(a, b string) bool {
	va, errA := semver.NewVersion(a)
	vb, errB := semver.NewVersion(b)
	if errA != nil || errB != nil {
		return errB != nil && errA == nil
	}
	return va.GreaterThan(vb)
}

// WireName returns the wire name of a Go method name: lowerCamel, with a
// leading initialism lowered as a whole. "Add" is "add", "GetUserID" is
// "getUserID", "ID" is "id", "HTTPStatus" is "httpStatus", "URLs" is "urls".
// A leading run of upper-case letters is lowered, except that when the run
// is followed by a lower-case letter its last letter starts the next word
// ("HTTPStatus": "HTTP" + "Status"); a trailing "s" after an initialism
// ("URLs", "IDs") is a plural, not a new word.
func WireName(goName string) string {
	r := []rune(goName)
	n := 0
	for n < len(r) && unicode.IsUpper(r[n]) {
		n++
	}
	switch {
	case n == 0:
		return goName
	case n == len(r):
		// all upper case
	case n > 1 && unicode.IsLower(r[n]) && !(r[n] == 's' && (n+1 == len(r) || !unicode.IsLower(r[n+1]))):
		n-- // the last capital starts the next word
	}
	for i := range n {
		r[i] = unicode.ToLower(r[i])
	}
	return string(r)
}

// validMethodName is the wire rule for method names (NETRON-WIRE.md §5.3):
// [A-Za-z_$][A-Za-z0-9_$]*, at most 255 bytes. It runs on every call that
// a gateway hands in and every CALL read, so it is a loop, not a regexp.
func validMethodName[S string | []byte](s S) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	for i := range len(s) {
		switch c := s[i]; {
		case c == '_' || c == '$' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && '0' <= c && c <= '9':
		default:
			return false
		}
	}
	return true
}

// targetCache keeps ParseTarget's answers for the targets a Netron calls
// (a handful), so a call does not parse its target again. It keeps at most
// maxCachedTargets of them: a program calling ever-new targets parses the
// others each time.
type targetCache struct {
	m sync.Map // string -> Target
	n atomic.Int32
}

const maxCachedTargets = 1024

// parse is ParseTarget through the cache; errors are not cached.
func (c *targetCache) parse(s string) (Target, error) {
	if t, ok := c.m.Load(s); ok {
		return t.(Target), nil
	}
	t, err := ParseTarget(s)
	if err == nil && c.n.Load() < maxCachedTargets {
		if _, loaded := c.m.LoadOrStore(s, t); !loaded {
			c.n.Add(1)
		}
	}
	return t, err
}

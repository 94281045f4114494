package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
)

var registry = struct {
	sync.RWMutex
	byScheme map[string]Transport
}{byScheme: map[string]Transport{}}

// Register makes t available for each of its schemes through [Lookup], [Listen] and [Dial].
// Transport packages call it from init. Register panics when t is nil, has no schemes, has a
// scheme that is not a lower-case URL scheme, or claims a scheme that is already registered:
// those are programming errors that must stop the program at start-up. Safe for concurrent use.
func Register(t Transport) {
	if t == nil {
		panic("transport: Register called with a nil Transport")
	}
	schemes := t.Schemes()
	if len(schemes) == 0 {
		panic(fmt.Sprintf("transport: transport %q has no schemes", t.Name()))
	}
	registry.Lock()
	defer registry.Unlock()
	for _, s := range schemes {
		if !validScheme(s) {
			panic(fmt.Sprintf("transport: transport %q has an invalid scheme %q (want lower-case letters, digits, '+', '-', '.')", t.Name(), s))
		}
		if prev, ok := registry.byScheme[s]; ok {
			panic(fmt.Sprintf("transport: scheme %q registered twice (by %q and %q)", s, prev.Name(), t.Name()))
		}
	}
	for _, s := range schemes {
		registry.byScheme[s] = t
	}
}

// validScheme reports whether s is a lower-case URL scheme as in RFC 3986 §3.1.
func validScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}

// Lookup returns the transport registered for scheme (case-insensitive). For an unknown scheme
// the error matches [ErrUnknownScheme] and lists the known schemes. Safe for concurrent use.
func Lookup(scheme string) (Transport, error) {
	scheme = strings.ToLower(scheme)
	registry.RLock()
	t, ok := registry.byScheme[scheme]
	registry.RUnlock()
	if ok {
		return t, nil
	}
	known := Schemes()
	if len(known) == 0 {
		return nil, fmt.Errorf("%w %q: no transport is registered (import a transport package such as transport/tcp)", ErrUnknownScheme, scheme)
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownScheme, scheme, strings.Join(known, ", "))
}

// Schemes returns the registered schemes, sorted. Safe for concurrent use.
func Schemes() []string {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]string, 0, len(registry.byScheme))
	for s := range registry.byScheme {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Listen parses rawURL, validates o and listens with the transport registered for the URL's
// scheme. Each transport documents the address forms it accepts.
func Listen(ctx context.Context, rawURL string, o Options) (Listener, error) {
	t, u, err := resolve(rawURL, o)
	if err != nil {
		return nil, err
	}
	return t.Listen(ctx, u, o)
}

// Dial parses rawURL, validates o and dials with the transport registered for the URL's scheme.
func Dial(ctx context.Context, rawURL string, o Options) (Conn, error) {
	t, u, err := resolve(rawURL, o)
	if err != nil {
		return nil, err
	}
	return t.Dial(ctx, u, o)
}

func resolve(rawURL string, o Options) (Transport, *url.URL, error) {
	if err := o.Validate(); err != nil {
		return nil, nil, err
	}
	u, err := url.Parse(rawURL)
	if err == nil && u.Scheme == "" {
		return nil, nil, fmt.Errorf("transport: address %q has no scheme (want e.g. tcp://127.0.0.1:7070 or unix:///path)", redacted(rawURL))
	}
	var t Transport
	if err == nil {
		t, err = Lookup(u.Scheme)
	}
	if err != nil {
		if looksLikeHostPort(rawURL) { // "localhost:7070" parses as scheme "localhost"
			return nil, nil, fmt.Errorf("transport: address %q has no scheme (want e.g. tcp://%s)", rawURL, rawURL)
		}
		var ue *url.Error
		if errors.As(err, &ue) { // its message repeats the address, password included
			err = ue.Err
		}
		return nil, nil, fmt.Errorf("transport: address %q: %w", redacted(rawURL), err)
	}
	return t, u, nil
}

// redacted returns rawURL with the password of its user info replaced by "xxxxx", as
// [url.URL.Redacted] does, also when rawURL does not parse: for error messages.
func redacted(rawURL string) string {
	i := strings.Index(rawURL, "//")
	if i < 0 || i > 0 && (rawURL[i-1] != ':' || strings.ContainsAny(rawURL[:i-1], "/?#")) {
		return rawURL // no authority
	}
	auth := rawURL[i+2:]
	if j := strings.IndexAny(auth, "/?#"); j >= 0 {
		auth = auth[:j]
	}
	at := strings.LastIndex(auth, "@")
	colon := strings.Index(auth[:max(at, 0)], ":")
	if at < 0 || colon < 0 {
		return rawURL // no password
	}
	return rawURL[:i+2+colon+1] + "xxxxx" + rawURL[i+2+at:]
}

// looksLikeHostPort reports whether s is host:port with a numeric port, not a URL.
func looksLikeHostPort(s string) bool {
	if strings.Contains(s, "/") {
		return false
	}
	_, port, err := net.SplitHostPort(s)
	if err != nil || port == "" {
		return false
	}
	for _, c := range []byte(port) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

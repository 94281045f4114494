package netron

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// Bounds of what a not-found message repeats and lists, so that a huge
// unknown name, or a server with many services, does not make a huge
// message.
const (
	// EchoLimit is the most bytes of an unknown name a message repeats;
	// a longer name is cut there and marked with "…".
	EchoLimit = 64
	// ListLimit is the most names a not-found message lists; the rest are
	// counted ("and 5 more").
	ListLimit = 20
)

// clip cuts s to EchoLimit bytes at a character boundary, marked with "…".
func clip(s string) string {
	if len(s) <= EchoLimit {
		return s
	}
	cut := EchoLimit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// echo quotes a name a message repeats, clipped ("\"nosuch\"").
func echo(s string) string {
	if len(s) <= EchoLimit {
		return strconv.Quote(s)
	}
	c := clip(s)
	return strconv.Quote(c[:len(c)-len("…")]) + "…"
}

// listNames joins names for a message, the first ListLimit of them, the
// rest counted: "add, div, sub", "a1, …, a20, and 5 more".
func listNames(names []string) string {
	if len(names) <= ListLimit {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:ListLimit], ", ") + fmt.Sprintf(", and %d more", len(names)-ListLimit)
}

// namesValue is names as a details value, at most ListLimit of them.
func namesValue(names []string) []any {
	out := make([]any, 0, min(len(names), ListLimit))
	for _, n := range names[:min(len(names), ListLimit)] {
		out = append(out, n)
	}
	return out
}

// MethodNotFound returns the not_found error of a call to a method that a
// service does not have, listing the methods it has:
//
//	service calculator@1.0.0 has no method "nosuch" (it has: add, div, sub)
//
// service is the qualified name, have the wire names of its public
// methods. Go peers get this message whatever the path (a call over any
// transport, the HTTP gateway, titan call, Bind); the unknown name is
// repeated up to [EchoLimit] bytes and at most [ListLimit] methods are
// listed. The details hold resource "Method", the service, the method and
// the methods listed.
func MethodNotFound(service, method string, have []string) *Error {
	return NewError(CodeNotFound, fmt.Errorf("service %s has no method %s (it has: %s)", service, echo(method), listNames(have))).
		WithDetails(protocol.Object{
			{Key: "resource", Value: "Method"}, {Key: "service", Value: service},
			{Key: "method", Value: clip(method)}, {Key: "available", Value: namesValue(have)},
		})
}

// ServiceNotFound returns the not_found error of a call or lookup whose
// target (a qualified name, a range or a bare name) matches no service,
// listing the services there are:
//
//	no service matches "users@^2" (the server has: calculator@1.0.0, users@1.0.0)
//
// have are qualified names; with none the message ends "(the server has
// no services)". The limits and the Go peers are those of
// [MethodNotFound]; the details hold resource "Service", the target and
// the services listed.
func ServiceNotFound(target string, have []string) *Error {
	list := "the server has no services"
	if len(have) > 0 {
		list = "the server has: " + listNames(have)
	}
	return NewError(CodeNotFound, fmt.Errorf("no service matches %s (%s)", echo(target), list)).
		WithDetails(protocol.Object{
			{Key: "resource", Value: "Service"}, {Key: "id", Value: clip(target)},
			{Key: "available", Value: namesValue(have)},
		})
}

// exposedServices returns the qualified names of the services reachable
// through listeners of scheme, sorted ("" reaches them all).
func (n *Netron) exposedServices(scheme string) []string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	var out []string
	for _, q := range sortedServiceNames(n.services) {
		if n.services[q].exposedOn(scheme) {
			out = append(out, q)
		}
	}
	return out
}

// visibleServices returns the qualified names of the services reachable
// through listeners of scheme of which the caller in ctx may call a
// method, sorted.
func (n *Netron) visibleServices(ctx context.Context, scheme string) []string {
	if n.access == nil {
		return n.exposedServices(scheme)
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	var out []string
	for _, q := range sortedServiceNames(n.services) {
		if s := n.services[q]; s.exposedOn(scheme) && n.anyVisible(ctx, s) {
			out = append(out, q)
		}
	}
	return out
}

// titanPeer reports whether the peer's current connection speaks Titan's
// extension: a Go peer, which gets Titan's messages rather than the
// TypeScript original's.
func (p *Peer) titanPeer() bool {
	c := p.cur.Load()
	return c != nil && c.ext.Load()
}

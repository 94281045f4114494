package nats

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// DefaultPrefix is the first token of every subject Titan uses on NATS.
const DefaultPrefix = "titan"

// Headers of the messages Titan exchanges over NATS (see the package
// documentation).
const (
	// HeaderInbox is the caller's inbox prefix: stream items go to
	// <inbox>.s, and it scopes call and stream ids on the instance.
	HeaderInbox = "Titan-Inbox"
	// HeaderCall is the caller's id of the call (decimal), for cancel.
	HeaderCall = "Titan-Call"
	// HeaderTimeout is the caller's remaining time in milliseconds, a
	// whole number from 0 (0 is as if absent); one beyond what a time.Duration
	// holds (about 292 years) is taken as that.
	HeaderTimeout = "Titan-Timeout"
	// HeaderMetadata is the call metadata, a JSON object of strings.
	HeaderMetadata = "Titan-Metadata"
	// HeaderCaller is the caller's Netron id: the peer address its calls
	// are served under (nats://<id>), and the caller whose share of a
	// service's call slots and waiting line they take (see Limits in the
	// package doc). It is not authenticated.
	HeaderCaller = "Titan-Caller"
	// HeaderStream is the stream id the caller assigned to the call, used
	// if the method streams; on control messages, the stream addressed.
	HeaderStream = "Titan-Stream"
	// HeaderWindow is the caller's stream credit window.
	HeaderWindow = "Titan-Window"
	// HeaderWindowBytes is the caller's stream window in bytes (the
	// caller's announced Config.StreamWindowBytes); absent, none.
	HeaderWindowBytes = "Titan-Window-Bytes"
	// HeaderTarget is the target a resolve request asks for.
	HeaderTarget = "Titan-Target"
	// HeaderInstance is the id of the instance that answers.
	HeaderInstance = "Titan-Instance"
	// HeaderAck marks an acknowledgement: the instance runs the call.
	HeaderAck = "Titan-Ack"
	// HeaderRetry marks a refusal by a draining instance: the method did
	// not run, and the caller sends the request again.
	HeaderRetry = "Titan-Retry"
	// HeaderOrigin is the Netron id of the process that emitted an event.
	HeaderOrigin = "Titan-Origin"
)

// subjects builds the subjects under one prefix.
type subjects struct{ prefix string }

// VersionToken returns the subject token of a service version: its dots
// become underscores ("1.2.0-rc.1" is "1_2_0-rc_1"). Versions never hold
// '_', so the mapping is reversible.
func VersionToken(version string) string { return strings.ReplaceAll(version, ".", "_") }

func versionOfToken(tok string) string { return strings.ReplaceAll(tok, "_", ".") }

// CallSubject returns the subject of method of name@version under the
// default prefix: titan.rpc.<name>.<version token>.<method>.
func CallSubject(name, version, method string) string {
	return subjects{DefaultPrefix}.call(name, version, method)
}

// call: <prefix>.rpc.<name>.<version token>.<method>.
func (s subjects) call(name, version, method string) string {
	return s.service(name, version) + "." + method
}

// service: <prefix>.rpc.<name>.<version token>, also the queue group of
// the service's instances.
func (s subjects) service(name, version string) string {
	return s.prefix + ".rpc." + name + "." + VersionToken(version)
}

// resolve: <prefix>.resolve.<name>, answered by every instance serving a
// version of name.
func (s subjects) resolve(name string) string { return s.prefix + ".resolve." + name }

// authenticate: <prefix>.authenticate, the authenticate task; also the
// queue group of the gateways answering it.
func (s subjects) authenticate() string { return s.prefix + ".authenticate" }

// instance: <prefix>.inst.<id>, the control subject of one instance;
// <prefix>.inst.<id>.ping|cancel|credit|close.
func (s subjects) instance(id string) string { return s.prefix + ".inst." + id }

// event: <prefix>.events.<topic>.
func (s subjects) event(topic string) string { return s.prefix + ".events." + topic }

// parseCall splits a call subject into the qualified name and the method.
func (s subjects) parseCall(subject string) (qualified, method string, ok bool) {
	rest, found := strings.CutPrefix(subject, s.prefix+".rpc.")
	if !found {
		return "", "", false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return "", "", false
	}
	return parts[0] + "@" + versionOfToken(parts[1]), parts[2], true
}

// validToken reports whether t can be one subject token: not empty, no
// '.', no wildcard, no white space or control character.
func validToken(t string) bool {
	if t == "" {
		return false
	}
	for _, c := range []byte(t) {
		if c <= ' ' || c == '.' || c == '*' || c == '>' || c == 0x7f {
			return false
		}
	}
	return true
}

// validTopic reports whether an event name can be carried in a subject.
func validTopic(topic string) bool {
	for _, t := range strings.Split(topic, ".") {
		if !validToken(t) {
			return false
		}
	}
	return true
}

// config is what a nats:// URL says besides the server address.
type config struct {
	servers string // for nats.Connect
	prefix  string
	// ackTimeout is how long a caller waits for an ack or an answer
	// before it fails the call with unavailable.
	ackTimeout time.Duration
}

// parseURL reads
// nats://[user:pass@]host:port[,host:port...][?prefix=p][&ackTimeout=d].
func parseURL(u *url.URL) (config, error) {
	c := config{prefix: DefaultPrefix, ackTimeout: DefaultAckTimeout}
	q := u.Query()
	for k := range q {
		if k != "prefix" && k != "ackTimeout" {
			return c, fmt.Errorf("natstransport: %s: unknown query parameter %q (known: prefix, ackTimeout)", shown(u), k)
		}
	}
	if ps, ok := q["prefix"]; ok {
		p := ps[0]
		if p == "" {
			return c, fmt.Errorf("natstransport: %s: prefix is empty (leave it out for the default %q)", shown(u), DefaultPrefix)
		}
		if !validTopic(p) {
			return c, fmt.Errorf("natstransport: %s: prefix %q is not a subject", shown(u), p)
		}
		c.prefix = p
	}
	if s, ok := q["ackTimeout"]; ok {
		d, err := time.ParseDuration(s[0])
		if err != nil || d <= 0 {
			return c, fmt.Errorf("natstransport: %s: ackTimeout=%q: want a positive duration such as 1s", shown(u), s[0])
		}
		c.ackTimeout = d
	}
	if u.Host == "" {
		return c, fmt.Errorf("natstransport: %s: no server address (want nats://host:4222)", shown(u))
	}
	v := *u
	v.RawQuery, v.Path, v.RawPath, v.Fragment = "", "", "", ""
	c.servers = v.String()
	return c, nil
}

// shown is u for errors and logs: without its user information, a
// password or a token in the user's place (nats://token@host).
func shown(u *url.URL) string {
	v := *u
	v.User = nil
	return v.String()
}

// qualifiedParts splits an exact qualified name.
func qualifiedParts(q string) (name, version string, ok bool) {
	t, err := netron.ParseTarget(q)
	if err != nil || !t.Exact() {
		return "", "", false
	}
	return t.Name, t.Version, true
}
